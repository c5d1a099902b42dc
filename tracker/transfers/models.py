"""A transfer of tablets from one school to another, and the tablets scanned out for it."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.database import UTCDateTime, one_of, utcnow
from tracker.extensions import db

TRANSFER_STATES = ("proposed", "submitted", "approved", "on_the_way", "cancelled")
REASONS = ("surplus", "by_hand")


class Transfer(db.Model):
    __tablename__ = "transfers"
    __table_args__ = (
        one_of("status", TRANSFER_STATES, "status"),
        one_of("reason", REASONS, "reason"),
        sa.CheckConstraint("from_school_id <> to_school_id", name="two_schools"),
        sa.CheckConstraint("quantity > 0", name="quantity"),
        sa.Index(None, "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    from_school_id: Mapped[int] = mapped_column(sa.ForeignKey("schools.id"), index=True)
    to_school_id: Mapped[int] = mapped_column(sa.ForeignKey("schools.id"), index=True)
    quantity: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(12), default="proposed")
    reason: Mapped[str] = mapped_column(sa.String(10), default="by_hand")
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The delivery that carries it, from its first tablet scanned out at the first school.
    delivery_id: Mapped[int | None] = mapped_column(sa.ForeignKey("deliveries.id"), unique=True)
    # The field agent who carries it out (scans out, leaves, hands over), like a delivery's:
    # other agents do not see it.
    assigned_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    from_school = relationship("School", foreign_keys=[from_school_id])
    to_school = relationship("School", foreign_keys=[to_school_id])
    assigned_to = relationship("User", foreign_keys=[assigned_to_id])
    delivery = relationship("Delivery")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])

    @property
    def reference(self) -> str:
        return f"TRF-{self.id:05d}"
