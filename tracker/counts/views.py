"""Count pages: the list and the form that opens one, a count's page (each school's figures,
live), a school's page in a count with its scan loop, a depot's, and closing."""

import sqlalchemy as sa
from flask import (
    Blueprint,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from tracker.auth.permissions import can, requires
from tracker.counts import services
from tracker.counts import states as _states  # noqa: F401  (registers the count's rule)
from tracker.counts.forms import CountActionForm, CountScanForm, OpenCountForm
from tracker.counts.models import Count
from tracker.counts.words import COUNT_STATE_LABELS, SCOPE_LABELS
from tracker.devices.depots import depot_label, depots_in
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import school_name
from tracker.schools.models import School
from tracker.schools.reach import my_reach
from tracker.schools.services import place_names
from tracker.schools.staff import school_in_reach
from tracker.schools.words import CYCLE_LABELS, SETTING_LABELS
from tracker.transaction import committed
from tracker.web import labeller, run_service, template_helpers

bp = Blueprint("counts", __name__, url_prefix="/counts")
template_helpers(
    count_state_label=labeller(COUNT_STATE_LABELS), count_scope_label=labeller(SCOPE_LABELS)
)


def _scope_name(count: Count) -> str:
    """The school, province or region a count covers, as the reader knows it, and the
    cycle and setting it is limited to."""
    name = count.scope_value
    if count.scope == "depot":
        depot = services.depot_of(count)
        return f"{depot.code} {depot_label(depot)}" if depot else ""
    if count.scope == "school" and count.scope_value:
        school = db.session.get(School, int(count.scope_value))
        name = f"{school.code} {school_name(school)}" if school else count.scope_value
    kinds = [
        str(labels[code])
        for labels, code in ((CYCLE_LABELS, count.cycle), (SETTING_LABELS, count.milieu))
        if code
    ]
    return " · ".join([part for part in (name, *kinds) if part])


template_helpers(count_scope_name=_scope_name)


@bp.route("/", methods=["GET", "POST"])
@requires("counts.list")
def index():
    form = OpenCountForm() if can(current_user, "counts.open") else None
    if form is not None and form.validate_on_submit():
        count = run_service(
            form,
            lambda: services.open_count(
                current_user,
                name=form.name.data,
                scope=form.scope.data,
                scope_value=form.scope_value.data,
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
                cycle=form.cycle.data or "",
                milieu=form.milieu.data or "",
            ),
        )
        if count is not None:
            flash(_("Count opened: %(n)s tablets expected.", n=count.expected), "success")
            return redirect(url_for("counts.detail", count_id=count.id))
    counts = db.session.scalars(
        sa.select(Count)
        .where(services.counts_clause(my_reach()))
        .order_by(Count.id.desc())
        .limit(100)
    ).all()
    status = 422 if form is not None and (form.errors or form.form_errors) else 200
    places = place_names() if form is not None else None
    depots = depots_in(my_reach()) if form is not None else []
    return render_template(
        "counts/index.html", counts=counts, form=form, places=places, depots=depots
    ), status


@bp.route("/<int:count_id>")
@requires("counts.list")
def detail(count_id: int):
    count = services.get_count(count_id)
    page = db.paginate(
        services.schools_in(count),
        per_page=services.SCHOOLS_SHOWN,
        max_per_page=services.SCHOOLS_SHOWN,
        error_out=False,
    )
    figures = services.school_figures(count.id, [school.id for school in page.items])
    return render_template(
        "counts/detail.html",
        count=count,
        page=page,
        figures=figures,
        totals=services.totals(count),
        action=CountActionForm(),
        depot=services.depot_of(count),
    )


@bp.route("/<int:count_id>/schools/<int:school_id>", methods=["GET", "POST"])
@requires("counts.school")
def school(count_id: int, school_id: int):
    """A school in a count: its figures and lists, and the scan loop while it is open."""
    count = services.get_count(count_id)
    here = school_in_reach(current_user, school_id)
    if not services.covers(count, here):
        return render_template(
            "error.html", message=_("This count does not cover this school.")
        ), 404
    scanned = _scan_loop(
        lambda form: services.count_scan(
            current_user, count.id, here.id, form.code.data, condition=form.condition.data or None
        ),
        lambda: _school_parts(count, here),
    )
    if not isinstance(scanned, tuple):
        return scanned
    form, answer, status = scanned
    figures = services.school_figures(count.id, [here.id])[here.id]
    return render_template(
        "counts/school.html",
        count=count,
        school=here,
        figures=figures,
        lists=services.school_lines(count.id, here.id, current_user),
        form=form,
        answer=answer,
    ), status


@bp.route("/<int:count_id>/depot", methods=["GET", "POST"])
@requires("counts.list")
def depot(count_id: int):
    """A depot in its count: its figures and lists, and the scan loop while it is open."""
    count = services.get_count(count_id)
    here = services.depot_of(count)
    if here is None or not my_reach().covers_depot(here):
        return render_template("error.html", message=_("This count does not cover a depot.")), 404
    scanned = _scan_loop(
        lambda form: services.depot_scan(
            current_user, count.id, form.code.data, condition=form.condition.data or None
        ),
        lambda: _depot_parts(count),
    )
    if not isinstance(scanned, tuple):
        return scanned
    form, answer, status = scanned
    return render_template(
        "counts/depot.html",
        count=count,
        depot=here,
        figures=services.totals(count),
        lists=services.depot_lines(count, current_user),
        form=form,
        answer=answer,
    ), status


def _scan_loop(scan, parts):
    """A count's scan page, at a school or a depot: a scan posted (answered in JSON with the
    page's redrawn parts, for the page's own script, or as the page), or the parts alone
    after scans kept on the phone were sent. Returns a response to give as it is, or the
    (form, answer, status) tuple the page is drawn with."""
    form = CountScanForm()
    answer = None
    wants_json = request.accept_mimetypes.best == "application/json"
    if request.method == "POST":
        if not can(current_user, "counts.scan"):
            page = render_template("error.html", message=_("Your role does not allow this."))
            return make_response(page, 403)
        if form.validate_on_submit():
            if wants_json:
                try:
                    answer = committed(lambda: scan(form))
                except DomainError as error:
                    return make_response(jsonify(ok=False, message=str(error)), error.status_code)
                return jsonify(
                    ok=answer.ok, message=answer.message, outcome=answer.outcome, **parts()
                )
            answer = run_service(form, lambda: scan(form))
            if answer is not None:
                form = CountScanForm(formdata=None, condition=form.condition.data)
        elif wants_json:
            message = " ".join(sum(form.errors.values(), []))
            return make_response(jsonify(ok=False, message=message), 422)
    elif wants_json:
        # What the page redraws after scans kept on the phone were sent.
        return jsonify(**parts())
    status = 422 if form.errors or form.form_errors or (answer and not answer.ok) else 200
    return form, answer, status


def _depot_parts(count) -> dict:
    """The depot's figures and lists as its page draws them, redrawn after a scan."""
    return {
        "figures": render_template("counts/_figures.html", f=services.totals(count)),
        "lists": render_template(
            "counts/_depot_lists.html",
            count=count,
            lists=services.depot_lines(count, current_user),
        ),
    }


def _school_parts(count, school) -> dict:
    """The school's figures and lists as the page draws them, for the page to redraw in
    place after a scan (the same templates: one place says how they look)."""
    return {
        "figures": render_template(
            "counts/_figures.html", f=services.school_figures(count.id, [school.id])[school.id]
        ),
        "lists": render_template(
            "counts/_lists.html",
            count=count,
            school=school,
            lists=services.school_lines(count.id, school.id, current_user),
        ),
    }


def _act(count_id: int, do, done_message):
    done = run_service(None, lambda: do(current_user, count_id))
    if done is not None:
        flash(done_message(done), "success")
    return redirect(url_for("counts.detail", count_id=count_id))


@bp.route("/<int:count_id>/sightings/<int:extra_id>/accept", methods=["POST"])
@requires("counts.accept_sighting")
def accept_sighting(count_id: int, extra_id: int):
    """The office accepts a tablet seen at a school that was not its to count."""
    extra = run_service(None, lambda: services.accept_sighting(current_user, extra_id, count_id))
    if extra is not None:
        flash(_("%(tag)s: accepted as seen at this school.", tag=extra.code), "success")
        return redirect(url_for("counts.school", count_id=count_id, school_id=extra.school_id))
    return redirect(url_for("counts.detail", count_id=count_id))


@bp.route("/<int:count_id>/close", methods=["POST"])
@requires("counts.close")
def close(count_id: int):
    return _act(
        count_id, services.ask_to_close, lambda _c: _("A manager is asked to confirm the closing.")
    )


@bp.route("/<int:count_id>/confirm", methods=["POST"])
@requires("counts.confirm")
def confirm(count_id: int):
    return _act(
        count_id,
        services.confirm_close,
        lambda count: _("Count closed: %(n)s tablets missing.", n=count.missing),
    )


@bp.route("/<int:count_id>/keep-open", methods=["POST"])
@requires("counts.keep_open")
def keep_open(count_id: int):
    return _act(count_id, services.keep_open, lambda _c: _("The count stays open."))
