"""Delivery pages: the list (an agent's own, grouped by day), planning from a plan, the
delivery page with its scan loop and hand-over, and the documents (note, receipt, images)."""

import base64
from datetime import timedelta

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user

from tracker.allocations.models import AllocationPlan
from tracker.auth.permissions import can, requires
from tracker.database import as_id
from tracker.deliveries import codes, documents, handover, queries, scans, services, states
from tracker.deliveries.forms import (
    ActionForm,
    EditDeliveryForm,
    HandoverForm,
    PlanDeliveriesForm,
    ScanForm,
)
from tracker.deliveries.media import MAX_PHOTO_BYTES, clean_photo
from tracker.deliveries.models import UNDER_WAY, Delivery
from tracker.deliveries.queries import agent_choices
from tracker.deliveries.words import (
    DELIVERY_STATUS_LABELS,
    ITEM_STATUS_LABELS,
    MISSING_REASON_LABELS,
    discrepancy_text,
)
from tracker.errors import DomainError, RequestBudgetSpent, ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import ngettext
from tracker.schools.models import School
from tracker.schools.reach import my_reach
from tracker.timezone import local_today, read_day
from tracker.transaction import transaction
from tracker.web import labeller, run_service, template_helpers, whole_number

bp = Blueprint("deliveries", __name__, url_prefix="/deliveries")
# The words templates show for this feature's codes.
template_helpers(
    delivery_status_label=labeller(DELIVERY_STATUS_LABELS),
    item_status_label=labeller(ITEM_STATUS_LABELS),
    discrepancy_text=discrepancy_text,
    delivery_expects_code=codes.expects_code,
    handover_confirmation_label=labeller(codes.CONFIRMATIONS),
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/")
@requires("deliveries.read")
def index():
    status = request.args.get("status", "")
    if status not in DELIVERY_STATUS_LABELS:
        status = ""
    plan_id = request.args.get("plan", type=whole_number)
    filters = services.DeliveryFilters(
        status=status,
        plan_id=plan_id,
        agent_id=request.args.get("agent", type=whole_number),
        school=request.args.get("school", "")[:200],
        region=request.args.get("region", "")[:100],
        planned_from=_day(request.args.get("from")),
        planned_to=_day(request.args.get("to")),
        reference=parse_reference(request.args.get("ref", "")),
    )
    rows = db.session.scalars(
        services.deliveries_query(current_user, filters=filters).limit(500)
    ).all()
    counts = queries.item_counts([d.id for d in rows])
    today = local_today()
    groups = None
    if not can(current_user, "deliveries.read_all") and not status:
        groups = queries.group_by_day(rows, today)
    return render_template(
        "deliveries/index.html",
        rows=rows,
        groups=groups,
        counts=counts,
        status=status,
        plan_id=plan_id,
        filters=filters,
        agents=agent_choices(_("Every agent"), my_reach())
        if can(current_user, "deliveries.read_all")
        else [],
        # A list, not a lazy result: a template that leaves it unread (a field agent's page
        # shows no region filter) kept its SQLite statement open, so the connection's stale
        # read snapshot refused the next write on it ("database is busy") until the
        # garbage collector freed it.
        regions=db.session.scalars(
            sa.select(School.region)
            .where(my_reach().school_rows_clause())
            .distinct()
            .order_by(School.region)
        ).all(),
        today=today,
        statuses=DELIVERY_STATUS_LABELS,
    )


def _day(text: str | None):
    """A day typed as the reader writes it (or yyyy-mm-dd), or nothing (a bad one is
    ignored, not a 500)."""
    try:
        return read_day(text[:40]) if text else None
    except ValueError:
        return None


def parse_reference(text: str) -> int | None:
    """DEL-00004, del 4 or 4: the delivery's number."""
    match = services.DELIVERY_REFERENCE.match(text or "")
    return int(match.group(1)) if match else None


@bp.route("/new", methods=["GET", "POST"])
@requires("deliveries.create")
def create():
    plan_id = request.args.get("plan", type=whole_number)
    if plan_id is None:
        flash(_("Deliveries are planned from an approved plan."))
        return redirect(url_for("plans.index"))
    plan = db.get_or_404(AllocationPlan, plan_id)
    form = PlanDeliveriesForm()
    form.assigned_to_id.choices = agent_choices(_("Nobody yet"), my_reach())
    if request.method == "GET":
        form.planned_on.data = local_today() + timedelta(days=1)
    waiting = services.waiting_devices(plan.id)
    schools = queries.schools_by_id(list(waiting))
    if form.validate_on_submit():
        chosen = [n for n in map(as_id, request.form.getlist("school")) if n is not None]
        made = run_service(
            form,
            lambda: services.create_deliveries(
                plan.id,
                actor=current_user,
                assigned_to_id=form.assigned_to_id.data or None,
                planned_on=form.planned_on.data,
                school_ids=chosen or None,
                at_most=form.at_most.data,
            ),
        )
        if made is not None:
            flash(
                ngettext("%(num)s delivery planned.", "%(num)s deliveries planned.", len(made)),
                "success",
            )
            return redirect(url_for("deliveries.index", plan=plan.id))
    return render_template(
        "deliveries/new.html", form=form, plan=plan, waiting=waiting, schools=schools
    )


def _page(delivery_id: int, *, whole: bool = False, lines: bool = True) -> Delivery:
    """The delivery if the user may see it, else 404; `whole` for what lists its tablets."""
    try:
        return services.delivery_for(current_user, delivery_id, whole=whole, lines=lines)
    except DomainError:
        abort(404)


def _acting(delivery_id: int) -> Delivery:
    delivery = _page(delivery_id)
    if not states.may_act(current_user, delivery):
        abort(403)
    return delivery


@bp.route("/<int:delivery_id>")
@requires("deliveries.read")
def detail(delivery_id):
    delivery = _page(delivery_id, whole=True, lines=False)
    lines = queries.delivery_lines(delivery.id)
    may_act = states.may_act(current_user, delivery)
    # Forms only for who can still act on it: a manager, or a finished delivery, has none.
    acting = may_act and delivery.status in UNDER_WAY
    correcting = can(current_user, "deliveries.correct", delivery)
    edit = None
    if can(current_user, "deliveries.edit", delivery):
        edit = EditDeliveryForm(obj=delivery)
        edit.assigned_to_id.choices = agent_choices(_("Nobody yet"), my_reach())
        edit.assigned_to_id.data = delivery.assigned_to_id or 0
    return render_template(
        "deliveries/detail.html",
        delivery=delivery,
        lines=lines,
        counts=scans.counts(delivery, (line.status for line in lines)),
        may_act=may_act,
        # Before it leaves, a box counts what is packed; on the road, what is scanned at the
        # school; once handed over, what was and was not (nothing is "still to scan").
        counting="packed"
        if delivery.status == "planned"
        else "handed"
        if delivery.delivered_at
        else "scanned",
        scanned_ids={line.device_id for line in lines if line.status == "scanned"},
        packed_ids={line.device_id for line in lines if line.status == "packed"},
        scan=ScanForm() if acting else None,
        action=ActionForm() if acting or correcting else None,
        correcting=correcting,
        outcomes={code: ITEM_STATUS_LABELS[code] for code in handover.CORRECTIONS},
        correctable_ids={line.device_id for line in lines if line.status in handover.CORRECTIONS},
        edit=edit,
        handover=HandoverForm() if acting and delivery.status == "dispatched" else None,
        reasons=MISSING_REASON_LABELS,
        code_sendings=codes.code_sendings(delivery.id)
        if can(current_user, "deliveries.resend_code")
        else [],
    )


@bp.route("/<int:delivery_id>/scan", methods=["POST"])
@requires("deliveries.act")
def scan(delivery_id):
    """One scan from the scan box or the camera: JSON for the page's script, else a reload."""
    delivery = _acting(delivery_id)
    form = ScanForm()
    wants_json = request.accept_mimetypes.best == "application/json"
    if not form.validate_on_submit():
        message = _("Scan or type a code.")
        if wants_json:
            return jsonify(ok=False, kind="refused", message=message), 400
        flash(message, "error")
        return redirect(url_for("deliveries.detail", delivery_id=delivery.id))
    try:
        with transaction():
            if can(current_user, "deliveries.pack", delivery):
                result = services.pack_scan(delivery.id, form.code.data, current_user)
            else:
                result = handover.field_scan(delivery.id, form.code.data, current_user)
    except DomainError as error:
        if wants_json:
            return jsonify(ok=False, kind="refused", message=str(error)), error.status_code
        flash(str(error), "error")
        return redirect(url_for("deliveries.detail", delivery_id=delivery.id))
    if wants_json:
        return jsonify(result.as_json())
    flash(result.message, "success" if result.ok else "error")
    return redirect(url_for("deliveries.detail", delivery_id=delivery.id) + "#scan")


@bp.route(
    "/<int:delivery_id>/<any('finish-packing', dispatch, cancel, fail):action>", methods=["POST"]
)
@requires("deliveries.act")
def act(delivery_id, action):
    delivery = _acting(delivery_id)
    if not can(current_user, f"deliveries.{action.replace('-', '_')}"):
        abort(403)
    form = ActionForm()
    if form.validate_on_submit():
        reason = form.reason.data or ""
        calls = {
            "finish-packing": lambda: services.finish_packing(delivery.id, current_user),
            "dispatch": lambda: services.dispatch(delivery.id, current_user),
            "cancel": lambda: services.cancel_delivery(delivery.id, current_user, reason),
            "fail": lambda: handover.fail_delivery(delivery.id, current_user, reason),
        }
        done = run_service(None, calls[action])
        if done is not None:
            flash(_done(action, done), "success")
    return redirect(url_for("deliveries.detail", delivery_id=delivery.id))


def _done(action: str, delivery: Delivery) -> str:
    """What a user reads after an action on a delivery: what it did, not "done"."""
    ref = delivery.reference
    if action == "finish-packing":
        n = scans.counts(delivery)["packed"]
        return ngettext(
            "%(ref)s is packed: %(num)s tablet in the box. Dispatch it when it leaves.",
            "%(ref)s is packed: %(num)s tablets in the box. Dispatch it when it leaves.",
            n,
            ref=ref,
        )
    if action == "dispatch":
        return _("%(ref)s is on the road: the field agent can scan it at the school.", ref=ref)
    if action == "cancel":
        return _("%(ref)s is cancelled; its tablets stay reserved for the school.", ref=ref)
    return _(
        "%(ref)s is recorded as failed; its tablets are back, reserved for the school.", ref=ref
    )


@bp.route("/<int:delivery_id>/items/<int:device_id>/unpack", methods=["POST"])
@requires("deliveries.pack")
def unpack(delivery_id, device_id):
    """A tablet scanned into the box by mistake comes out again, before dispatch."""
    delivery = _acting(delivery_id)
    if ActionForm().validate_on_submit():
        device = run_service(None, lambda: services.unpack(delivery.id, device_id, current_user))
        if device is not None:
            flash(
                _(
                    "%(tag)s is out of the box; it stays reserved for the school.",
                    tag=device.asset_tag,
                ),
                "success",
            )
    return redirect(url_for("deliveries.detail", delivery_id=delivery.id) + "#items")


@bp.route("/<int:delivery_id>/items/<int:device_id>/correct", methods=["POST"])
@requires("deliveries.correct")
def correct(delivery_id, device_id):
    """The office corrects one tablet of a confirmed hand-over, with the reason."""
    delivery = _acting(delivery_id)
    form = ActionForm()
    if form.validate_on_submit():
        outcome = request.form.get("outcome", "")
        reason = form.reason.data or ""
        done = run_service(
            None,
            lambda: handover.correct_handover(
                delivery.id, device_id, outcome, current_user, reason
            ),
        )
        if done is not None:
            flash(_("%(ref)s: the hand-over is corrected.", ref=delivery.reference), "success")
    return redirect(url_for("deliveries.detail", delivery_id=delivery.id) + "#items")


@bp.route("/<int:delivery_id>/edit", methods=["POST"])
@requires("deliveries.edit")
def edit(delivery_id):
    delivery = _acting(delivery_id)
    form = EditDeliveryForm()
    form.assigned_to_id.choices = agent_choices(_("Nobody yet"), my_reach())
    if form.validate_on_submit():
        done = run_service(
            None,
            lambda: services.update_delivery(
                delivery.id,
                actor=current_user,
                assigned_to_id=form.assigned_to_id.data or None,
                planned_on=form.planned_on.data,
            ),
        )
        if done is not None:
            flash(_("%(ref)s: saved.", ref=delivery.reference), "success")
    return redirect(url_for("deliveries.detail", delivery_id=delivery.id))


def _kept_photo(form, photo) -> str:
    """A refused hand-over's photo, made small, for the page to carry to the retry (none
    when the photo itself was what was wrong)."""
    if not photo or form.photo.errors or len(photo) > MAX_PHOTO_BYTES * 4 // 3 + 100:
        return ""
    try:
        return "data:image/jpeg;base64," + base64.b64encode(clean_photo(photo)).decode()
    except RequestBudgetSpent:
        # The refused try already decoded a large photo: a JPEG as it came is kept (it is
        # decoded and made small again when the retry is saved).
        if isinstance(photo, bytes) and photo.startswith(b"\xff\xd8\xff"):
            return "data:image/jpeg;base64," + base64.b64encode(photo).decode()
        return ""
    except ValidationFailed:
        return ""


@bp.route("/<int:delivery_id>/handover", methods=["POST"])
@requires("deliveries.act")
def confirm(delivery_id):
    delivery = _acting(delivery_id)
    form = HandoverForm()
    reasons = {
        as_id(key.removeprefix("reason-")): value
        for key, value in request.form.items()
        if key.startswith("reason-") and as_id(key.removeprefix("reason-")) and value
    }
    upload = form.photo.data if form.is_submitted() else None
    photo = upload.read() if upload and upload.filename else form.photo_kept.data or None
    if form.validate_on_submit():
        done = run_service(
            form,
            lambda: handover.confirm_handover(
                delivery.id,
                actor=current_user,
                recipient_name=form.recipient_name.data,
                recipient_role=form.recipient_role.data,
                signature=form.signature.data or "",
                photo=photo,
                latitude=form.latitude.data or None,
                longitude=form.longitude.data or None,
                accuracy=form.accuracy.data or None,
                notes=form.notes.data or "",
                reasons=reasons,
                school_code=form.school_code.data or "",
                no_code_reason=form.no_code_reason.data or "",
            ),
        )
        if done is not None:
            flash(_("Hand-over recorded for %(ref)s.", ref=delivery.reference), "success")
            return redirect(url_for("deliveries.detail", delivery_id=delivery.id))
    # Only a photo this server made goes back into the page, whatever was sent.
    form.photo_kept.data = _kept_photo(form, photo)
    lines = queries.delivery_lines(delivery.id)
    return (
        render_template(
            "deliveries/detail.html",
            delivery=delivery,
            lines=lines,
            counts=scans.counts(delivery),
            scanned_ids={line.device_id for line in lines if line.status == "scanned"},
            may_act=True,
            counting="scanned",
            scan=ScanForm(),
            action=ActionForm(),
            edit=None,
            handover=form,
            reasons=MISSING_REASON_LABELS,
            chosen={key: value for key, value in reasons.items() if value in MISSING_REASON_LABELS},
        ),
        422,
    )


@bp.route("/<int:delivery_id>/resend-code", methods=["POST"])
@requires("deliveries.resend_code")
def resend_code(delivery_id):
    """A new code for the school, by SMS; the old one stops working."""
    delivery = _page(delivery_id)
    form = ActionForm()
    why = (form.reason.data or "") if form.validate_on_submit() else ""
    sent = run_service(None, lambda: services.resend_code(delivery.id, current_user, why))
    if sent:
        flash(
            _("A new code is on its way to the school by SMS; the old one no longer works."),
            "success",
        )
    elif sent is not None:
        flash(
            _("The school has no phone number: no code can be sent. Add one on its page."), "error"
        )
    return redirect(url_for("deliveries.detail", delivery_id=delivery.id))


@bp.route("/<int:delivery_id>/<any(signature, photo):kind>")
@requires("deliveries.read")
def image(delivery_id, kind):
    delivery = _page(delivery_id)
    data = delivery.signature_png if kind == "signature" else delivery.photo_jpeg
    if not data:
        abort(404)
    mimetype = "image/png" if kind == "signature" else "image/jpeg"
    response = send_file(documents.as_file(data), mimetype=mimetype)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.route("/<int:delivery_id>/<any(note, receipt):kind>.pdf")
@requires("deliveries.read")
def pdf(delivery_id, kind):
    delivery = _page(delivery_id, whole=True)
    if kind == "receipt" and delivery.delivered_at is None:
        abort(404)
    make = documents.delivery_note if kind == "note" else documents.receipt
    name = f"{delivery.reference}-{'bon-de-livraison' if kind == 'note' else 'recu'}.pdf"
    return send_file(
        documents.as_file(make(delivery)),
        mimetype="application/pdf",
        download_name=name,
        as_attachment=False,
    )
