"""A code only the school can give: the proof that the tablets reached the school itself.

At dispatch the school's contact receives a 7-digit code by SMS (six random digits and a
Damm check digit, printed `123 4567`), and the school's staff see it on *My school*; at
the hand-over the agent asks for it and types it. The code is kept sealed with the
server's key (a copy of the database alone does not hold it) and nothing derived from it
leaves the server: any hash of a 6-digit secret is reversed by whoever holds it in hours.
Offline, the phone checks only the check digit (every single mistyped digit and every swap
of neighbours is caught) and the server decides when the hand-over arrives.

Every try is counted in the database before the code is compared, by the one statement
that also refuses past TRIES_ONLINE (`count_try`), so neither a batch of actions nor
parallel requests see an old count. A wrong code typed online is refused (its try kept);
a code typed offline that proves wrong at sync leaves the hand-over recorded as *not
confirmed by the school*, an alert for the office: never silently accepted. A code
expires after the delivery's window (DELIVERY_CODE_DAYS after its planned day). The office
may send a new one, saying why (a `DeliveryCodeSending`), at most DELIVERY_CODE_RESENDS
times per delivery; it replaces the old.

How a hand-over was confirmed is kept on the delivery (`handover_confirmation`):
code — with the school's code; code_offline — typed offline, right at sync; code_wrong —
typed offline, wrong at sync (not confirmed by the school); no_code — without it, for the
agent's reason; none_sent — no code was sent (the school has no phone); paper — from a
paper manifest.
"""

import hashlib
import hmac
import secrets
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from stdnum import damm

from tracker.auth.models import User
from tracker.deliveries.models import Delivery, DeliveryCodeSending
from tracker.errors import CountedRefusal, IllegalTransition, ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.messages.services import message_kind, queue_message, seal, unseal
from tracker.timezone import local_today

DIGITS = 7  # six random digits and the check digit
TRIES_ONLINE = 5
LEGACY_ITERATIONS = 100_000  # codes sent before 0026 were kept as a PBKDF2 hash only
DELIVERY_CODE = message_kind("delivery_code", _l("The school's delivery code (to the school)"))
CONFIRMATIONS = {
    "code": _l("confirmed with the school's code"),
    "code_offline": _l("confirmed with the school's code (typed offline, checked on sync)"),
    "code_wrong": _l("not confirmed by the school: the code typed offline was wrong"),
    "no_code": _l("without the school's code"),
    "none_sent": _l("no code was sent to the school"),
    "paper": _l("from a paper manifest"),
}
# The same, where a table column is narrow (the donor report's PDF).
CONFIRMATIONS_SHORT = {
    "code": _l("school's code"),
    "code_offline": _l("school's code"),
    "code_wrong": _l("not confirmed"),
    "no_code": _l("no code"),
    "none_sent": _l("none sent"),
    "paper": _l("paper"),
}
# The school did not confirm these: an alert for the office (dashboard/alerts.py).
NOT_CONFIRMED = ("code_wrong",)


def new_code() -> str:
    """Six random digits and their Damm check digit."""
    digits = f"{secrets.randbelow(1_000_000):06d}"
    return digits + damm.calc_check_digit(digits)


def shown(code: str) -> str:
    """As printed and read aloud: `123 4567`."""
    return f"{code[:3]} {code[3:]}"


def typed(code: str | None) -> str:
    return "".join((code or "").split())


def well_formed(code: str) -> bool:
    """Seven digits whose check digit is right: what a phone can tell with no network."""
    return len(code) == DIGITS and code.isascii() and code.isdigit() and damm.is_valid(code)


def send_code(delivery: Delivery, actor: User | None = None, why: str = "") -> str | None:
    """A new code for the delivery, by SMS to its school's contact (the old one no longer
    works), recorded with who sent it and why; None when the school has no phone. The code
    returned exists in this process's memory (the demo hands over with it)."""
    school = delivery.school
    if not school.contact_phone.strip():
        delivery.code_sealed = delivery.code_hash = delivery.code_salt = ""
        return None
    code = new_code()
    delivery.code_sealed = seal(code)
    delivery.code_hash = delivery.code_salt = ""
    start = delivery.planned_on or local_today()
    delivery.code_expires_on = start + timedelta(days=current_app.config["DELIVERY_CODE_DAYS"])
    delivery.code_tries = 0
    db.session.add(
        DeliveryCodeSending(
            delivery_id=delivery.id, sent_by_id=actor.id if actor else None, reason=why[:300]
        )
    )
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
        secret=shown(code),
    )
    return code


def send_new_code(delivery: Delivery, actor: User | None, why: str) -> str | None:
    """The office's new code for a dispatched delivery: it must say why, and may do so at
    most DELIVERY_CODE_RESENDS times per delivery."""
    why = " ".join((why or "").split())
    if not why:
        raise ValidationFailed(_("Say why the school needs a new code."), field="why")
    limit = int(current_app.config["DELIVERY_CODE_RESENDS"])
    resent = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(DeliveryCodeSending)
        .where(DeliveryCodeSending.delivery_id == delivery.id, DeliveryCodeSending.reason != "")
    )
    if resent >= limit:
        raise IllegalTransition(
            _(
                "%(ref)s already had %(n)s new codes: hand over without the code and say why.",
                ref=delivery.reference,
                n=limit,
            )
        )
    return send_code(delivery, actor, why)


def code_sendings(delivery_id: int) -> list[DeliveryCodeSending]:
    return list(
        db.session.scalars(
            sa.select(DeliveryCodeSending)
            .where(DeliveryCodeSending.delivery_id == delivery_id)
            .order_by(DeliveryCodeSending.id)
        )
    )


def expects_code(delivery: Delivery) -> bool:
    return bool(delivery.code_sealed or delivery.code_hash)


def code_for_school(delivery: Delivery, staff_since: datetime | None) -> str | None:
    """The code as the school's own staff see it (they are the school), while it works:
    the delivery on its way and the code not expired. Only to staff of the school since
    before the delivery left (`staff_since`): an account the office made once the box was
    on the road is not the school's word. Never for anyone else."""
    if delivery.status != "dispatched" or not delivery.code_sealed:
        return None
    if (
        staff_since is None
        or delivery.dispatched_at is None
        or staff_since >= (delivery.dispatched_at)
    ):
        return None
    if delivery.code_expires_on and local_today() > delivery.code_expires_on:
        return None
    return shown(unseal(delivery.code_sealed))


def offline_check(delivery: Delivery) -> dict | None:
    """What the phone needs with no network: how a code is written, never the code nor
    anything derived from it."""
    if not expects_code(delivery):
        return None
    legacy = not delivery.code_sealed
    return {
        "digits": 6 if legacy else DIGITS,
        "check_digit": None if legacy else "damm",
        "expires_on": delivery.code_expires_on.isoformat() if delivery.code_expires_on else None,
    }


def count_try(delivery_id: int) -> bool:
    """Count one try at the code, unless TRIES_ONLINE were made: True when counted. One
    statement, so parallel requests and a batch's actions each see every earlier try."""
    counted = db.session.execute(
        sa.update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.code_tries < TRIES_ONLINE)
        .values(code_tries=Delivery.code_tries + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    return counted == 1


def _right(delivery: Delivery, code: str) -> bool:
    if delivery.code_sealed:
        return hmac.compare_digest(code.encode(), unseal(delivery.code_sealed).encode())
    derived = hashlib.pbkdf2_hmac(
        "sha256", code.encode(), bytes.fromhex(delivery.code_salt), LEGACY_ITERATIONS
    ).hex()
    return hmac.compare_digest(derived, delivery.code_hash)


def confirmation(
    delivery: Delivery,
    school_code: str | None,
    no_code_reason: str | None,
    *,
    via: str,
    typed_offline: bool = False,
    on: date | None = None,
) -> tuple[str, str]:
    """How this hand-over is confirmed, (kind, reason). Online, a wrong or expired code,
    or neither a code nor a reason when a code was sent, is refused. A code typed offline
    (`on` the day of the hand-over) is judged: right, or wrong and not confirmed."""
    if via == "manifest":
        return "paper", ""
    if not expects_code(delivery):
        return "none_sent", ""
    code = typed(school_code)
    if not code:
        reason = " ".join((no_code_reason or "").split())[:300]
        if not reason:
            raise ValidationFailed(
                _("Type the code the school received by SMS, or say why you hand over without it."),
                field="school_code",
            )
        return "no_code", reason
    if typed_offline:
        return _judged_offline(delivery, code, on or local_today()), ""
    if delivery.code_sealed and not well_formed(code):
        # Known wrong without asking the secret: a typo, not a try.
        raise ValidationFailed(
            _("A digit of the code is mistyped: check it with the school (7 digits)."),
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
    if not count_try(delivery.id):
        raise ValidationFailed(
            _(
                "Too many wrong codes for %(ref)s: hand over without the code and say why.",
                ref=delivery.reference,
            ),
            field="school_code",
        )
    if not _right(delivery, code):
        wrong = _(
            "This is not the school's code. Ask again, or hand over without the code and say why."
        )
        raise CountedRefusal(wrong, field="school_code")
    return "code", ""


def _judged_offline(delivery: Delivery, code: str, on: date) -> str:
    """A code typed with no network reaches the server with the hand-over, which happened:
    it is recorded either way, as confirmed or not confirmed by the school."""
    if delivery.code_expires_on and on > delivery.code_expires_on:
        return "code_wrong"
    if not count_try(delivery.id):
        return "code_wrong"
    return "code_offline" if _right(delivery, code) else "code_wrong"
