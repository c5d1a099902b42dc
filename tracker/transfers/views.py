"""Transfer pages: the proposals and the form by hand, a transfer with its approval, and the
scan-out loop at the first school."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from tracker.auth.permissions import can, requires
from tracker.deliveries.queries import agent_choices
from tracker.errors import DomainError, ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.schools.models import School
from tracker.schools.reach import my_reach
from tracker.transaction import committed
from tracker.transfers import services
from tracker.transfers import states as _states  # noqa: F401  (registers the rule)
from tracker.transfers.forms import AssignForm, ScanOutForm, TransferActionForm, TransferForm
from tracker.transfers.words import REASON_LABELS, TRANSFER_STATE_LABELS
from tracker.web import labeller, run_service, template_helpers

bp = Blueprint("transfers", __name__, url_prefix="/transfers")
template_helpers(
    transfer_state_label=labeller(TRANSFER_STATE_LABELS),
    transfer_reason_label=labeller(REASON_LABELS),
)


def _school_by_code(code: str, field: str) -> int:
    school_id = db.session.scalar(
        sa.select(School.id).where(
            School.code == code.strip().upper(), my_reach().school_rows_clause()
        )
    )
    if school_id is None:
        raise ValidationFailed(_("No school has the code %(code)s.", code=code), field=field)
    return school_id


@bp.route("/", methods=["GET", "POST"])
@requires("transfers.read")
def index():
    form = TransferForm() if can(current_user, "transfers.create") else None
    if form is not None and form.validate_on_submit():
        made = run_service(
            form,
            lambda: services.create_transfer(
                current_user,
                _school_by_code(form.from_school.data, "from_school"),
                _school_by_code(form.to_school.data, "to_school"),
                form.quantity.data,
                form.note.data,
            ),
        )
        if made is not None:
            return redirect(url_for("transfers.detail", transfer_id=made.id))
    which = "done" if request.args.get("list") == "done" else "open"
    rows = db.session.scalars(services.transfers(which, current_user).limit(200)).all()
    status = 422 if form is not None and (form.errors or form.form_errors) else 200
    return render_template(
        "transfers/index.html", rows=rows, which=which, form=form, action=TransferActionForm()
    ), status


@bp.route("/propose", methods=["POST"])
@requires("transfers.create")
def propose():
    made = run_service(None, lambda: services.propose_transfers(current_user))
    if made:
        flash(_("Transfers proposed: %(n)s.", n=len(made)), "success")
    elif made is not None:
        flash(services.why_none_proposed(my_reach()), "warning")
    return redirect(url_for("transfers.index"))


@bp.route("/<int:transfer_id>")
@requires("transfers.read")
def detail(transfer_id: int):
    transfer = _visible(transfer_id)
    assign = None
    if can(current_user, "transfers.assign", transfer):
        assign = AssignForm(assigned_to_id=transfer.assigned_to_id or 0)
        assign.assigned_to_id.choices = agent_choices(_("Nobody yet"), my_reach())
    return render_template(
        "transfers/detail.html",
        transfer=transfer,
        assign=assign,
        scanned=services.scanned_out(transfer),
        scan=ScanOutForm(),
        action=TransferActionForm(),
    )


def _visible(transfer_id: int):
    try:
        return services.transfer_for(current_user, transfer_id)
    except DomainError:
        abort(404)


@bp.route("/<int:transfer_id>/assign", methods=["POST"])
@requires("transfers.assign")
def assign(transfer_id: int):
    form = AssignForm()
    form.assigned_to_id.choices = agent_choices(_("Nobody yet"), my_reach())
    if form.validate_on_submit():
        agent_id = form.assigned_to_id.data or None
        return _act(
            transfer_id,
            lambda actor, tid: services.assign(actor, tid, agent_id),
            _("Saved: the agent carries it out."),
        )
    flash(_("Choose an active field agent."), "error")
    return redirect(url_for("transfers.detail", transfer_id=transfer_id))


def _act(transfer_id: int, do, message: str):
    done = run_service(None, lambda: do(current_user, transfer_id))
    if done is not None:
        flash(message, "success")
    return redirect(url_for("transfers.detail", transfer_id=transfer_id))


@bp.route("/<int:transfer_id>/submit", methods=["POST"])
@requires("transfers.submit")
def submit(transfer_id: int):
    return _act(transfer_id, services.submit, _("Submitted: a manager approves it."))


@bp.route("/<int:transfer_id>/approve", methods=["POST"])
@requires("transfers.approve")
def approve(transfer_id: int):
    return _act(transfer_id, services.approve, _("Approved: the tablets can be scanned out."))


@bp.route("/<int:transfer_id>/cancel", methods=["POST"])
@requires("transfers.cancel")
def cancel(transfer_id: int):
    return _act(transfer_id, services.cancel, _("Cancelled."))


@bp.route("/<int:transfer_id>/leave", methods=["POST"])
@requires("transfers.scan_out")
def leave(transfer_id: int):
    _visible(transfer_id)
    done = run_service(None, lambda: services.leave(current_user, transfer_id))
    if done is not None:
        flash(_("On its way: hand it over at the second school."), "success")
        return redirect(url_for("deliveries.detail", delivery_id=done.delivery_id))
    return redirect(url_for("transfers.detail", transfer_id=transfer_id))


@bp.route("/<int:transfer_id>/scan", methods=["POST"])
@requires("transfers.scan_out")
def scan(transfer_id: int):
    """One tablet scanned out at the first school: JSON for a script, else the page again."""
    _visible(transfer_id)
    form = ScanOutForm()
    wants_json = request.accept_mimetypes.best == "application/json"
    if not form.validate_on_submit():
        message = " ".join(sum(form.errors.values(), [])) or _("Scan or type a code.")
        if wants_json:
            return jsonify(ok=False, message=message), 422
        flash(message, "error")
        return redirect(url_for("transfers.detail", transfer_id=transfer_id) + "#scan")
    try:
        device = committed(lambda: services.scan_out(current_user, transfer_id, form.code.data))
    except DomainError as error:
        if wants_json:
            return jsonify(ok=False, message=str(error)), error.status_code
        flash(str(error), "error")
    else:
        message = _("%(tag)s scanned out.", tag=device.asset_tag)
        if wants_json:
            return jsonify(ok=True, message=message)
        flash(message, "success")
    return redirect(url_for("transfers.detail", transfer_id=transfer_id) + "#scan")
