"""Plan pages: list with progress, the proposal form, the plan page and its actions."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from tracker.allocations import queries, services
from tracker.allocations.forms import ActionForm, LineForm, PlanForm
from tracker.allocations.models import Allocation
from tracker.allocations.proposals import reason_text
from tracker.allocations.reservations import pool_size
from tracker.allocations.words import PLAN_ACTION_LABELS, PLAN_STATUS_LABELS
from tracker.auth.permissions import can, requires
from tracker.devices.depots import depot_label, depots_in
from tracker.devices.forms import ReplaceLabelForm
from tracker.donations.forms import donation_choices
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.schools.models import School
from tracker.schools.places import place_name
from tracker.schools.reach import my_reach
from tracker.schools.services import place_names
from tracker.web import labeller, run_service, template_helpers

bp = Blueprint("plans", __name__, url_prefix="/plans")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
swap_bp = Blueprint("swaps", __name__)
# The words templates show for this feature's codes.
template_helpers(
    plan_status_label=labeller(PLAN_STATUS_LABELS),
    plan_action_label=labeller(PLAN_ACTION_LABELS),
    reason_text=reason_text,
)


@bp.route("/")
@requires("plans.read")
def index():
    return render_template("plans/index.html", rows=queries.plan_rows(my_reach()))


@bp.route("/new", methods=["GET", "POST"])
@requires("plans.create")
def create():
    form = PlanForm()
    form.donation_id.choices = donation_choices(_("Any tablet in stock"))
    reach = my_reach()
    form.depot_id.choices = [(depot.id, depot_label(depot)) for depot in depots_in(reach)]
    regions = db.session.scalars(
        sa.select(School.region)
        .where(reach.school_rows_clause())
        .distinct()
        .order_by(School.region)
    )
    form.region.choices = [SelectChoice("", _("All regions"))] + [
        SelectChoice(name, place_name(name)) for name in regions
    ]
    form.province.render_kw = {"list": "province-list", "autocomplete": "off"}
    form.commune.render_kw = {"list": "commune-list", "autocomplete": "off"}
    if form.validate_on_submit():

        def make():
            plan = services.create_plan(
                name=form.name.data,
                donation_id=form.donation_id.data or None,
                actor=current_user,
                notes=form.notes.data or "",
                depot_id=form.depot_id.data or None,
            )
            return services.propose_plan(
                plan.id,
                total=form.total.data,
                school_ids=services.choose_schools(
                    codes=form.codes.data or "",
                    region=form.region.data or "",
                    province=form.province.data or "",
                    commune=form.commune.data or "",
                    cycle=form.cycle.data or "",
                    milieu=form.milieu.data or "",
                    reach=reach,
                ),
                actor=current_user,
                basis=form.basis.data,
                minimum=form.minimum.data or 0,
                maximum=form.maximum.data,
            )

        plan = run_service(form, make)
        if plan:
            if why := services.nothing_proposed(plan):
                flash(_("The proposal gives no tablet. %(why)s", why=why), "error")
            else:
                flash(_("Proposal ready: check the numbers, adjust, then submit it."), "success")
            return redirect(url_for("plans.detail", plan_id=plan.id))
    places = place_names()
    return render_template("plans/new.html", form=form, places=places), 400 if form.errors else 200


@bp.route("/<int:plan_id>")
@requires("plans.read")
def detail(plan_id: int):
    plan = services.get_plan(plan_id)
    # One query for every line with its school (a national plan has 20,000 lines).
    lines = db.session.scalars(
        sa.select(Allocation)
        .join(School, School.id == Allocation.school_id)
        .where(Allocation.plan_id == plan.id)
        .options(sa.orm.contains_eager(Allocation.school))
        .order_by(School.region, School.code)
    ).all()
    return render_template(
        "plans/detail.html",
        plan=plan,
        lines=lines,
        counts=queries.line_counts([plan.id]),
        history=queries.history(plan.id),
        action=ActionForm(formdata=None),
        pool=pool_size(plan),
    )


@bp.route("/<int:plan_id>/quantities", methods=["POST"])
@requires("plans.edit")
def quantities(plan_id: int):
    form = ActionForm()
    if form.validate_on_submit():
        try:
            wanted = {
                int(key[4:]): int(value or 0)
                for key, value in request.form.items()
                if key.startswith("qty-")
            }
        except ValueError:
            flash(_("Quantities must be whole numbers."), "error")
            return redirect(url_for("plans.detail", plan_id=plan_id))
        if run_service(None, lambda: services.set_quantities(plan_id, wanted, current_user)):
            flash(_("Quantities saved."), "success")
    return redirect(url_for("plans.detail", plan_id=plan_id))


@bp.route(
    "/<int:plan_id>/<any(submit, approve, send_back, cancel, close):action>", methods=["POST"]
)
@requires("plans.read")
def act(plan_id: int, action: str):
    if not can(current_user, f"plans.{action}"):
        abort(403)
    form = ActionForm()
    if form.validate_on_submit():
        note = form.note.data or ""
        do = {
            "submit": lambda: services.submit_plan(plan_id, current_user),
            "approve": lambda: services.approve_plan(plan_id, current_user),
            "send_back": lambda: services.send_back(plan_id, current_user, note),
            "cancel": lambda: services.cancel_plan(plan_id, current_user, note),
            "close": lambda: services.close_plan(plan_id, current_user, note),
        }[action]
        done = {
            "submit": _("Plan submitted for approval."),
            "approve": _("Plan approved: its tablets are reserved."),
            "send_back": _("Plan sent back to its author."),
            "cancel": _("Plan cancelled: its reserved tablets are back in stock."),
            "close": _("Plan closed: nothing more goes out under it."),
        }[action]
        if run_service(None, do):
            flash(done, "success")
    return redirect(url_for("plans.detail", plan_id=plan_id))


@bp.route("/<int:plan_id>/lines/<int:school_id>", methods=["POST"])
@requires("plans.change")
def change_line(plan_id: int, school_id: int):
    form = LineForm()
    if form.validate_on_submit() and run_service(
        None, lambda: services.change_quantity(plan_id, school_id, form.quantity.data, current_user)
    ):
        flash(_("Quantity changed; reservations follow."), "success")
    elif form.errors:
        flash(_("Give the quantity as a whole number."), "error")
    return redirect(url_for("plans.detail", plan_id=plan_id))


@swap_bp.route("/devices/<int:device_id>/swap", methods=["POST"])
@requires("plans.change")
def swap_device(device_id: int):
    """A reserved tablet found faulty before dispatch: another one takes its place (asked
    from the device's page; the reservation is this feature's)."""
    form = ReplaceLabelForm()
    if form.validate_on_submit():
        replacement = run_service(
            None, lambda: services.swap_device(device_id, current_user, form.note.data or "")
        )
        if replacement:
            flash(
                _("Reported faulty; %(tag)s is reserved in its place.", tag=replacement.asset_tag),
                "success",
            )
    return redirect(url_for("devices.detail", device_id=device_id))
