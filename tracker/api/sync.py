"""Actions queued on a phone while offline, applied once each when they reach the server.

Each action carries a client-made id. `apply_action` records the answer (applied or
rejected) under that id in `sync_actions`, whose unique constraint makes a second copy fail
however close in time it arrives; the caller runs each action in its own transaction, so a
rejected one never stops the others. The same services as the web pages do the work: a
scan, a hand-over or a report from the phone is the scan, hand-over or report of the page.
"""

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from tracker.api.models import ACTION_TYPES, SyncAction
from tracker.auth.models import User
from tracker.deliveries import handover
from tracker.deliveries.media import MAX_PHOTO_BYTES
from tracker.deliveries.models import MISSING_REASONS, Delivery
from tracker.deliveries.services import delivery_for, may_act
from tracker.devices.models import Device
from tracker.devices.services import find_device_by_code
from tracker.errors import DomainError, ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _

CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_ACTIONS = 500


@dataclass
class Answer:
    id: str
    status: str  # applied | duplicate | rejected
    message: str = ""
    original: str | None = None  # for a duplicate: what the first copy got

    def as_json(self) -> dict:
        answer = {"id": self.id, "status": self.status, "message": self.message}
        if self.original:
            answer["original"] = self.original
        return answer


def client_id_of(action) -> str:
    value = action.get("id") if isinstance(action, dict) else None
    return value if isinstance(value, str) and CLIENT_ID.match(value) else ""


def earlier_answer(client_id: str) -> Answer | None:
    """The answer already given to this id, if any (the action is then a duplicate)."""
    done = db.session.scalar(sa.select(SyncAction).where(SyncAction.client_id == client_id))
    if done is None:
        return None
    return Answer(client_id, "duplicate", done.message, done.outcome)


def _time(value) -> datetime | None:
    """The phone's clock, as sent (ISO 8601); kept beside the server's own time."""
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as error:
        raise ValidationFailed(_("'at' is not an ISO 8601 time.")) from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _delivery(action: dict, actor: User) -> Delivery:
    try:
        delivery_id = int(action.get("delivery_id"))
    except (TypeError, ValueError) as error:
        raise ValidationFailed(_("The action names no delivery.")) from error
    delivery = delivery_for(actor, delivery_id, lock=True)
    if not may_act(actor, delivery):
        raise ValidationFailed(_("You may not act on %(ref)s.", ref=delivery.reference))
    return delivery


def _image(value, what: str, limit: int) -> bytes | None:
    if not value:
        return None
    text = str(value)
    if text.startswith("data:"):
        text = text.partition(",")[2]
    if len(text) > limit * 4 // 3 + 4:
        raise ValidationFailed(_("The %(what)s is too large.", what=what))
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValidationFailed(_("The %(what)s is not valid base64.", what=what)) from error


def _scan(action: dict, delivery: Delivery, actor: User, at) -> tuple[str, str]:
    result = handover.field_scan(delivery.id, str(action.get("code") or ""), actor)
    return ("applied" if result.ok else "rejected"), result.message


def _handover(action: dict, delivery: Delivery, actor: User, at) -> tuple[str, str]:
    reasons = {}
    for missing in action.get("missing") or []:
        code = str(missing.get("code") or missing.get("device_id") or "")
        device = find_device_by_code(code)
        if device is None and str(missing.get("device_id") or "").isdigit():
            device = db.session.get(Device, int(missing["device_id"]))
        reason = missing.get("reason")
        if device is None or reason not in MISSING_REASONS:
            raise ValidationFailed(
                _("A missing tablet needs a known code and a reason (missing, damaged, refused).")
            )
        reasons[device.id] = reason
    done = handover.confirm_handover(
        delivery.id,
        actor=actor,
        recipient_name=str(action.get("recipient_name") or ""),
        recipient_role=str(action.get("recipient_role") or ""),
        signature=_image(action.get("signature"), _("signature"), 512 * 1024),
        photo=_image(action.get("photo"), _("photo"), MAX_PHOTO_BYTES),
        latitude=action.get("latitude"),
        longitude=action.get("longitude"),
        accuracy=action.get("accuracy"),
        notes=str(action.get("notes") or ""),
        reasons=reasons,
        handed_over_at=at,
        client_time=at,
    )
    return "applied", _("Hand-over of %(ref)s recorded.", ref=done.reference)


def _report(action: dict, delivery: Delivery, actor: User, at) -> tuple[str, str]:
    device = handover.report_device(
        delivery.id,
        str(action.get("code") or ""),
        action.get("reason"),
        actor,
        note=str(action.get("note") or ""),
        client_time=at,
    )
    return "applied", _("%(tag)s reported %(what)s.", tag=device.asset_tag, what=action["reason"])


APPLY = {"scan": _scan, "handover": _handover, "report": _report}


def apply_action(action: dict, actor: User) -> Answer:
    """Apply one action and record its answer under its id; the caller commits.

    Raises DomainError when the action is refused (the caller rolls back and records the
    refusal with `record_refusal`), IntegrityError when another copy was recorded meanwhile.
    """
    client_id = client_id_of(action)
    kind = action.get("type")
    if kind not in ACTION_TYPES:
        raise ValidationFailed(_("Unknown action type %(type)s.", type=str(kind)[:20]))
    at = _time(action.get("at"))
    delivery = _delivery(action, actor)
    outcome, message = APPLY[kind](action, delivery, actor, at)
    db.session.add(
        SyncAction(
            client_id=client_id,
            user_id=actor.id,
            delivery_id=delivery.id,
            type=kind,
            outcome=outcome,
            message=message[:500],
            client_time=at,
        )
    )
    db.session.flush()
    return Answer(client_id, outcome, message)


def record_refusal(action: dict, actor: User, error: DomainError) -> Answer:
    """Keep a refused action's answer, so a resend gets the same answer, not a retry."""
    client_id = client_id_of(action)
    kind = action.get("type") if action.get("type") in ACTION_TYPES else None
    delivery_id = action.get("delivery_id")
    exists = (
        isinstance(delivery_id, int)
        and db.session.get(Delivery, delivery_id) is not None
        and kind is not None
    )
    if kind is not None:
        try:
            client_time = _time(action.get("at"))
        except ValidationFailed:
            client_time = None
        db.session.add(
            SyncAction(
                client_id=client_id,
                user_id=actor.id,
                delivery_id=delivery_id if exists else None,
                type=kind,
                outcome="rejected",
                message=str(error)[:500],
                client_time=client_time,
            )
        )
        db.session.flush()
    return Answer(client_id, "rejected", str(error))
