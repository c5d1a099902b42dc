"""Deliveries of specific devices to one school, with proof of hand-over."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from tracker.database import UTCDateTime, one_of, utcnow
from tracker.extensions import db

DELIVERY_STATUSES = (
    "planned",
    "packed",
    "dispatched",
    "delivered",
    "partially_delivered",
    "failed",
    "cancelled",
)
ITEM_STATUSES = ("expected", "packed", "scanned", "delivered", "missing", "damaged", "refused")


class Delivery(db.Model):
    __tablename__ = "deliveries"
    __table_args__ = (
        one_of("status", DELIVERY_STATUSES, "status"),
        sa.Index(None, "assigned_to_id", "planned_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("schools.id"), index=True)
    plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("allocation_plans.id"), index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    planned_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(sa.String(30), default="planned", index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    packed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Proof of delivery.
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recipient_name: Mapped[str] = mapped_column(sa.String(120), default="")
    recipient_role: Mapped[str] = mapped_column(sa.String(120), default="")
    signature_png: Mapped[bytes | None] = deferred(mapped_column(sa.LargeBinary))
    photo_jpeg: Mapped[bytes | None] = deferred(mapped_column(sa.LargeBinary))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    notes: Mapped[str] = mapped_column(sa.Text, default="")

    school = relationship("School")
    plan = relationship("AllocationPlan")
    assigned_to = relationship("User", foreign_keys=[assigned_to_id])
    items: Mapped[list["DeliveryItem"]] = relationship(
        back_populates="delivery", cascade="all, delete-orphan"
    )


class DeliveryItem(db.Model):
    __tablename__ = "delivery_items"
    __table_args__ = (
        sa.UniqueConstraint("delivery_id", "device_id"),
        one_of("status", ITEM_STATUSES, "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("deliveries.id"))
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("devices.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="expected")
    scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scanned_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    discrepancy: Mapped[str] = mapped_column(sa.String(300), default="")

    delivery: Mapped[Delivery] = relationship(back_populates="items")
    device = relationship("Device")
