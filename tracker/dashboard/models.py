"""What a person said of an alert: seen and being dealt with, or resolved, with a note."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.database import UTCDateTime, one_of, utcnow
from tracker.extensions import db

ALERT_STATES = ("acknowledged", "resolved")
ALERT_KINDS = (
    "overdue",
    "unconfirmed",
    "wrong_school",
    "two_schools",
    "faulty_lost",
    "plans_waiting",
    "unseen",
    "loans_overdue",
    "warranty_ending",
    "repairs_open",
    "not_confirmed",
    "receipt_differs",
    "receipt_missing",
)


class AlertNote(db.Model):
    """One per alert: `kind` and `subject` name it (the delivery, the event or the plan it
    is about). A resolved alert leaves the list and its count; an acknowledged one stays,
    with who saw it and what they said."""

    __tablename__ = "alert_notes"
    __table_args__ = (
        one_of("state", ALERT_STATES, "state"),
        one_of("kind", ALERT_KINDS, "kind"),
        sa.UniqueConstraint("kind", "subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    subject: Mapped[int] = mapped_column(sa.Integer)
    state: Mapped[str] = mapped_column(sa.String(12))
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor = relationship("User")
