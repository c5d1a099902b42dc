"""A code only the school can give: the proof that the tablets reached the school itself.

At dispatch the school's contact receives a 6-digit code by SMS; at the hand-over the
agent asks for it and types it. Only a salted PBKDF2 hash is kept (and sent to the phone
with its offline manifest, so the phone can check the code with no network: a few tries,
then it must be confirmed online); the server checks it again when the hand-over arrives.
The code itself is never on a page, in an API answer or a log: it exists in the SMS, and
sealed in the outbox until the SMS leaves (tracker/messages). Five wrong codes online and
the hand-over must go without it, with the agent's reason; a code expires after the
delivery's window (DELIVERY_CODE_DAYS after its planned day). A coordinator can send a
new one, which replaces the old.

How a hand-over was confirmed is kept on the delivery (`handover_confirmation`):
code — with the school's code; no_code — without it, for the agent's reason;
none_sent — no code was sent (the school has no phone); paper — from a paper manifest.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from tracker.deliveries.models import Delivery
from tracker.errors import ValidationFailed
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.messages.services import message_kind, queue_message
from tracker.timezone import local_today
from tracker.transaction import soon

ITERATIONS = 100_000  # PBKDF2-SHA256: about 50 ms on a phone, per guess, offline
TRIES_ONLINE = 5
TRIES_OFFLINE = 3  # on the phone, before it asks for the network (static/js/field.js)
DELIVERY_CODE = message_kind("delivery_code", _l("The school's delivery code (to the school)"))
CONFIRMATIONS = {
    "code": _l("confirmed with the school's code"),
    "no_code": _l("without the school's code"),
    "none_sent": _l("no code was sent to the school"),
    "paper": _l("from a paper manifest"),
}
# The same, where a table column is narrow (the donor report's PDF).
CONFIRMATIONS_SHORT = {
    "code": _l("school's code"),
    "no_code": _l("no code"),
    "none_sent": _l("none sent"),
    "paper": _l("paper"),
}


def digest(code: str, salt: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", code.encode(), bytes.fromhex(salt), ITERATIONS).hex()


def send_code(delivery: Delivery) -> str | None:
    """A new code for the delivery, by SMS to its school's contact (the old one no longer
    works); None when the school has no phone to send it to. The code returned exists in
    this process's memory only (the demo hands over with it; no page or answer shows it)."""
    school = delivery.school
    if not school.contact_phone.strip():
        delivery.code_hash = delivery.code_salt = ""
        return None
    code = f"{secrets.randbelow(1_000_000):06d}"
    delivery.code_salt = secrets.token_hex(16)
    delivery.code_hash = digest(code, delivery.code_salt)
    start = delivery.planned_on or local_today()
    delivery.code_expires_on = start + timedelta(days=current_app.config["DELIVERY_CODE_DAYS"])
    delivery.code_tries = 0
    language = school.contact_language if school.contact_language in ("fr", "ar") else "fr"
    with force_locale(language):
        body = _(
            "Code of delivery %(ref)s: {code}. Give it to the field agent only when the "
            "tablets are in your hands. Valid until %(day)s.",
            ref=delivery.reference,
            day=delivery.code_expires_on.strftime("%d/%m/%Y"),
        )
    if "{code}" not in body:  # a translation that lost the place of the code
        body = f"{body} {{code}}"
    queue_message(
        DELIVERY_CODE,
        channel="sms",
        recipient=school.contact_phone,
        language=language,
        body=body,
        secret=code,
    )
    return code


def expects_code(delivery: Delivery) -> bool:
    return bool(delivery.code_hash)


def offline_check(delivery: Delivery) -> dict | None:
    """What the phone needs to check the code with no network: never the code."""
    if not delivery.code_hash:
        return None
    return {
        "salt": delivery.code_salt,
        "hash": delivery.code_hash,
        "iterations": ITERATIONS,
        "tries": TRIES_OFFLINE,
        "expires_on": delivery.code_expires_on.isoformat() if delivery.code_expires_on else None,
    }


def confirmation(
    delivery: Delivery, school_code: str | None, no_code_reason: str | None, *, via: str
) -> tuple[str, str]:
    """How this hand-over is confirmed, (kind, reason); refuses a wrong or expired code, or
    neither a code nor a reason when a code was sent."""
    if via == "manifest":
        return "paper", ""
    if not delivery.code_hash:
        return "none_sent", ""
    code = "".join((school_code or "").split())
    if code:
        if delivery.code_tries >= TRIES_ONLINE:
            raise ValidationFailed(
                _(
                    "Too many wrong codes for %(ref)s: hand over without the code and say why.",
                    ref=delivery.reference,
                ),
                field="school_code",
            )
        if delivery.code_expires_on and local_today() > delivery.code_expires_on:
            raise ValidationFailed(
                _(
                    "The school's code has expired: hand over without it and say why, or ask "
                    "the office to send a new one."
                ),
                field="school_code",
            )
        if not hmac.compare_digest(digest(code, delivery.code_salt), delivery.code_hash):
            # Counted even though the hand-over is refused (and its transaction undone).
            soon(
                sa.update(Delivery)
                .where(Delivery.id == delivery.id)
                .values(code_tries=Delivery.code_tries + 1)
            )
            raise ValidationFailed(
                _(
                    "This is not the school's code. Ask again, or hand over without the code "
                    "and say why."
                ),
                field="school_code",
            )
        return "code", ""
    reason = " ".join((no_code_reason or "").split())[:300]
    if not reason:
        raise ValidationFailed(
            _("Type the code the school received by SMS, or say why you hand over without it."),
            field="school_code",
        )
    return "no_code", reason
