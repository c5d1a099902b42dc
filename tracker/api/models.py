"""The record of every offline action the server has answered."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tracker.database import UTCDateTime, one_of, utcnow
from tracker.extensions import db

ACTION_TYPES = (
    "scan",
    "handover",
    "report",
    "count_scan",
    "receipt",
    "lend",
    "take_back",
    "sign_loan",
)
ACTION_OUTCOMES = ("applied", "rejected")


class SyncAction(db.Model):
    """One queued action from a phone, answered once: its client-made id is unique per user
    here, so a resent action can never be applied twice, whatever the timing."""

    __tablename__ = "sync_actions"
    __table_args__ = (
        # An id is unique per user: phones make them, and one user's cannot shadow another's.
        sa.UniqueConstraint("user_id", "client_id"),
        one_of("type", ACTION_TYPES, "type"),
        one_of("outcome", ACTION_OUTCOMES, "outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.String(64))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    delivery_id: Mapped[int | None] = mapped_column(sa.ForeignKey("deliveries.id"), index=True)
    # A count's scan (type count_scan) names its count instead of a delivery.
    count_id: Mapped[int | None] = mapped_column(sa.ForeignKey("counts.id"))
    type: Mapped[str] = mapped_column(sa.String(20))
    outcome: Mapped[str] = mapped_column(sa.String(20))
    message: Mapped[str] = mapped_column(sa.String(500), default="")
    client_time: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the phone's clock
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # the server's
