"""Deliveries of specific devices to one school, with proof of hand-over."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, column_property, deferred, mapped_column, relationship

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
# expected: on the delivery; packed: scanned into the box; scanned: scanned at the school;
# then one of the outcomes of the hand-over; removed: taken off before it left.
ITEM_STATUSES = (
    "expected",
    "packed",
    "scanned",
    "delivered",
    "missing",
    "damaged",
    "refused",
    "removed",
)
# A device is on at most one delivery in these states (a partial unique index).
ACTIVE_ITEM_STATUSES = ("expected", "packed", "scanned")
MISSING_REASONS = ("missing", "damaged", "refused")
UNDER_WAY = ("planned", "packed", "dispatched")  # not yet handed over, failed or cancelled
HANDED_OVER = ("delivered", "partially_delivered")
HANDOVER_SOURCES = ("", "screen", "manifest")


class Delivery(db.Model):
    __tablename__ = "deliveries"
    __table_args__ = (
        one_of("status", DELIVERY_STATUSES, "status"),
        one_of("handover_via", HANDOVER_SOURCES, "handover_via"),
        sa.CheckConstraint(
            "status NOT IN ('delivered', 'partially_delivered') OR delivered_at IS NOT NULL",
            name="handed_over_has_time",
        ),
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
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # as the phone said
    # When the server received the hand-over (a phone offline sends it hours later).
    handover_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recipient_name: Mapped[str] = mapped_column(sa.String(120), default="")
    recipient_role: Mapped[str] = mapped_column(sa.String(120), default="")
    signature_png: Mapped[bytes | None] = deferred(mapped_column(sa.LargeBinary))
    photo_jpeg: Mapped[bytes | None] = deferred(mapped_column(sa.LargeBinary))
    # Whether each picture is there, loaded with the row instead of the picture itself (a
    # page shows it from its own address).
    has_signature: Mapped[bool] = column_property(signature_png.columns[0].is_not(None))
    has_photo: Mapped[bool] = column_property(photo_jpeg.columns[0].is_not(None))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    location_accuracy: Mapped[float | None]  # metres, as the phone reported it
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    delivered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    handover_via: Mapped[str] = mapped_column(sa.String(20), default="")
    # The school's delivery code (deliveries/codes.py), sealed with the server's key; codes
    # sent before migration 0026 are kept as a salted PBKDF2 hash (checked here, never sent).
    code_sealed: Mapped[str] = mapped_column(sa.String(100), default="", server_default="")
    code_hash: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    code_salt: Mapped[str] = mapped_column(sa.String(32), default="", server_default="")
    code_expires_on: Mapped[date | None]
    code_tries: Mapped[int] = mapped_column(default=0, server_default="0")
    # How the hand-over was confirmed: code, code_offline, code_wrong, no_code (with the
    # agent's reason), none_sent, paper; "" before codes existed.
    handover_confirmation: Mapped[str] = mapped_column(sa.String(20), default="", server_default="")
    no_code_reason: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    failure_reason: Mapped[str] = mapped_column(sa.String(300), default="")
    # Codes scanned at the school that are not on this delivery, with why they were refused.
    unexpected: Mapped[list] = mapped_column(sa.JSON, default=list)

    school = relationship("School")
    plan = relationship("AllocationPlan")
    assigned_to = relationship("User", foreign_keys=[assigned_to_id])
    created_by = relationship("User", foreign_keys=[created_by_id])
    delivered_by = relationship("User", foreign_keys=[delivered_by_id])
    items: Mapped[list["DeliveryItem"]] = relationship(
        back_populates="delivery", cascade="all, delete-orphan", order_by="DeliveryItem.id"
    )

    @property
    def reference(self) -> str:
        return f"DEL-{self.id:05d}"


# The delivery list's order (the latest planned day first, undated ones last) as an index,
# so a page reads its rows in order instead of sorting every delivery of the programme.
# SQLite puts NULLs last in a descending walk by itself (and has no NULLS FIRST in indexes).
sa.Index("ix_deliveries_planned_on_id", Delivery.planned_on, Delivery.id).ddl_if(dialect="sqlite")
sa.Index(
    "ix_deliveries_planned_order", Delivery.planned_on.desc().nulls_last(), Delivery.id.desc()
).ddl_if(dialect="postgresql")


class DeliveryCodeSending(db.Model):
    """A code sent to the school: at dispatch (no reason), or a new one from the office,
    with who asked and why (deliveries/codes.py)."""

    __tablename__ = "delivery_code_sendings"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        sa.ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")

    sent_by = relationship("User")


class DeliveryItem(db.Model):
    __tablename__ = "delivery_items"
    __table_args__ = (
        sa.UniqueConstraint("delivery_id", "device_id"),
        one_of("status", ITEM_STATUSES, "status"),
        sa.Index(
            "uq_delivery_items_active_device",
            "device_id",
            unique=True,
            sqlite_where=sa.text("status IN ('expected', 'packed', 'scanned')"),
            postgresql_where=sa.text("status IN ('expected', 'packed', 'scanned')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("deliveries.id"))
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("devices.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="expected")
    packed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scanned_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    discrepancy: Mapped[str] = mapped_column(sa.String(300), default="")

    delivery: Mapped[Delivery] = relationship(back_populates="items")
    device = relationship("Device")
