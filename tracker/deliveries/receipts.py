"""The school signs for what it receives: its own receipt, beside the agent's hand-over.

School staff confirm a delivery from their own account (the page, or their phone's queue):
each tablet received, received damaged, or not received, and any tablet received that was
not on the delivery. Where neither phone has a network, the school's phone signs its
receipt with a key only that phone holds (ECDSA P-256, made by WebCrypto, the private half
not extractable) and shows it as a QR; the agent's phone checks it with the public half
its manifest carries, and the server checks it again when either phone syncs. The agent
cannot make such a receipt: nothing sent to the agent's phone lets anyone sign one.

A receipt, as the QR and the queue carry it (an alphanumeric QR, version 6 at level M for
a whole delivery received)::

    TR1.<delivery>.<unix time>.<key>.<tablets listed>.<missing>.<damaged>.<signature>

the tablets are the delivery's (all but those taken off before it left) in the order of
their ids; `missing` and `damaged` are their places in that list, in base 36 joined by
`-`; the signature (base 32, no padding) is the raw r‖s of ECDSA with SHA-256 over
everything before its dot.

Both sides are matched tablet by tablet (`match`): a hand-over the school's receipt agrees
with is confirmed by the school; where they differ the office is alerted, naming the
tablets. Every hand-over has one proof (`proof_of`): signed by the school's phone,
confirmed from the school's account, the school's code, the agent's phone only, or paper.
"""

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from sqlalchemy.orm.attributes import set_committed_value

from tracker.auth.models import User
from tracker.auth.permissions import can, check, roles_for
from tracker.database import LARGEST_ID, utcnow
from tracker.deliveries.models import (
    HANDED_OVER,
    Delivery,
    DeliveryItem,
    PhoneKey,
    SchoolReceipt,
)
from tracker.devices.codes import find_device_by_code
from tracker.errors import IllegalTransition, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.schools.models import SchoolStaff
from tracker.schools.staff import staff_since
from tracker.text import refuse_control_characters
from tracker.timezone import format_moment

PREFIX = "TR1"
SIGNATURE_CHARS = 103  # 64 bytes in base 32, no padding
MAX_TEXT = 600
MAX_TABLETS = 10_000
MAX_EXTRAS = 200
MAX_PHONES = 5  # phones one person may have registered at once
CLOCK_SKEW = timedelta(minutes=10)
RECEIVED = ("received", "damaged")
RECEIPT = re.compile(
    r"^TR1\.([0-9]{1,10})\.([0-9]{1,11})\.([0-9]{1,10})\.([0-9]{1,5})\."
    r"([0-9A-Z-]*)\.([0-9A-Z-]*)\.([A-Z2-7]{103})$"
)
# What the school may confirm: a delivery on its way or handed over.
RECEIVABLE = ("dispatched", *HANDED_OVER)
# Where the agent's side is in, to compare with the school's: handed over, or recorded as
# failed (the school said it received tablets the office took back).
COMPARED = (*HANDED_OVER, "failed")

PROOFS = {
    "school_signed": _l("signed by the school's phone"),
    "school_account": _l("confirmed from the school's account"),
    "school_code": _l("the school's code"),
    "agent_only": _l("signature on the agent's phone only"),
    "paper": _l("paper"),
}
# The school itself confirmed these (the dashboard's share).
SCHOOL_PROOFS = ("school_signed", "school_account")
SCHOOL_SAID_LABELS = {
    "received": _l("received"),
    "damaged": _l("received damaged"),
    "missing": _l("not received"),
}
# Why a receipt carried by the agent's phone did not confirm the hand-over (kept as a code
# on the delivery, its sentence rendered when read).
REFUSALS = {
    "unreadable": _l("it is not a receipt of this tracker"),
    "other_delivery": _l("it is the receipt of another delivery"),
    "unknown_key": _l("no phone of the school signed it"),
    "forged": _l("the signature does not match: the receipt was changed or forged"),
    "revoked": _l("the phone that signed it was revoked"),
    "not_staff": _l("the phone that signed it is not a phone of this school's staff"),
    "tablets": _l("it does not list this delivery's tablets"),
    "old": _l("it was signed before the delivery left"),
    "future": _l("it was signed later than it arrived"),
    "already": _l("the school had already confirmed another receipt"),
}


def _refuse(reason: str, message: str):
    raise ValidationFailed(message, field="school_receipt", reason=reason)


# --- the phones' keys ---------------------------------------------------------------------


def _public_key(text: str) -> bytes:
    """A P-256 public key as WebCrypto exports it (SubjectPublicKeyInfo, base 64)."""
    text = (text or "").strip()
    if not text or len(text) > 200:
        raise ValidationFailed(_("Send the phone's public key."), field="public_key")
    try:
        der = base64.b64decode(text, validate=True)
        key = serialization.load_der_public_key(der)
    except (binascii.Error, ValueError, TypeError) as error:
        raise ValidationFailed(
            _("The phone's public key could not be read."), field="public_key"
        ) from error
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValidationFailed(_("The phone's key must be an ECDSA P-256 key."), field="public_key")
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def register_key(actor: User, public_key: str, label: str = "") -> PhoneKey:
    """Register the public half of a key made on `actor`'s phone; the same key again is
    the same phone. Only a school's staff sign receipts."""
    check(actor, "receipts.keys")
    der = _public_key(public_key)
    kept = db.session.scalar(sa.select(PhoneKey).where(PhoneKey.public_key == der))
    if kept is not None:
        if kept.user_id != actor.id or kept.revoked_at is not None:
            raise ValidationFailed(
                _("This phone's key cannot be registered again: make a new one."),
                field="public_key",
            )
        return kept
    active = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(PhoneKey)
        .where(PhoneKey.user_id == actor.id, PhoneKey.revoked_at.is_(None))
    )
    if active >= MAX_PHONES:
        raise ValidationFailed(
            _(
                "You have %(n)s phones registered: revoke one you no longer use first.",
                n=active,
            ),
            field="public_key",
        )
    label = refuse_control_characters(" ".join((label or "").split())[:80], "label")
    key = PhoneKey(user_id=actor.id, public_key=der, label=label)
    db.session.add(key)
    db.session.flush()
    return key


def key_in_reach(actor: User, key_id: int) -> PhoneKey:
    """A phone key `actor` may see and revoke: the office any; school staff their own and
    those of the staff of their schools. Any other looks like it does not exist."""
    key = db.session.get(PhoneKey, key_id)
    if key is not None and (
        can(actor, "receipts.revoke_any")
        or key.user_id == actor.id
        or (can(actor, "receipts.keys") and _share_a_school(actor.id, key.user_id))
    ):
        return key
    raise NotFound(_("No phone with number %(id)s.", id=key_id))


def _share_a_school(one: int, other: int) -> bool:
    mine = sa.select(SchoolStaff.school_id).where(SchoolStaff.user_id == one)
    return (
        db.session.scalar(
            sa.select(SchoolStaff.school_id)
            .where(SchoolStaff.user_id == other, SchoolStaff.school_id.in_(mine))
            .limit(1)
        )
        is not None
    )


def revoke_key(actor: User | None, key_id: int) -> PhoneKey:
    """A lost phone: its receipts are refused from now on, whenever they were signed."""
    key = db.session.get(PhoneKey, key_id) if actor is None else key_in_reach(actor, key_id)
    if key is None:
        raise NotFound(_("No phone with number %(id)s.", id=key_id))
    if key.revoked_at is None:
        key.revoked_at, key.revoked_by_id = utcnow(), actor.id if actor else None
        db.session.flush()
    return key


def keys_of_staff(school_id: int, *, active_only: bool = True) -> list[PhoneKey]:
    """The phone keys of the school's staff (the agent's manifest carries the active ones
    of active people)."""
    query = (
        sa.select(PhoneKey)
        .join(SchoolStaff, SchoolStaff.user_id == PhoneKey.user_id)
        .join(User, User.id == PhoneKey.user_id)
        .where(SchoolStaff.school_id == school_id)
        .options(sa.orm.contains_eager(PhoneKey.user))
        .order_by(PhoneKey.id)
    )
    if active_only:
        query = query.where(
            PhoneKey.revoked_at.is_(None), User.active, User.role.in_(roles_for("receipts.keys"))
        )
    return list(db.session.scalars(query.limit(200)))


def keys_of(user: User) -> list[PhoneKey]:
    return list(
        db.session.scalars(
            sa.select(PhoneKey).where(PhoneKey.user_id == user.id).order_by(PhoneKey.id)
        )
    )


def key_json(key: PhoneKey) -> dict:
    """What the agent's phone needs to check a receipt: never anything to make one."""
    return {
        "id": key.id,
        "public_key": base64.b64encode(key.public_key).decode(),
        "name": key.user.display_name if key.user else "",
    }


# --- what the school sees coming --------------------------------------------------------


def _incoming_query(user: User):
    schools = sa.select(SchoolStaff.school_id).where(SchoolStaff.user_id == user.id)
    return (
        sa.select(Delivery)
        .where(Delivery.school_id.in_(schools), Delivery.status.in_(RECEIVABLE))
        .options(
            sa.orm.joinedload(Delivery.school),
            sa.orm.joinedload(Delivery.assigned_to),
            sa.orm.selectinload(Delivery.items).joinedload(DeliveryItem.device),
            sa.orm.selectinload(Delivery.receipt),
        )
    )


def incoming_for(user: User, *, limit: int = 50) -> list[Delivery]:
    """The deliveries to `user`'s schools from dispatch on, the latest dispatched first."""
    query = _incoming_query(user).order_by(Delivery.dispatched_at.desc(), Delivery.id.desc())
    return list(db.session.scalars(query.limit(limit)))


def to_confirm(school_id: int, *, limit: int = 20) -> list[Delivery]:
    """The school's deliveries on their way or handed over that it has not confirmed yet."""
    confirmed = sa.select(SchoolReceipt.id).where(SchoolReceipt.delivery_id == Delivery.id)
    return list(
        db.session.scalars(
            sa.select(Delivery)
            .where(
                Delivery.school_id == school_id,
                Delivery.status.in_(RECEIVABLE),
                ~confirmed.exists(),
            )
            .options(sa.orm.joinedload(Delivery.assigned_to))
            .order_by(Delivery.dispatched_at.desc(), Delivery.id.desc())
            .limit(limit)
        )
    )


def incoming_one(user: User, delivery_id: int) -> Delivery:
    """One delivery to `user`'s schools, dispatched; any other looks like it does not exist."""
    delivery = db.session.scalar(_incoming_query(user).where(Delivery.id == delivery_id))
    if delivery is None:
        raise NotFound(_("No delivery with number %(id)s.", id=delivery_id))
    return delivery


# --- reading and checking a signed receipt ------------------------------------------------


def listed(delivery: Delivery) -> list[DeliveryItem]:
    """The delivery's tablets as a receipt numbers them: those that were in the box when it
    left (one reported lost on the road since stays on the list, so the school's word on it
    is kept and compared), by the tablet's id."""
    return sorted(
        (item for item in delivery.items if item.packed_at is not None),
        key=lambda item: item.device_id,
    )


def listed_json(delivery: Delivery) -> list[dict]:
    """The tablets as a school's phone keeps them to confirm receipt (its page and the API),
    in the order a receipt numbers them."""
    return [
        {
            "id": item.device_id,
            "asset_tag": item.device.asset_tag,
            "serial": item.device.serial,
            "imei": item.device.imei,
            "qr_token": item.device.qr_token,
            "school_said": item.school_said or None,
        }
        for item in listed(delivery)
    ]


@dataclass(frozen=True)
class Claim:
    """What a receipt says, read but not yet checked."""

    text: str
    delivery_id: int
    at: datetime
    key_id: int
    tablets: int
    missing: frozenset[int]
    damaged: frozenset[int]
    signature: bytes

    @property
    def signed_part(self) -> bytes:
        return self.text.rsplit(".", 1)[0].encode("ascii")

    def said(self, items: list[DeliveryItem]) -> dict[int, str]:
        """Each tablet's word, by device id."""
        return {
            item.device_id: "missing"
            if place in self.missing
            else "damaged"
            if place in self.damaged
            else "received"
            for place, item in enumerate(items)
        }


def _places(text: str, tablets: int) -> frozenset[int]:
    if not text:
        return frozenset()
    try:
        places = [int(part, 36) for part in text.split("-")]
    except ValueError:
        places = [-1]
    if any(not 0 <= place < tablets for place in places) or len(set(places)) != len(places):
        _refuse("unreadable", _("The receipt names a tablet that is not on its list."))
    return frozenset(places)


def read_receipt(text: str) -> Claim:
    """A receipt's parts, or a refusal saying it is not one (nothing checked yet)."""
    text = "".join((text or "").split()).upper()[: MAX_TEXT + 1]
    found = RECEIPT.match(text) if len(text) <= MAX_TEXT else None
    if found is None:
        _refuse("unreadable", _("This is not a school's receipt: scan the QR on its phone."))
    delivery, moment, key, tablets, missing, damaged, signature = found.groups()
    tablets_n = int(tablets)
    if not 1 <= tablets_n <= MAX_TABLETS or not 1 <= int(delivery) <= LARGEST_ID:
        _refuse("unreadable", _("This is not a school's receipt: scan the QR on its phone."))
    missing_places, damaged_places = _places(missing, tablets_n), _places(damaged, tablets_n)
    if missing_places & damaged_places:
        _refuse("unreadable", _("The receipt names a tablet that is not on its list."))
    try:
        at = datetime.fromtimestamp(int(moment), UTC)
    except (OverflowError, OSError, ValueError):
        _refuse("unreadable", _("This is not a school's receipt: scan the QR on its phone."))
    return Claim(
        text,
        int(delivery),
        at,
        int(key),
        tablets_n,
        missing_places,
        damaged_places,
        base64.b32decode(signature + "=" * (-len(signature) % 8)),
    )


def verify_signature(key: PhoneKey, claim: Claim) -> bool:
    """The receipt was signed by this key, as it stands (one check: about 0.1 ms)."""
    public = serialization.load_der_public_key(key.public_key)
    r, s = int.from_bytes(claim.signature[:32], "big"), int.from_bytes(claim.signature[32:], "big")
    try:
        public.verify(
            utils.encode_dss_signature(r, s), claim.signed_part, ec.ECDSA(hashes.SHA256())
        )
    except InvalidSignature:
        return False
    return True


def _staff_of(user_id: int, school_id: int) -> bool:
    return db.session.get(SchoolStaff, (user_id, school_id)) is not None


def _speaks_for_school(user: User | None, delivery: Delivery) -> bool:
    """Whether `user`'s word is the school's for this delivery: an active school account,
    not the delivery's own agent, and the school's staff in fact (a password of their own)
    since before the box left, the rule the school's code follows (schools/staff.py). An
    account made, invited or given a school after dispatch, or an agent who was once a
    school's staff, cannot confirm what they carried."""
    if user is None or not user.active or not can(user, "receipts.confirm"):
        return False
    if user.id in (delivery.assigned_to_id, delivery.delivered_by_id):
        return False
    since = staff_since(user, delivery.school_id)
    return since is not None and (delivery.dispatched_at is None or since <= delivery.dispatched_at)


def check_signed(text: str, delivery: Delivery, now: datetime | None = None) -> tuple:
    """The receipt's claim and the key that signed it, if it is this delivery's receipt,
    signed by an unrevoked phone of the school's staff, since the delivery left; else a
    refusal naming what is wrong (its reason a code of REFUSALS)."""
    claim = read_receipt(text)
    if claim.delivery_id != delivery.id:
        _refuse(
            "other_delivery",
            _(
                "This receipt is for DEL-%(n)05d, not %(ref)s.",
                n=claim.delivery_id,
                ref=delivery.reference,
            ),
        )
    key = (
        db.session.get(PhoneKey, claim.key_id, options=[sa.orm.joinedload(PhoneKey.user)])
        if claim.key_id <= LARGEST_ID
        else None
    )
    if key is None:
        _refuse("unknown_key", _("No registered phone signed this receipt."))
    if not verify_signature(key, claim):
        _refuse(
            "forged",
            _("The school's signature does not match this receipt: it was changed or forged."),
        )
    if key.revoked_at is not None:
        _refuse(
            "revoked",
            _(
                "The phone that signed this receipt was revoked on %(when)s.",
                when=format_moment(key.revoked_at),
            ),
        )
    if not _speaks_for_school(key.user, delivery):
        _refuse(
            "not_staff",
            _("The phone that signed this receipt is not a phone of this school's staff."),
        )
    if claim.tablets != len(listed(delivery)):
        _refuse(
            "tablets",
            _(
                "The receipt lists %(n)s tablets; %(ref)s has %(m)s.",
                n=claim.tablets,
                ref=delivery.reference,
                m=len(listed(delivery)),
            ),
        )
    left = delivery.dispatched_at
    if left is not None and claim.at < left - CLOCK_SKEW:
        _refuse(
            "old",
            _(
                "This receipt was signed on %(when)s, before %(ref)s left: an old receipt "
                "cannot confirm it.",
                when=format_moment(claim.at),
                ref=delivery.reference,
            ),
        )
    if claim.at > (now or utcnow()) + CLOCK_SKEW:
        _refuse("future", _("This receipt is dated in the future: check the phone's clock."))
    return claim, key


# --- recording the school's receipt -------------------------------------------------------


def _receipt_of(delivery_id: int) -> SchoolReceipt | None:
    return db.session.scalar(
        sa.select(SchoolReceipt).where(SchoolReceipt.delivery_id == delivery_id)
    )


def _record(
    delivery: Delivery,
    user_id: int,
    said: dict[int, str],
    *,
    at: datetime,
    extras: list[dict] | None = None,
    claim: Claim | None = None,
    key: PhoneKey | None = None,
    brought_by: User | None = None,
    notes: str = "",
) -> SchoolReceipt:
    kept = _receipt_of(delivery.id)
    items = listed(delivery)
    if kept is not None:
        same = all(item.school_said == said.get(item.device_id) for item in items)
        body = claim.signed_part.decode() if claim is not None else None
        if claim is not None and same and kept.signed_text.rsplit(".", 1)[0] in ("", body):
            # The school's own receipt, now also signed (or the same signed one again).
            kept.proof, kept.phone_key_id, kept.signed_text = "signed", key.id, claim.text
            if brought_by is not None and kept.brought_by_id is None:
                kept.brought_by_id = brought_by.id
            key.last_used_at = utcnow()
            db.session.flush()
            match(delivery, kept)
            return kept
        _refuse(
            "already",
            _(
                "The school already confirmed receipt of %(ref)s on %(when)s.",
                ref=delivery.reference,
                when=format_moment(kept.received_at),
            ),
        )
    # Each tablet's word in one statement per word (a 500-tablet delivery is not 500
    # updates), and on the loaded lines as they now stand.
    for word in sorted(set(said.values())):
        db.session.execute(
            sa.update(DeliveryItem)
            .where(
                DeliveryItem.delivery_id == delivery.id,
                DeliveryItem.device_id.in_([d for d, w in said.items() if w == word]),
            )
            .values(school_said=word)
            .execution_options(synchronize_session=False)
        )
    for item in items:
        set_committed_value(item, "school_said", said[item.device_id])
    receipt = SchoolReceipt(
        delivery_id=delivery.id,
        user_id=user_id,
        proof="signed" if claim is not None else "account",
        phone_key_id=key.id if key is not None else None,
        signed_text=claim.text if claim is not None else "",
        received_at=at,
        brought_by_id=brought_by.id if brought_by is not None else None,
        extras=list(extras or [])[:MAX_EXTRAS],
        notes=refuse_control_characters(" ".join((notes or "").split())[:500], "notes"),
    )
    if key is not None:
        key.last_used_at = utcnow()
    match(delivery, receipt)  # the verdict goes in with the row
    db.session.add(receipt)
    db.session.flush()
    return receipt


def _bounded(at: datetime | None, delivery: Delivery, now: datetime) -> datetime:
    if at is None or at > now + CLOCK_SKEW:
        return now
    left = delivery.dispatched_at
    return max(min(at, now), left) if left is not None else min(at, now)


def confirm_receipt(
    actor: User,
    delivery_id: int,
    *,
    received: set[int],
    damaged: set[int] | frozenset = frozenset(),
    extras: list[str] | None = None,
    at: datetime | None = None,
    notes: str = "",
    signed: str = "",
) -> tuple[SchoolReceipt, str]:
    """The school's staff confirm what they received (device ids; `extras` are codes scanned
    that were not on the delivery). With `signed`, the same receipt as their phone signed
    it: recorded as signed when it checks, else from the account with the reason (the
    second value). A delivery of another school looks like it does not exist."""
    check(actor, "receipts.confirm")
    delivery = db.session.scalar(
        sa.select(Delivery).where(Delivery.id == delivery_id).with_for_update()
    )
    if delivery is None:
        raise NotFound(_("No delivery with number %(id)s.", id=delivery_id))
    if not _staff_of(actor.id, delivery.school_id):
        raise NotFound(_("No delivery with number %(id)s.", id=delivery_id))
    if delivery.status not in RECEIVABLE:
        raise IllegalTransition(
            _(
                "%(ref)s is not on its way to your school: nothing to confirm.",
                ref=delivery.reference,
            )
        )
    if not _speaks_for_school(actor, delivery):
        raise ValidationFailed(
            _(
                "Your account became this school's after %(ref)s left: its receipt is "
                "confirmed by staff who were the school's before, or by the office with you.",
                ref=delivery.reference,
            )
        )
    items = listed(delivery)
    on_list = {item.device_id for item in items}
    strangers = (set(received) | set(damaged)) - on_list
    if strangers:
        raise ValidationFailed(
            _(
                "A tablet confirmed is not on %(ref)s: list it as unexpected.",
                ref=delivery.reference,
            ),
            field="received",
        )
    said = {
        device_id: "damaged"
        if device_id in damaged
        else "received"
        if device_id in received
        else "missing"
        for device_id in on_list
    }
    now = utcnow()
    moment = _bounded(at, delivery, now)
    unexpected = _extras(extras or [], delivery)
    claim = key = None
    problem = ""
    if signed:
        try:
            claim, key = check_signed(signed, delivery, now)
            if key.user_id != actor.id or claim.said(items) != said:
                _refuse("forged", _("The signed receipt is not the one confirmed here."))
        except ValidationFailed as error:
            claim = key = None
            problem = str(error)
    receipt = _record(
        delivery,
        actor.id,
        said,
        at=claim.at if claim is not None else moment,
        extras=unexpected,
        claim=claim,
        key=key,
        notes=notes,
    )
    return receipt, problem


def _extras(codes: list[str], delivery: Delivery) -> list[dict]:
    """Codes received that were not on the delivery, each once, with the tablet they name."""
    kept, seen = [], set()
    on_list = {item.device_id for item in delivery.items}
    for code in codes[:MAX_EXTRAS]:
        code = refuse_control_characters(" ".join(str(code).split())[:80], "extras")
        if not code or code in seen:
            continue
        seen.add(code)
        kept.append({"code": code})
    for entry in kept:
        device = find_device_by_code(entry["code"])  # one index probe each, at most 200
        if device is not None and device.id in on_list:
            raise ValidationFailed(
                _(
                    "%(tag)s is on %(ref)s: tick it instead.",
                    tag=device.asset_tag,
                    ref=delivery.reference,
                ),
                field="extras",
            )
        if device is not None:
            entry["device_id"], entry["asset_tag"] = device.id, device.asset_tag
    return kept


def carried_receipt(delivery: Delivery, agent: User | None, text: str) -> str:
    """A receipt the agent's phone scanned from the school's phone, checked again here:
    recorded as the school's, or refused (the hand-over stays recorded without the school's
    confirmation, the reason's code kept on the delivery). Returns the reason's code."""
    try:
        claim, key = check_signed(text, delivery)
        _record(
            delivery,
            key.user_id,
            claim.said(listed(delivery)),
            at=claim.at,
            claim=claim,
            key=key,
            brought_by=agent,
        )
    except ValidationFailed as error:
        delivery.receipt_refused = error.reason or "unreadable"
        db.session.flush()
        return delivery.receipt_refused
    delivery.receipt_refused = ""
    db.session.flush()
    return ""


# --- both sides, tablet by tablet ---------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    asset_tag: str
    agent: str  # the item's outcome (delivered, missing, damaged, refused), "" if not on it
    school: str  # received, damaged, missing


def differences(delivery: Delivery) -> list[Difference]:
    """Where the agent's hand-over and the school's receipt disagree: a tablet one says
    handed over and the other not, and each tablet the school received that was not on the
    delivery. Empty until both sides are in."""
    receipt = delivery.receipt
    if receipt is None or delivery.status not in COMPARED:
        return []
    found = [
        Difference(item.device.asset_tag, item.status, item.school_said)
        for item in listed(delivery)
        if (item.status == "delivered") != (item.school_said in RECEIVED)
    ]
    found += [
        Difference(entry.get("asset_tag") or entry.get("code", ""), "", "received")
        for entry in receipt.extras or []
    ]
    return found


def difference_text(difference: Difference) -> str:
    """One difference in the reader's words (the tag isolated, so an Arabic sentence keeps
    its order around a Latin code)."""
    tag = f"\u2068{difference.asset_tag}\u2069"
    if not difference.agent:
        return _("%(tag)s: received by the school, not on the delivery", tag=tag)
    if difference.agent == "delivered":
        return _("%(tag)s: handed over by the agent, not received by the school", tag=tag)
    return _("%(tag)s: received by the school, not handed over by the agent", tag=tag)


def match(delivery: Delivery, receipt: SchoolReceipt | None = None) -> None:
    """Set the receipt's verdict once both sides are in (a hand-over, a receipt or a
    correction just arrived); `receipt` when the caller has just written it."""
    if receipt is None:
        db.session.expire(delivery, ["receipt"])
        receipt = delivery.receipt
    else:
        set_committed_value(delivery, "receipt", receipt)
    if receipt is None or delivery.status not in COMPARED:
        return
    receipt.matched = "differs" if differences(delivery) else "agrees"


def proof_of(delivery: Delivery) -> str:
    """The strongest proof a hand-over has ("" before it is handed over)."""
    if delivery.status not in HANDED_OVER:
        return ""
    receipt = delivery.receipt
    if receipt is not None:
        return "school_signed" if receipt.proof == "signed" else "school_account"
    if delivery.handover_confirmation in ("code", "code_offline"):
        return "school_code"
    if delivery.handover_via == "manifest" or delivery.handover_confirmation == "paper":
        return "paper"
    return "agent_only"


def proof_column() -> sa.Case:
    """`proof_of` in SQL, for the reports and the dashboard (one pass, no row loaded)."""
    return sa.case(
        (~Delivery.status.in_(HANDED_OVER), ""),
        (SchoolReceipt.proof == "signed", "school_signed"),
        (SchoolReceipt.proof == "account", "school_account"),
        (Delivery.handover_confirmation.in_(("code", "code_offline")), "school_code"),
        (
            sa.or_(Delivery.handover_via == "manifest", Delivery.handover_confirmation == "paper"),
            "paper",
        ),
        else_="agent_only",
    )
