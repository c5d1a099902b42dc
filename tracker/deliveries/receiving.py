"""The school's side of a delivery: what is coming, confirming what was received (with the
receipt its phone signs, static/js/receipt.js), and the phones that sign for it.

The page works offline as a count's page does: the service worker keeps its last copy, the
confirmation waits in the phone's queue, and the signed receipt is shown as a QR for the
agent's phone to scan.
"""

import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from tracker.auth.permissions import can, requires
from tracker.deliveries import receipts
from tracker.deliveries.words import ITEM_STATUS_LABELS
from tracker.errors import ValidationFailed
from tracker.forms import Form
from tracker.i18n import gettext as _
from tracker.qr import qr_svg
from tracker.web import labeller, run_service, template_helpers

bp = Blueprint("receiving", __name__)
template_helpers(
    proof_label=labeller(receipts.PROOFS),
    school_said_label=labeller(receipts.SCHOOL_SAID_LABELS),
    receipt_refusal_label=labeller(receipts.REFUSALS),
    difference_text=receipts.difference_text,
    receipt_differences=receipts.differences,
    proof_of=receipts.proof_of,
    school_phones=lambda school_id: receipts.keys_of_staff(school_id, active_only=False),
)


class ReceiptForm(Form):
    pass


def _said(delivery, form) -> tuple[set[int], set[int]]:
    received, damaged = set(), set()
    for item in receipts.listed(delivery):
        word = form.get(f"said-{item.device_id}", "missing")
        if word == "received":
            received.add(item.device_id)
        elif word == "damaged":
            damaged.add(item.device_id)
        elif word != "missing":
            raise ValidationFailed(_("Choose received, damaged or not received for each tablet."))
    return received, damaged


@bp.route("/my-school/deliveries/<int:delivery_id>", methods=["GET", "POST"])
@requires("school.home")
def receive(delivery_id: int):
    """A delivery to the school: its tablets, and the school's own receipt of them."""
    delivery = receipts.incoming_one(current_user, delivery_id)
    form = ReceiptForm()
    may_confirm = can(current_user, "receipts.confirm") and delivery.receipt is None
    if may_confirm and form.validate_on_submit():
        lines = [line.strip() for line in request.form.get("extras", "").splitlines()]

        def confirm():
            received, damaged = _said(delivery, request.form)
            return receipts.confirm_receipt(
                current_user,
                delivery.id,
                received=received,
                damaged=damaged,
                extras=[line for line in lines if line][: receipts.MAX_EXTRAS],
                notes=request.form.get("notes", "")[:500],
            )

        if run_service(form, confirm) is not None:
            return redirect(url_for("receiving.receive", delivery_id=delivery.id))
    receipt = delivery.receipt
    return render_template(
        "deliveries/receive.html",
        delivery=delivery,
        receipt=receipt,
        items=receipts.listed(delivery),
        tablets_json=json.dumps(receipts.listed_json(delivery)),
        form=form if may_confirm else None,
        item_status_label=labeller(ITEM_STATUS_LABELS),
        differences=receipts.differences(delivery),
        # A receipt signed on a phone, as its QR: the agent may scan it here again. The SVG
        # is ours: rectangles only, drawn from a receipt checked against its pattern.
        receipt_qr=Markup(qr_svg(receipt.signed_text).decode())  # noqa: S704
        if receipt is not None and receipt.signed_text and delivery.status == "dispatched"
        else None,
    )


@bp.route("/phones/<int:key_id>/revoke", methods=["POST"])
@requires("receipts.revoke")
def revoke_phone(key_id: int):
    """A lost phone: its receipts are refused from now on."""
    receipts.key_in_reach(current_user, key_id)  # another's phone: 404
    form = ReceiptForm()
    back = request.form.get("back", "")
    if form.validate_on_submit() and run_service(
        None, lambda: receipts.revoke_key(current_user, key_id)
    ):
        flash(_("The phone is revoked: the receipts it signs are refused from now on."), "success")
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect(url_for("dashboard.my_school"))
