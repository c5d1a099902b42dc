"""School pages: searchable list with region/province filters, detail, create and edit."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker.auth.permissions import can, requires
from tracker.extensions import db
from tracker.figures import figure
from tracker.i18n import gettext as _
from tracker.schools import services, staff
from tracker.schools.forms import InviteStaffForm, SchoolForm
from tracker.schools.places import place_name
from tracker.schools.reach import my_reach
from tracker.schools.words import CYCLE_LABELS, SETTING_LABELS
from tracker.web import labeller, run_service, template_helpers

bp = Blueprint("schools", __name__, url_prefix="/schools")
# A region or province in the reader's language.
template_helpers(
    place_name=place_name,
    cycle_label=labeller(CYCLE_LABELS),
    setting_label=labeller(SETTING_LABELS),
)


@bp.route("/")
@requires("schools.read")
def index():
    q = request.args.get("q", "")[:200]
    region = request.args.get("region", "")[:100]
    province = request.args.get("province", "")[:100]
    page = db.paginate(
        services.search_schools(q, region, province, my_reach()),
        per_page=current_app.config["PAGE_SIZE"],
        max_per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    return render_template(
        "schools/index.html",
        page=page,
        q=q,
        region=region,
        province=province,
        regions=services.regions_and_provinces(my_reach()),
    )


@bp.route("/<int:school_id>")
@requires("schools.read")
def detail(school_id: int):
    return _detail(services.get_school(school_id))


def _detail(school, invite_form=None, new_link: str = "", status: int = 200):
    counts = figure("tablets_by_state", school_id=school.id)
    may_invite = can(current_user, "staff.invite")
    return render_template(
        "schools/detail.html",
        school=school,
        counts=counts,
        # Counts only, never names: what a manager may see of the school's loans.
        loan_counts=figure("loan_counts", school.id) if can(current_user, "loans.counts") else None,
        staff=staff.staff_of(school.id) if may_invite else [],
        invite_form=(invite_form or InviteStaffForm()) if may_invite else None,
        new_link=new_link,
    ), status


@bp.route("/<int:school_id>/staff", methods=["POST"])
@requires("staff.invite")
def invite(school_id: int):
    """Invite a head teacher or ICT teacher: the one-time link goes by e-mail and is shown
    here once, to be passed on by hand where e-mail does not reach."""
    school = services.get_school(school_id)
    form = InviteStaffForm()
    if form.validate_on_submit():
        done = run_service(
            form,
            lambda: staff.invite_staff(current_user, school.id, form.email.data, form.name.data),
        )
        if done:
            user, link = done
            if link is None:
                flash(
                    _(
                        "%(email)s already has an account: the school was added to it and "
                        "they were told by e-mail.",
                        email=user.email,
                    ),
                    "success",
                )
                return redirect(url_for("schools.detail", school_id=school.id))
            flash(_("%(email)s is invited: the link went by e-mail.", email=user.email), "success")
            return _detail(school, new_link=link)
    return _detail(school, invite_form=form, status=400)


@bp.route("/<int:school_id>/staff/<int:user_id>/remove", methods=["POST"])
@requires("staff.invite")
def remove_staff(school_id: int, user_id: int):
    user = run_service(None, lambda: staff.remove_staff(current_user, school_id, user_id))
    if user is not None:
        flash(_("%(email)s no longer sees this school.", email=user.email), "success")
    return redirect(url_for("schools.detail", school_id=school_id))


def _values(form: SchoolForm) -> dict:
    return {name: form[name].data for name in services.FIELDS}


@bp.route("/new", methods=["GET", "POST"])
@requires("schools.write")
def create():
    form = SchoolForm()
    if form.validate_on_submit() and (
        school := run_service(form, lambda: services.create_school(my_reach(), **_values(form)))
    ):
        flash(_("School %(code)s added.", code=school.code), "success")
        return redirect(url_for("schools.detail", school_id=school.id))
    return render_template("schools/form.html", form=form, school=None)


@bp.route("/<int:school_id>/edit", methods=["GET", "POST"])
@requires("schools.write")
def edit(school_id: int):
    school = services.get_school(school_id)
    form = SchoolForm(obj=school)
    if form.validate_on_submit() and run_service(
        form, lambda: services.update_school(school.id, my_reach(), **_values(form))
    ):
        flash(_("School %(code)s saved.", code=school.code), "success")
        return redirect(url_for("schools.detail", school_id=school.id))
    return render_template("schools/form.html", form=form, school=school)
