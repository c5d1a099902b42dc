"""The outbox: messages written with what they tell of, sent by the workers, retried.

A feature queues a message inside its own transaction (`queue_message`), so a message is
sent exactly when what it tells of was committed, never for a rolled-back dispatch. After
the commit the workers are woken (`_wake`); a periodic task also sends what is due, so a
message whose wake was lost, or whose first attempt failed, still goes. Each attempt is
recorded; a message is tried MESSAGES_ATTEMPTS times, further and further apart, then
marked failed with the last error. A message claimed by a worker that died is taken back
after MESSAGES_LEASE_SECONDS and sent again, never lost: every attempt at one message
carries the same idempotency key (an SMS gateway's `Idempotency-Key` header, an e-mail's
`Message-ID`), so a gateway that honours it sends it once; the outbox page marks a message
taken back, as one that may have gone twice.

Who gets what: each kind is registered with the words that name it; the programme turns
a kind off for everyone (TRACKER_MESSAGES_OFF), and a user for themself (My messages).
No message carries a QR token, a password, or anything a page would not show its reader.
"""

import hashlib
import hmac
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from sqlalchemy import event
from sqlalchemy.orm import Session

from tracker.auth.models import User
from tracker.auth.services import when_password_reset
from tracker.database import utcnow
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import kept_text
from tracker.i18n import lazy_gettext as _l
from tracker.jobs.queue import background_task, periodic, run_task
from tracker.messages import channels
from tracker.messages.channels import LOGGED
from tracker.messages.models import MessageAttempt, MessageOptOut, OutboxMessage
from tracker.timezone import format_moment
from tracker.transaction import transaction

log = logging.getLogger(__name__)
WAKE = "tracker.outbox_wake"


@dataclass(frozen=True)
class MessageKind:
    name: str
    label: object  # lazy words: what the message is, on My messages and the outbox page
    # Users whose role may do this get it (and may turn it off); None: sent to no user
    # (a school's contact).
    users_who_may: str | None


KINDS: dict[str, MessageKind] = {}
# A document made when a message is sent: name -> make(ref, language) -> (name, type, bytes)
ATTACHMENTS: dict[str, Callable[[int, str], tuple[str, str, bytes]]] = {}


def message_kind(name: str, label, users_who_may: str | None = None) -> str:
    KINDS[name] = MessageKind(name, label, users_who_may)
    return name


def kinds_for(user: User) -> list[MessageKind]:
    """The kinds `user` may get, so may turn off."""
    from tracker.auth.permissions import can

    return [k for k in KINDS.values() if k.users_who_may and can(user, k.users_who_may)]


def attachment_maker(name: str):
    def register(make):
        ATTACHMENTS[name] = make
        return make

    return register


def programme_sends(kind: str) -> bool:
    off = current_app.config.get("MESSAGES_OFF", "")
    return kind not in {part.strip() for part in off.split(",")}


def opted_out(user_id: int) -> set[str]:
    return set(
        db.session.scalars(sa.select(MessageOptOut.kind).where(MessageOptOut.user_id == user_id))
    )


def set_wanted(user: User, wanted: set[str]) -> None:
    """The kinds `user` wants: the others are turned off for them."""
    db.session.execute(sa.delete(MessageOptOut).where(MessageOptOut.user_id == user.id))
    for kind in sorted({kind.name for kind in kinds_for(user)} - wanted):
        db.session.add(MessageOptOut(user_id=user.id, kind=kind))
    db.session.flush()


SEALED_BYTES = 64  # a delivery code, an invitation link's token


def _keystream(salt: bytes, length: int) -> bytes:
    key = str(current_app.config["SECRET_KEY"]).encode()
    blocks = (
        hmac.new(key, b"tracker-outbox-seal:" + salt + bytes([n]), hashlib.sha256).digest()
        if n
        else hmac.new(key, b"tracker-outbox-seal:" + salt, hashlib.sha256).digest()
        for n in range(SEALED_BYTES // 32)
    )
    return b"".join(blocks)[:length]


def seal(secret: str) -> str:
    """`secret` (at most SEALED_BYTES) XORed with a keystream from the server's key and a
    fresh salt: a copy of the database alone does not hold it."""
    data, salt = secret.encode(), os.urandom(16)
    if len(data) > SEALED_BYTES:
        raise ValueError(f"a sealed secret is at most {SEALED_BYTES} bytes")
    return (
        salt + bytes(a ^ b for a, b in zip(data, _keystream(salt, len(data)), strict=True))
    ).hex()


def unseal(sealed: str) -> str:
    raw = bytes.fromhex(sealed)
    salt, data = raw[:16], raw[16:]
    return bytes(a ^ b for a, b in zip(data, _keystream(salt, len(data)), strict=True)).decode()


def queue_message(
    kind: str,
    *,
    channel: str,
    recipient: str,
    language: str,
    body: str,
    subject: str = "",
    user: User | None = None,
    attachment: str = "",
    attachment_ref: int | None = None,
    secret: str = "",
) -> OutboxMessage | None:
    """Add a message to the outbox in the caller's transaction; None when nobody is to get
    it (no address, the kind turned off for the programme or by its user)."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    recipient = (recipient or "").strip()
    if not recipient or not programme_sends(kind):
        return None
    if user is not None and kind in opted_out(user.id):
        return None
    message = OutboxMessage(
        kind=kind,
        channel=channel,
        recipient=recipient[:255],
        user_id=user.id if user else None,
        language=language,
        subject=subject[:255],
        body=body,
        attachment=attachment,
        attachment_ref=attachment_ref,
        sealed=seal(secret) if secret else "",
    )
    db.session.add(message)
    db.session.info[WAKE] = True
    return message


@event.listens_for(Session, "after_commit")
def _wake(session) -> None:
    """After a commit that queued messages: a worker sends them."""
    if session.info.pop(WAKE, False):
        try:
            run_task("messages.send")
        except Exception:  # noqa: BLE001  (the periodic sending takes them anyway)
            log.warning("the outbox could not wake a worker", exc_info=True)


@event.listens_for(Session, "after_rollback")
def _forget_wake(session) -> None:
    session.info.pop(WAKE, None)


@background_task("messages.send")
@periodic("messages.send_due", minute="*")
def send_due(limit: int = 200) -> int:
    """Send every message due now; the number sent."""
    now = utcnow()
    lease = timedelta(seconds=float(current_app.config["MESSAGES_LEASE_SECONDS"]))
    with transaction():
        # Taken by a worker that died before it recorded the sending: it may have gone.
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.state == "sending", OutboxMessage.next_attempt_at < now - lease)
            .values(state="queued", taken_back=OutboxMessage.taken_back + 1)
        )
    due = db.session.scalars(
        sa.select(OutboxMessage.id)
        .where(OutboxMessage.state == "queued", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    sent = 0
    for message_id in due:
        sent += _send_one(message_id)
    return sent


def _send_one(message_id: int) -> int:
    with transaction():
        claimed = db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.state == "queued")
            .values(state="sending", next_attempt_at=utcnow())
        ).rowcount
    if not claimed:
        return 0
    message = db.session.get(OutboxMessage, message_id)
    config = current_app.config
    body = (
        message.body.replace("{code}", unseal(message.sealed)) if message.sealed else message.body
    )
    try:
        if message.channel == "email":
            attachments = []
            if message.attachment:
                attachments.append(
                    ATTACHMENTS[message.attachment](message.attachment_ref, message.language)
                )
            detail = channels.send_email(
                config,
                message.recipient,
                message.subject,
                body,
                attachments,
                message_id=message.idempotency_key,
            )
            ok = True
        else:
            sms = channels.sms_provider(config)
            detail, ok = sms.send(message.recipient, body, message.idempotency_key), True
    except channels.Refused as error:
        detail, ok = str(error), False
    except Exception as error:  # noqa: BLE001  (recorded on the message, tried again)
        log.exception("message %s could not be sent", message_id)
        detail, ok = f"{type(error).__name__}: {error}", False
    if message.sealed:  # a gateway that echoes the text does not leave the secret here
        secret = unseal(message.sealed)
        if secret in detail:
            detail = detail.replace(secret, "••••••")
    with transaction():
        message = db.session.get(OutboxMessage, message_id, populate_existing=True)
        message.attempts += 1
        detail = kept_text(detail)  # ours said again in the reader's words, a server's as is
        db.session.add(MessageAttempt(message_id=message_id, ok=ok, detail=detail))
        if ok:
            message.state, message.sent_at, message.last_error = "sent", utcnow(), ""
            message.sealed = ""  # the secret has left: nothing of it stays here
        elif message.attempts >= int(config["MESSAGES_ATTEMPTS"]):
            message.state, message.last_error = "failed", detail
            message.sealed = ""
        else:
            # 1, 2, 4, 8… minutes
            wait = timedelta(minutes=2 ** (message.attempts - 1))
            message.state, message.last_error = "queued", detail
            message.next_attempt_at = utcnow() + wait
    return 1 if ok else 0


def only_logged(detail: str) -> bool:
    """Whether an attempt only wrote the message to the log (no server or gateway set)."""
    return detail.startswith('{"m"') and any(f'"m": {json.dumps(m)}' in detail for m in LOGGED)


def outbox(limit: int = 100, people=None) -> list[OutboxMessage]:
    """The latest messages; to `people` only (a select of user ids) when given."""
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if people is not None:
        query = query.where(OutboxMessage.user_id.in_(people))
    return list(db.session.scalars(query))


def attempts_of(message_ids: list[int]) -> dict[int, list[MessageAttempt]]:
    found: dict[int, list[MessageAttempt]] = {}
    if message_ids:
        for attempt in db.session.scalars(
            sa.select(MessageAttempt)
            .where(MessageAttempt.message_id.in_(message_ids))
            .order_by(MessageAttempt.id)
        ):
            found.setdefault(attempt.message_id, []).append(attempt)
    return found


PASSWORD_RESET = message_kind(
    "password_reset", _l("Your password was reset by an admin (to you)"), None
)


@when_password_reset
def _tell_password_reset(user: User, admin: User | None) -> None:
    """The person whose password an admin reset is told, in the programme's language."""
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "fr")):
        subject = _("Your password on the tablet tracker was reset")
        body = _(
            "%(admin)s reset your password on %(day)s; your sessions ended. If you did not "
            "ask for it, tell the office at once.",
            admin=admin.display_name if admin else _("The server's operator"),
            day=format_moment(utcnow()),
        )
    queue_message(
        PASSWORD_RESET,
        channel="email",
        recipient=user.email,
        language=str(current_app.config.get("BABEL_DEFAULT_LOCALE", "fr")),
        subject=subject,
        body=body,
    )
