"""The outbox: every message to send, each attempt at sending it, and who wants which."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tracker.database import UTCDateTime, one_of, utcnow
from tracker.extensions import db

CHANNELS = ("email", "sms")
MESSAGE_STATES = ("queued", "sending", "sent", "failed")


class OutboxMessage(db.Model):
    """A message written in the same transaction as what it tells of, sent afterwards."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        one_of("channel", CHANNELS, "channel"),
        one_of("state", MESSAGE_STATES, "state"),
        sa.Index(
            "ix_outbox_messages_due",
            "next_attempt_at",
            sqlite_where=sa.text("state IN ('queued', 'sending')"),
            postgresql_where=sa.text("state IN ('queued', 'sending')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    channel: Mapped[str] = mapped_column(sa.String(10))
    # An e-mail address or a phone number; the user it is for, when it is one.
    recipient: Mapped[str] = mapped_column(sa.String(255))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    language: Mapped[str] = mapped_column(sa.String(5))
    subject: Mapped[str] = mapped_column(sa.String(255), default="")
    body: Mapped[str] = mapped_column(sa.Text)
    # A document made when the message is sent (a proof of delivery), by its kind and id.
    attachment: Mapped[str] = mapped_column(sa.String(40), default="")
    attachment_ref: Mapped[int | None]
    # A secret the body names as {code} (a delivery code), sealed with the server's key
    # until the message leaves, then erased (services.seal).
    sealed: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    state: Mapped[str] = mapped_column(sa.String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(sa.String(500), default="")
    # Times it was taken back from a worker that died while sending it: it may have gone
    # already (an e-mail then arrives twice; an SMS gateway that honours the idempotency
    # key sends it once). Shown on the outbox page.
    taken_back: Mapped[int] = mapped_column(default=0, server_default="0")

    @property
    def idempotency_key(self) -> str:
        """The same for every attempt at this message: what a gateway deduplicates by."""
        return f"tracker-outbox-{self.id}"


class MessageAttempt(db.Model):
    __tablename__ = "message_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        sa.ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ok: Mapped[bool]
    detail: Mapped[str] = mapped_column(sa.String(500), default="")


class MessageOptOut(db.Model):
    """A kind of message a user turned off for themself."""

    __tablename__ = "message_opt_outs"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
