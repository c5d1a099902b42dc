"""Actions queued on a phone while offline, applied once each when they reach the server.

Each action carries a client-made id. `apply_action` records the answer (applied or
rejected) under that id in `sync_actions`, whose unique constraint makes a second copy fail
however close in time it arrives; the caller runs each action in its own transaction, so a
rejected one never stops the others. The same services as the web pages do the work: a
scan, a hand-over or a report from the phone is the scan, hand-over or report of the page.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import g, has_request_context

from tracker.api import fields
from tracker.api.models import ACTION_TYPES, SyncAction
from tracker.auth.models import User
from tracker.counts.services import count_scan, depot_scan
from tracker.database import LARGEST_ID, utcnow
from tracker.deliveries import handover, receipts
from tracker.deliveries.codes import NOT_CONFIRMED
from tracker.deliveries.media import MAX_PHOTO_BYTES, MAX_SIGNATURE_BYTES
from tracker.deliveries.models import MISSING_REASONS, Delivery
from tracker.deliveries.services import delivery_for
from tracker.deliveries.states import may_act
from tracker.devices.codes import Among
from tracker.devices.states import STATUS_LABELS
from tracker.errors import DomainError, RequestBudgetSpent, ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import kept_text, said
from tracker.loans import services as loans

CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_ACTIONS = 500
# The work one request may do, in entries read (an action, a tablet named missing, a
# tablet handed over): past it, the rest of the batch is left unanswered and the phone
# sends it with its next request. 500 scans, or a hand-over of a 5,000-tablet delivery,
# each fit many times over.
WORK_PER_REQUEST = 20_000
CLOCK_SKEW = timedelta(minutes=10)  # how far ahead of the server a phone's clock may run
REPORT_REASONS = tuple(handover.REPORT_MOVES)


@dataclass
class Answer:
    id: str
    status: str  # applied | duplicate | rejected
    message: str = ""
    original: str | None = None  # for a duplicate: what the first copy got
    warning: bool = False  # applied, but the person must see why (not confirmed by the school)

    def as_json(self) -> dict:
        answer = {"id": self.id, "status": self.status, "message": self.message}
        if self.original:
            answer["original"] = self.original
        if self.warning:
            answer["warning"] = True
        return answer


def client_id_of(action) -> str:
    value = action.get("id") if isinstance(action, dict) else None
    return value if isinstance(value, str) and CLIENT_ID.match(value) else ""


def earlier_answer(client_id: str, user: User) -> Answer | None:
    """The answer already given to this user's action id, if any (it is then a duplicate).
    Ids belong to their user: another user's action with the same id is a different one."""
    done = db.session.scalar(
        sa.select(SyncAction).where(
            SyncAction.user_id == user.id, SyncAction.client_id == client_id
        )
    )
    if done is None:
        return None
    return Answer(client_id, "duplicate", said(done.message), done.outcome)


def _owner(action: dict, actor: User) -> None:
    """A phone names who queued the action; it is refused when sent under someone else."""
    owner = fields.whole_id(action, "user_id", required=False)
    if owner is not None and owner != actor.id:
        raise ValidationFailed(
            _("This action was queued by another user; it is not sent under your account."),
            field="user_id",
        )


def _delivery(action: dict, actor: User) -> Delivery:
    delivery = delivery_for(actor, fields.whole_id(action, "delivery_id"), lock=True)
    if not may_act(actor, delivery):
        raise ValidationFailed(_("You may not act on %(ref)s.", ref=delivery.reference))
    return delivery


def _scan(action: dict, delivery: Delivery, actor: User, at) -> tuple[str, str]:
    code = fields.text(action, "code", limit=300, required=True)
    result = handover.field_scan(delivery.id, code, actor)
    return ("applied" if result.ok else "rejected"), result.message


def spend_work(units: int) -> None:
    """Count `units` of work against this request's budget (outside a request: none)."""
    if not has_request_context():
        return
    spent = g.get("_sync_work", 0) + units
    if spent > WORK_PER_REQUEST:
        raise RequestBudgetSpent(
            _("Too much work in one request: the rest goes with the next one.")
        )
    g._sync_work = spent


def _missing_reasons(action: dict, delivery: Delivery) -> dict[int, str]:
    """Each tablet named missing, damaged or refused: at most the delivery's own tablets,
    read against them in one statement."""
    if not action.get("missing"):
        return {}
    on_board = handover.devices_on(delivery.id)
    entries = fields.objects(action, "missing", limit=len(on_board))
    spend_work(len(on_board) + len(entries))
    among, by_id = Among(on_board), {device.id: device for device in on_board}
    reasons = {}
    for number, missing in enumerate(entries, start=1):
        code = fields.text(missing, "code", limit=300)
        device_id = fields.whole_id(missing, "device_id", required=False)
        reason = missing.get("reason")
        device = among.find(code) if code else by_id.get(device_id)
        if device is None or not isinstance(reason, str) or reason not in MISSING_REASONS:
            raise ValidationFailed(
                _(
                    "Missing tablet %(n)s: it needs a code of this delivery's tablets and a "
                    "reason (missing, damaged, refused).",
                    n=number,
                ),
                field="missing",
            )
        reasons[device.id] = reason
    return reasons


def _image(action: dict, field: str, limit: int) -> str | None:
    """An image as sent (base64 or a data URL), its length checked before decoding."""
    value = fields.text(action, field, limit=limit * 4 // 3 + 100)
    return value or None


def _handover(action: dict, delivery: Delivery, actor: User, at) -> tuple[str, str]:
    received = utcnow()
    done = handover.confirm_handover(
        delivery.id,
        actor=actor,
        recipient_name=fields.text(action, "recipient_name", limit=120),
        recipient_role=fields.text(action, "recipient_role", limit=120),
        signature=_image(action, "signature", MAX_SIGNATURE_BYTES),
        photo=_image(action, "photo", MAX_PHOTO_BYTES),
        latitude=fields.number(action, "latitude"),
        longitude=fields.number(action, "longitude"),
        accuracy=fields.number(action, "accuracy"),
        notes=fields.text(action, "notes", limit=2000),
        reasons=_missing_reasons(action, delivery),
        school_code=fields.text(action, "school_code", limit=20),
        no_code_reason=fields.text(action, "no_code_reason", limit=300),
        code_typed_offline=fields.flag(action, "code_typed_offline"),
        school_receipt=fields.text(action, "school_receipt", limit=receipts.MAX_TEXT),
        handed_over_at=fields.bounded(at, delivery.dispatched_at, received, CLOCK_SKEW),
        client_time=at,
        recorded_at=received,
    )
    if done.receipt_refused:
        return "applied", _(
            "Hand-over of %(ref)s recorded, but not confirmed by the school: its receipt "
            "was refused (%(why)s). The office is told.",
            ref=done.reference,
            why=receipts.REFUSALS[done.receipt_refused],
        )
    if done.handover_confirmation in NOT_CONFIRMED:
        return "applied", _(
            "Hand-over of %(ref)s recorded, but not confirmed by the school: the code typed "
            "offline was wrong. The office is told.",
            ref=done.reference,
        )
    return "applied", _("Hand-over of %(ref)s recorded.", ref=done.reference)


def _report(action: dict, delivery: Delivery, actor: User, at) -> tuple[str, str]:
    reason = fields.choice(action, "reason", REPORT_REASONS)
    device = handover.report_device(
        delivery.id,
        fields.text(action, "code", limit=300, required=True),
        reason,
        actor,
        note=fields.text(action, "note", limit=300),
        client_time=at,
    )
    what = str(STATUS_LABELS[reason]).lower()  # the state word, in the reader's language
    return "applied", _("%(tag)s reported %(what)s.", tag=device.asset_tag, what=what)


APPLY = {"scan": _scan, "handover": _handover, "report": _report}


def _count_scan(action: dict, actor: User, at) -> tuple[str, str, int]:
    """A tablet found at a school (or the depot a count covers) during a count, scanned
    offline like a delivery's."""
    count_id = fields.whole_id(action, "count_id")
    if action.get("school_id") is None and action.get("depot_id") is not None:
        answer = depot_scan(
            actor,
            count_id,
            fields.text(action, "code", limit=300, required=True),
            condition=fields.text(action, "condition", limit=20) or None,
            client_time=at,
            depot_id=fields.whole_id(action, "depot_id"),
        )
        return ("applied" if answer.ok else "rejected"), answer.message, count_id
    answer = count_scan(
        actor,
        count_id,
        fields.whole_id(action, "school_id"),
        fields.text(action, "code", limit=300, required=True),
        condition=fields.text(action, "condition", limit=20) or None,
        client_time=at,
    )
    return ("applied" if answer.ok else "rejected"), answer.message, count_id


def _receipt(action: dict, actor: User, at) -> tuple[str, str, int, bool]:
    """The school's own receipt of a delivery, confirmed on its phone (maybe offline)."""
    delivery_id = fields.whole_id(action, "delivery_id")
    received = fields.ids(action, "received", limit=receipts.MAX_TABLETS)
    damaged = fields.ids(action, "damaged", limit=receipts.MAX_TABLETS)
    extras = fields.texts(action, "extras", limit=receipts.MAX_EXTRAS, each=80)
    spend_work(len(received) + len(damaged) + len(extras))
    receipt, problem = receipts.confirm_receipt(
        actor,
        delivery_id,
        received=set(received),
        damaged=set(damaged),
        extras=extras,
        at=at,
        notes=fields.text(action, "notes", limit=500),
        signed=fields.text(action, "signed", limit=receipts.MAX_TEXT),
    )
    reference = f"DEL-{delivery_id:05d}"
    if problem:
        message = _(
            "Receipt of %(ref)s recorded from your account; its signature was refused: %(why)s",
            ref=reference,
            why=problem,
        )
        return "applied", message, delivery_id, True
    return "applied", _("Receipt of %(ref)s recorded.", ref=reference), delivery_id, False


def _day(action: dict, field: str) -> date | None:
    """A day written YYYY-MM-DD (absent or null: none)."""
    value = action.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) != 10:
        raise ValidationFailed(_("'%(field)s' must be a day, YYYY-MM-DD.", field=field), field)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            _("'%(field)s' must be a day, YYYY-MM-DD.", field=field), field
        ) from None


def _new_borrower(action: dict) -> dict | None:
    """The borrower to add when the school does not know the code yet (absent: none)."""
    value = action.get("new_borrower")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationFailed(_("'%(field)s' must be an object.", field="new_borrower"))
    return {
        key: fields.text(value, key, limit=120)
        for key in ("kind", "name", "class_name", "guardian_name", "guardian_phone")
        if value.get(key) is not None
    }


def _lend(action: dict, actor: User, _at) -> tuple[str, str, int]:
    """A tablet lent at a school's desk, maybe with the agreement signed on the screen."""
    school_id = fields.whole_id(action, "school_id")
    loan = loans.lend(
        actor,
        school_id,
        fields.text(action, "code", limit=300, required=True),
        fields.text(action, "borrower_code", limit=40, required=True),
        due_on=_day(action, "due_on"),
        condition=fields.text(action, "condition", limit=20) or "good",
        accessories=fields.text(action, "accessories", limit=200),
        signed_by=fields.text(action, "signed_by", limit=120),
        signature=_image(action, "signature", MAX_SIGNATURE_BYTES),
        new_borrower=_new_borrower(action),
    )
    message = _(
        "%(tag)s lent to %(name)s until %(day)s.",
        tag=loan.device.asset_tag,
        name=loan.borrower.name or loan.borrower.code,
        day=loan.due_on.isoformat(),
    )
    return "applied", message, loan.id


def _take_back(action: dict, actor: User, _at) -> tuple[str, str, int]:
    """A tablet brought back to the school's desk, with its condition (and, damaged, what
    is wrong and a photo: its repair case opens)."""
    loan = loans.take_back(
        actor,
        fields.whole_id(action, "school_id"),
        fields.text(action, "code", limit=300, required=True),
        condition=fields.text(action, "condition", limit=20),
        accessories=fields.text(action, "accessories", limit=200),
        fault=fields.text(action, "fault", limit=2000),
        photo=_image(action, "photo", MAX_PHOTO_BYTES),
    )
    return "applied", _("%(tag)s is back.", tag=loan.device.asset_tag), loan.id


def _sign_loan(action: dict, actor: User, _at) -> tuple[str, str, int]:
    """A loan's agreement signed on the screen, or a photo of the signed paper."""
    loan = loans.sign_loan(
        actor,
        fields.whole_id(action, "loan_id"),
        fields.text(action, "signed_by", limit=120),
        signature=_image(action, "signature", MAX_SIGNATURE_BYTES),
        paper=_image(action, "paper", MAX_PHOTO_BYTES),
    )
    return "applied", _("The agreement of %(tag)s is signed.", tag=loan.device.asset_tag), loan.id


LOAN_ACTIONS = {"lend": _lend, "take_back": _take_back, "sign_loan": _sign_loan}


def apply_action(action: dict, actor: User) -> Answer:
    """Apply one action and record its answer under its id; the caller commits.

    Raises DomainError when the action is refused (the caller rolls back and records the
    refusal with `record_refusal`), IntegrityError when another copy was recorded meanwhile.
    """
    client_id = client_id_of(action)
    spend_work(1)
    kind = fields.choice(action, "type", ACTION_TYPES)
    at = fields.moment(action, "at")
    _owner(action, actor)
    delivery = count_id = None
    receipt_id = None
    warned = False
    if kind == "count_scan":
        outcome, message, count_id = _count_scan(action, actor, at)
    elif kind == "receipt":
        outcome, message, receipt_id, warned = _receipt(action, actor, at)
    elif kind in LOAN_ACTIONS:
        outcome, message, _loan_id = LOAN_ACTIONS[kind](action, actor, at)
    else:
        delivery = _delivery(action, actor)
        outcome, message = APPLY[kind](action, delivery, actor, at)
    db.session.add(
        SyncAction(
            client_id=client_id,
            user_id=actor.id,
            delivery_id=delivery.id if delivery else receipt_id,
            count_id=count_id,
            type=kind,
            outcome=outcome,
            message=kept_text(message),
            client_time=at,
        )
    )
    db.session.flush()
    warning = delivery is not None and (
        delivery.handover_confirmation in NOT_CONFIRMED or bool(delivery.receipt_refused)
    )
    return Answer(client_id, outcome, message, warning=(warning and kind == "handover") or warned)


def record_refusal(action: dict, actor: User, error: DomainError) -> Answer:
    """Keep a refused action's answer, so a resend gets the same answer, not a retry."""
    client_id = client_id_of(action)
    kind = action.get("type")
    kind = kind if isinstance(kind, str) and kind in ACTION_TYPES else None
    delivery_id = action.get("delivery_id")
    exists = (
        type(delivery_id) is int
        and 1 <= delivery_id <= LARGEST_ID
        and kind is not None
        and db.session.get(Delivery, delivery_id) is not None
    )
    if kind is not None:
        try:
            client_time = fields.moment(action, "at")
        except ValidationFailed:
            client_time = None
        db.session.add(
            SyncAction(
                client_id=client_id,
                user_id=actor.id,
                delivery_id=delivery_id if exists else None,
                type=kind,
                outcome="rejected",
                message=kept_text(str(error)),
                client_time=client_time,
            )
        )
        db.session.flush()
    return Answer(client_id, "rejected", str(error))
