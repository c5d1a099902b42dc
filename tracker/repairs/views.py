"""Repair pages: the open and closed cases, a case with what is known of it, its photos,
and how it ended."""

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from tracker.auth.permissions import can, requires
from tracker.deliveries.documents import as_file
from tracker.extensions import db
from tracker.figures import provides
from tracker.i18n import gettext as _
from tracker.repairs import services
from tracker.repairs.forms import CaseForm, CloseCaseForm, PhotoForm, ReportFaultForm
from tracker.repairs.models import RepairPhoto
from tracker.repairs.words import OUTCOME_LABELS
from tracker.schools.reach import my_reach
from tracker.schools.staff import school_in_reach
from tracker.web import labeller, run_service, template_helpers

bp = Blueprint("repairs", __name__, url_prefix="/repairs")
school_bp = Blueprint("faults", __name__)  # at a school: its staff report a fault
template_helpers(repair_outcome_label=labeller(OUTCOME_LABELS))
provides("repair_cases_of")(services.cases_of)


@bp.route("/")
@requires("repairs.read")
def index():
    which = "closed" if request.args.get("list") == "closed" else "open"
    page = db.paginate(
        services.cases(which, my_reach()), per_page=50, max_per_page=50, error_out=False
    )
    return render_template("repairs/index.html", page=page, which=which)


def _page(case, form=None, close=None, photo=None, status=200):
    writer = can(current_user, "repairs.write")
    return render_template(
        "repairs/detail.html",
        case=case,
        form=form or (CaseForm(obj=case) if writer else None),
        close=close or (CloseCaseForm() if writer and case.closed_at is None else None),
        photo=photo or (PhotoForm() if writer else None),
        photos=services.photos_of(case.id),
    ), status


@bp.route("/<int:case_id>", methods=["GET", "POST"])
@requires("repairs.read")
def detail(case_id: int):
    case = services.get_case(case_id)
    if request.method == "GET":
        return _page(case)
    if not can(current_user, "repairs.write"):
        abort(403)
    form = CaseForm()
    if form.validate_on_submit():
        saved = run_service(
            form,
            lambda: services.update_case(
                current_user,
                case.id,
                fault=form.fault.data,
                warranty_claim=form.warranty_claim.data,
                repairer=form.repairer.data,
                repairer_ref=form.repairer_ref.data,
                sent_on=form.sent_on.data,
                returned_on=form.returned_on.data,
                cost=form.cost.data,
            ),
        )
        if saved is not None:
            flash(_("Saved."), "success")
            return redirect(url_for("repairs.detail", case_id=case.id))
    return _page(case, form=form, status=422)


@bp.route("/<int:case_id>/close", methods=["POST"])
@requires("repairs.write")
def close(case_id: int):
    case = services.get_case(case_id)
    form = CloseCaseForm()
    if form.validate_on_submit():
        closed = run_service(
            form,
            lambda: services.close_case(
                current_user, case.id, form.outcome.data, form.replacement.data or ""
            ),
        )
        if closed is not None:
            flash(_("The case is closed: %(how)s.", how=OUTCOME_LABELS[closed.outcome]), "success")
            return redirect(url_for("repairs.detail", case_id=case.id))
    return _page(case, close=form, status=422)


@bp.route("/<int:case_id>/photos", methods=["POST"])
@requires("repairs.write")
def add_photo(case_id: int):
    case = services.get_case(case_id)
    form = PhotoForm()
    if form.validate_on_submit() and form.photo.data:
        added = run_service(
            form, lambda: services.add_photo(current_user, case.id, form.photo.data.read())
        )
        if added is not None:
            return redirect(url_for("repairs.detail", case_id=case.id) + "#photos")
    elif not form.photo.errors:
        form.photo.errors = [_("Choose a photo first.")]
    return _page(case, photo=form, status=422)


@bp.route("/<int:case_id>/photos/<int:photo_id>")
@requires("repairs.read")
def photo(case_id: int, photo_id: int):
    kept = db.session.get(RepairPhoto, photo_id)
    if kept is None or kept.case_id != case_id:
        abort(404)
    response = send_file(as_file(kept.jpeg), mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@school_bp.route("/schools/<int:school_id>/report-fault", methods=["GET", "POST"])
@requires("repairs.report")
def report(school_id: int):
    """A school's desk for a broken tablet: scan it, say what is wrong, add a photo; its
    repair case opens for the office."""
    school = school_in_reach(current_user, school_id)
    form = ReportFaultForm(code=request.args.get("code", "")[:300])
    case = None
    if form.validate_on_submit():
        case = run_service(
            form,
            lambda: services.report_fault(
                current_user,
                school.id,
                form.code.data,
                form.fault.data,
                form.photo.data.read() if form.photo.data else None,
            ),
        )
        if case is not None:
            form = ReportFaultForm(formdata=None)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("repairs/report.html", school=school, form=form, done=case), status
