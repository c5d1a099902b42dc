"""At the school: scan each tablet, then the hand-over (who, signature, photo, place, time).

Confirming writes one event per tablet and every state in one transaction: scanned tablets
are delivered; the others are missing (lost), damaged (faulty) or refused (back to
reserved, for the office to deal with). The paper manifest import calls the same service.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from tracker.allocations.services import note_delivery_progress
from tracker.auth.models import User
from tracker.database import utcnow
from tracker.deliveries import codes, notices, receipts
from tracker.deliveries.media import clean_photo, clean_signature
from tracker.deliveries.models import ACTIVE_ITEM_STATUSES, MISSING_REASONS, Delivery, DeliveryItem
from tracker.deliveries.scans import (
    ScanResult,
    counts,
    delivery_item,
    unknown_code,
    why_not_here,
)
from tracker.deliveries.services import get_delivery
from tracker.deliveries.states import require_action
from tracker.deliveries.words import MISSING_REASON_LABELS
from tracker.devices.bulk import move_devices
from tracker.devices.codes import find_device_by_code
from tracker.devices.models import Device
from tracker.devices.services import move_device, seen
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import kept
from tracker.schools.reach import codes_read_by
from tracker.timezone import local

# Codes scanned at the school that named no tablet of the delivery, kept on it for the
# office (at most this many, each cut to this length: what a page and a PDF can show).
MAX_UNEXPECTED = 200
UNEXPECTED_CODE_CHARS = 80
# What happens to a tablet that was on the delivery but not handed over.
OUTCOME_MOVES = {"missing": "reported_lost", "damaged": "reported_faulty", "refused": "recalled"}
ON_BOARD = ("packed", "scanned")


def field_scan(delivery_id: int, code: str, actor: User | None) -> ScanResult:
    """Tick one tablet off at the school, or refuse it with the reason."""
    delivery = get_delivery(delivery_id, lock=True)
    require_action(delivery, "scan_at_school", _("scanned at the school"))
    device = find_device_by_code(code, codes_read_by(actor))  # another office's: unknown
    if device is None:
        return _unexpected(delivery, code.strip()[:60], unknown_code(code), None)
    item = delivery_item(delivery, device)  # one row, not the delivery's whole list
    if item is None or item.status not in ON_BOARD:
        return _unexpected(delivery, device.asset_tag, why_not_here(delivery, device), device)
    if item.status == "scanned":
        return ScanResult(
            True,
            _("%(tag)s was already scanned.", tag=device.asset_tag),
            "again",
            device.asset_tag,
            device.id,
            counts(delivery),
        )
    item.status, item.scanned_at = "scanned", utcnow()
    item.scanned_by_id = actor.id if actor else None
    seen(device)
    db.session.flush()
    return ScanResult(
        True,
        _("%(tag)s is on this delivery.", tag=device.asset_tag),
        "scanned",
        device.asset_tag,
        device.id,
        counts(delivery),
    )


def _unexpected(delivery: Delivery, code: str, message: str, device: Device | None):
    """Refuse a scan and keep it on the delivery's list of unexpected codes (once each)."""
    seen = list(delivery.unexpected or [])
    code = code[:UNEXPECTED_CODE_CHARS]
    room = len(seen) < MAX_UNEXPECTED  # a phone sending junk cannot grow the row forever
    if code and room and all(entry.get("code") != code for entry in seen):
        entry = {"code": code, "reason": kept(message), "at": utcnow().isoformat()}
        if device is not None:
            # What the device was when scanned here: the alerts tell a tablet of another
            # school from one already delivered elsewhere (seen at two schools).
            entry.update(device_id=device.id, status=device.status, school_id=device.school_id)
        seen.append(entry)
        delivery.unexpected = seen  # a new list, so the JSON column is written
    db.session.flush()
    return ScanResult(
        False,
        message,
        "refused",
        device.asset_tag if device else "",
        device.id if device else None,
        counts(delivery),
    )


def _place(latitude, longitude, accuracy):
    if latitude is None and longitude is None:
        return None, None, None
    try:
        lat, lon = float(latitude), float(longitude)
        metres = float(accuracy) if accuracy not in (None, "") else None
    except (TypeError, ValueError, OverflowError) as error:
        raise ValidationFailed(_("The position could not be read."), field="position") from error
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationFailed(_("The position is not on Earth."), field="position")
    if metres is not None and not 0 <= metres <= 100_000:  # NaN fails both comparisons
        raise ValidationFailed(_("The position could not be read."), field="position")
    return lat, lon, metres


@dataclass(frozen=True)
class HandoverProblem:
    """One thing that stops a hand-over: the field it concerns, and the tablet if any."""

    field: str  # recipient_name | recipient_role | signature | reasons | code
    message: str
    device_id: int | None = None


def handover_problems(
    on_board: list[int],
    *,
    tag_of: Callable[[int], str],
    received: set[int],
    reasons: dict[int, str],
    name: str,
    role: str,
    signed: bool,
) -> list[HandoverProblem]:
    """What stops this hand-over, all of it, before anything is written: the one check of
    the screen, the phone and the paper manifest. `on_board` are the ids of the tablets
    still on the delivery; every one is received or has a reason, and at least one is
    received. Pure: it writes nothing and reads only the tags it names (`tag_of`)."""
    problems = []
    if not name:
        problems.append(
            HandoverProblem(
                "recipient_name", _("Write the name of the person who received the tablets.")
            )
        )
    if not role:
        problems.append(
            HandoverProblem("recipient_role", _("Write the role of the person (head teacher, …)."))
        )
    if not signed:
        problems.append(HandoverProblem("signature", _("Ask the recipient to sign on the screen.")))
    choices = ", ".join(str(label) for label in MISSING_REASON_LABELS.values())
    for device_id in on_board:
        if device_id not in received and reasons.get(device_id) not in MISSING_REASONS:
            problems.append(
                HandoverProblem(
                    "reasons",
                    _(
                        "Say why %(tag)s was not handed over (%(choices)s).",
                        tag=tag_of(device_id),
                        choices=choices,
                    ),
                    device_id,
                )
            )
    if not any(device_id in received for device_id in on_board):
        problems.append(
            HandoverProblem(
                "code",
                _("No tablet was handed over: scan them, or record the delivery as failed."),
            )
        )
    return problems


def devices_on(delivery_id: int) -> list[Device]:
    """The tablets still on board a delivery (packed or scanned), in one statement."""
    return list(
        db.session.scalars(
            sa.select(Device)
            .join(DeliveryItem, DeliveryItem.device_id == Device.id)
            .where(DeliveryItem.delivery_id == delivery_id, DeliveryItem.status.in_(ON_BOARD))
        )
    )


def confirm_handover(
    delivery_id: int,
    *,
    actor: User | None,
    recipient_name: str,
    recipient_role: str,
    signature: str | bytes | None = None,
    photo: bytes | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    accuracy: float | None = None,
    notes: str = "",
    reasons: dict[int, str] | None = None,
    received: set[int] | None = None,
    via: str = "screen",
    handed_over_at: datetime | None = None,
    client_time: datetime | None = None,
    recorded_at: datetime | None = None,
    school_code: str | None = None,
    no_code_reason: str = "",
    code_typed_offline: bool = False,
    school_receipt: str = "",
) -> Delivery:
    """Record the hand-over of a dispatched delivery.

    `received` are the tablets handed over (default: those scanned at the school); every
    other tablet on the delivery needs a reason in `reasons` (missing, damaged, refused).
    A signature drawn on the screen is required, except for a paper manifest.
    `handed_over_at` is when it happened (the phone's clock, bounded by the caller);
    `recorded_at` when the server received it. A school's code typed on a phone with no
    network (`code_typed_offline`) is judged here: a wrong one is recorded as not confirmed
    by the school, not refused (deliveries/codes.py). `school_receipt` is the school's
    receipt signed on its phone, as the agent's phone scanned it: checked here, it confirms
    the hand-over as the school's; refused, the hand-over stays recorded without it and the
    reason is kept (deliveries/receipts.py).
    """
    delivery = get_delivery(delivery_id, lock=True)
    require_action(delivery, "hand_over", _("handed over"))
    name, role = (recipient_name or "").strip(), (recipient_role or "").strip()
    on_board = [item for item in delivery.items if item.status in ON_BOARD]
    if received is None:
        received = {item.device_id for item in on_board if item.status == "scanned"}
    reasons = reasons or {}
    # A blank or unreadable drawing is refused here, as no signature at all is below.
    signature_png = clean_signature(signature) if signature else None
    photo_jpeg = clean_photo(photo) if photo else None
    lat, lon, accuracy = _place(latitude, longitude, accuracy)
    items = {item.device_id: item for item in on_board}
    problems = handover_problems(
        list(items),
        tag_of=lambda device_id: items[device_id].device.asset_tag,
        received=received,
        reasons=reasons,
        name=name,
        role=role,
        signed=bool(signature) or via != "screen",
    )
    if problems:
        raise ValidationFailed(problems[0].message, field=problems[0].field)
    recorded_at = recorded_at or utcnow()
    when = handed_over_at or recorded_at
    confirmed, no_code_reason = codes.confirmation(
        delivery,
        school_code,
        no_code_reason,
        via=via,
        typed_offline=code_typed_offline,
        on=local(when).date(),
    )
    outcome = {
        item.device_id: "delivered" if item.device_id in received else reasons[item.device_id]
        for item in on_board
    }
    for item in on_board:
        item.status = outcome[item.device_id]
        if item.status != "delivered":
            item.discrepancy = (reasons.get(item.device_id) or "")[:300]
    db.session.flush()
    common = {
        "delivery_id": delivery.id,
        "client_time": client_time,
        "delivery": delivery.reference,
        "recipient": name,
        "place": [lat, lon] if lat is not None else None,
    }
    delivered = [d for d, result in outcome.items() if result == "delivered"]
    move_devices(delivered, "delivered", actor, **common)
    for reason, move in OUTCOME_MOVES.items():
        ids = [d for d, result in outcome.items() if result == reason]
        if ids:
            move_devices(ids, move, actor, reason=reason, **common)
    delivery = get_delivery(delivery_id)
    delivery.status = "delivered" if len(delivered) == len(on_board) else "partially_delivered"
    delivery.delivered_at, delivery.handover_recorded_at = when, recorded_at
    delivery.delivered_by_id = actor.id if actor else None
    delivery.recipient_name, delivery.recipient_role = name[:120], role[:120]
    delivery.signature_png, delivery.photo_jpeg = signature_png, photo_jpeg
    delivery.latitude, delivery.longitude, delivery.location_accuracy = lat, lon, accuracy
    delivery.notes = (notes or "").strip()
    delivery.handover_via = via
    delivery.handover_confirmation, delivery.no_code_reason = confirmed, no_code_reason
    # The code has done its work: nothing of it is kept once the tablets are handed over.
    delivery.code_sealed = delivery.code_hash = delivery.code_salt = ""
    note_delivery_progress(delivery.plan_id, actor, delivery=delivery.reference)
    db.session.flush()
    if not school_receipt or receipts.carried_receipt(delivery, actor, school_receipt):
        # No receipt carried, or it was refused: the school may have confirmed from its
        # account before the agent's phone synced.
        receipts.match(delivery)
    notices.handover_confirmed(delivery, len(delivered))
    return delivery


# A line of a confirmed hand-over corrected by the office: the move that takes the tablet
# to what really happened, from what was recorded.
CORRECTIONS = {
    "delivered": "corrected_delivered",
    "missing": "reported_lost",
    "damaged": "reported_faulty",
    "refused": "corrected_refused",
}


def correct_handover(
    delivery_id: int, device_id: int, outcome: str, actor: User | None, reason: str
) -> Delivery:
    """The office corrects one tablet of a confirmed hand-over (a tablet ticked delivered
    was not in the box, one said missing was there after all), with the reason. New events
    are written; the history keeps what was recorded first."""
    delivery = get_delivery(delivery_id, lock=True)
    require_action(delivery, "correct", _("corrected"))
    reason = " ".join((reason or "").split())[:300]
    if not reason:
        raise ValidationFailed(_("Say why the hand-over is corrected."), field="reason")
    if outcome not in CORRECTIONS:
        raise ValidationFailed(_("Choose what really happened to the tablet."), field="outcome")
    item = next(
        (i for i in delivery.items if i.device_id == device_id and i.status in CORRECTIONS), None
    )
    if item is None:
        raise ValidationFailed(
            _("This tablet was not handed over with %(ref)s.", ref=delivery.reference)
        )
    if item.status == outcome:
        raise ValidationFailed(_("%(tag)s is already recorded so.", tag=item.device.asset_tag))
    elsewhere = db.session.scalar(
        sa.select(DeliveryItem.delivery_id).where(
            DeliveryItem.device_id == device_id,
            DeliveryItem.delivery_id != delivery.id,
            DeliveryItem.status.in_(ACTIVE_ITEM_STATUSES),
        )
    )
    if elsewhere is not None:
        raise ValidationFailed(
            _(
                "%(tag)s is on another delivery now, DEL-%(n)05d: correct it there.",
                tag=item.device.asset_tag,
                n=elsewhere,
            )
        )
    move_device(
        item.device,
        CORRECTIONS[outcome],
        actor,
        delivery_id=delivery.id,
        delivery=delivery.reference,
        reason="handover_corrected",
        note=reason,
        was=item.status,
    )
    item.status = outcome
    item.discrepancy = "" if outcome == "delivered" else outcome
    lines = [i.status for i in delivery.items if i.status in CORRECTIONS]
    delivery.status = "delivered" if all(s == "delivered" for s in lines) else "partially_delivered"
    note_delivery_progress(delivery.plan_id, actor, delivery=delivery.reference)
    db.session.flush()
    receipts.match(delivery)
    return delivery


REPORT_MOVES = {"faulty": "reported_faulty", "lost": "reported_lost"}


def report_device(
    delivery_id: int,
    code: str,
    what: str,
    actor: User | None,
    *,
    note: str = "",
    client_time: datetime | None = None,
) -> Device:
    """From the field: a tablet of this delivery found faulty or lost on the road (it then
    leaves the delivery, as any tablet off the road to its school does).

    Only a tablet still on board a dispatched delivery (packed, or scanned at the school) and
    in transit can be reported: one handed over, back in stock or on another delivery is not
    the agent's to change any more.
    """
    delivery = get_delivery(delivery_id, lock=True)
    require_action(delivery, "report", _("reported from the road"))
    device = find_device_by_code(code, codes_read_by(actor))
    move = REPORT_MOVES.get(what)
    if move is None:
        raise ValidationFailed(_("A report needs a tablet's code and faulty or lost."))
    if device is None:
        raise ValidationFailed(unknown_code(code), field="code")
    item = delivery_item(delivery, device)
    if item is None or item.status not in ON_BOARD or device.status != "in_transit":
        raise ValidationFailed(
            _(
                "%(tag)s is not on the road with %(ref)s.",
                tag=device.asset_tag,
                ref=delivery.reference,
            )
        )
    move_device(
        device,
        move,
        actor,
        client_time=client_time,
        delivery_id=delivery.id,
        note=(note or "")[:300],
    )
    return device


def fail_delivery(delivery_id: int, actor: User | None, reason: str) -> Delivery:
    """Nobody could take the tablets (school closed, road cut): they come back reserved."""
    delivery = get_delivery(delivery_id, lock=True)
    require_action(delivery, "fail", _("recorded as failed"))
    if not (reason or "").strip():
        raise ValidationFailed(_("Say why the delivery could not be made."), field="reason")
    ids = [item.device_id for item in delivery.items if item.status in ON_BOARD]
    for item in delivery.items:
        if item.status in ON_BOARD:
            item.status, item.discrepancy = "removed", "failed"
    db.session.flush()
    in_transit = list(
        db.session.scalars(
            sa.select(Device.id).where(Device.id.in_(ids), Device.status == "in_transit")
        )
    )
    move_devices(
        in_transit,
        "recalled",
        actor,
        delivery_id=delivery.id,
        delivery=delivery.reference,
        note=reason.strip()[:300],
    )
    delivery = get_delivery(delivery_id)
    delivery.status, delivery.failure_reason = "failed", reason.strip()[:300]
    db.session.flush()
    receipts.match(delivery)  # a school that said it received them: the office is alerted
    return delivery
