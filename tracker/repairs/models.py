"""A repair case: opened when a tablet is reported faulty (however it was), followed through
the repairer, closed as repaired, replaced or beyond repair."""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.database import UTCDateTime, utcnow
from tracker.extensions import db

OUTCOMES = ("repaired", "replaced", "beyond_repair")
MAX_PHOTOS = 3


class RepairCase(db.Model):
    __tablename__ = "repair_cases"
    __table_args__ = (
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('repaired', 'replaced', 'beyond_repair')",
            name="outcome",
        ),
        sa.CheckConstraint("(closed_at IS NULL) = (outcome IS NULL)", name="closed_together"),
        sa.CheckConstraint("cost IS NULL OR cost >= 0", name="cost"),
        sa.CheckConstraint(
            "returned_on IS NULL OR sent_on IS NULL OR returned_on >= sent_on", name="dates"
        ),
        # One open case per tablet: the database refuses a second.
        sa.Index(
            "uq_repair_cases_open_device",
            "device_id",
            unique=True,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        ),
        sa.Index(None, "closed_at", "opened_at"),
        sa.Index(None, "device_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("devices.id"))
    # The school it was at when it broke (it goes back there, or its replacement does).
    school_id: Mapped[int | None] = mapped_column(sa.ForeignKey("schools.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    fault: Mapped[str] = mapped_column(sa.Text, default="")
    under_warranty: Mapped[bool] = mapped_column(default=False)  # on the day it was opened
    warranty_claim: Mapped[bool] = mapped_column(default=False)
    repairer: Mapped[str] = mapped_column(sa.String(120), default="")
    repairer_ref: Mapped[str] = mapped_column(sa.String(64), default="")
    sent_on: Mapped[date | None] = mapped_column(sa.Date)
    returned_on: Mapped[date | None] = mapped_column(sa.Date)
    cost: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 2))
    outcome: Mapped[str | None] = mapped_column(sa.String(14))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    replacement_id: Mapped[int | None] = mapped_column(sa.ForeignKey("devices.id"))

    device = relationship("Device", foreign_keys=[device_id])
    replacement = relationship("Device", foreign_keys=[replacement_id])
    school = relationship("School")
    opened_by = relationship("User", foreign_keys=[opened_by_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])


class RepairPhoto(db.Model):
    __tablename__ = "repair_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("repair_cases.id"), index=True)
    jpeg: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
