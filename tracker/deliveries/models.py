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
# What the school said of each tablet in its own receipt ("" before it said anything).
SCHOOL_SAID = ("", "received", "damaged", "missing")
# How the school's receipt reached the server: from the school's account (its page or its
# phone's queue), or signed by a phone key of the school's staff (brought by either phone).
RECEIPT_PROOFS = ("account", "signed")
RECEIPT_MATCHES = ("", "agrees", "differs")  # "" while the agent's hand-over is not in
# A tablet handed over whose receipt the school confirmed: the dashboard counts these lines
# through a partial index of them alone (the condition is spelled so both databases can
# prove the index covers it).
SCHOOL_CONFIRMED = sa.text(
    "delivery_items.status = 'delivered' AND delivery_items.school_said IN ('received', 'damaged')"
)


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
    # The depot the boxes left from (named on the delivery note).
    from_depot_id: Mapped[int | None] = mapped_column(sa.ForeignKey("depots.id"))
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
    # Why a school's receipt the agent's phone brought did not confirm the hand-over (a
    # code of deliveries/receipts.py REFUSALS; "" when none was refused).
    receipt_refused: Mapped[str] = mapped_column(sa.String(20), default="", server_default="")
    # Codes scanned at the school that are not on this delivery, with why they were refused.
    unexpected: Mapped[list] = mapped_column(sa.JSON, default=list)

    school = relationship("School")
    plan = relationship("AllocationPlan")
    from_depot = relationship("Depot")
    assigned_to = relationship("User", foreign_keys=[assigned_to_id])
    created_by = relationship("User", foreign_keys=[created_by_id])
    delivered_by = relationship("User", foreign_keys=[delivered_by_id])
    items: Mapped[list["DeliveryItem"]] = relationship(
        back_populates="delivery", cascade="all, delete-orphan", order_by="DeliveryItem.id"
    )
    receipt: Mapped["SchoolReceipt | None"] = relationship(
        back_populates="delivery", uselist=False, viewonly=True
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
        one_of("school_said", SCHOOL_SAID, "school_said"),
        sa.Index(
            "ix_delivery_items_school_confirmed",
            "delivery_id",
            sqlite_where=SCHOOL_CONFIRMED,
            postgresql_where=SCHOOL_CONFIRMED,
        ),
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
    # What the school's own receipt says of this tablet (deliveries/receipts.py).
    school_said: Mapped[str] = mapped_column(sa.String(10), default="", server_default="")

    delivery: Mapped[Delivery] = relationship(back_populates="items")
    device = relationship("Device")


class PhoneKey(db.Model):
    """The public half of a key made on a school user's phone (ECDSA P-256, WebCrypto; the
    private half never leaves the phone). A receipt signed with it is the school's own; the
    agent's manifest carries the public halves of the school's keys to check one offline."""

    __tablename__ = "phone_keys"
    __table_args__ = (sa.UniqueConstraint("public_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    public_key: Mapped[bytes] = mapped_column(sa.LargeBinary(200))  # SubjectPublicKeyInfo, DER
    label: Mapped[str] = mapped_column(sa.String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    user = relationship("User", foreign_keys=[user_id])
    revoked_by = relationship("User", foreign_keys=[revoked_by_id])


class SchoolReceipt(db.Model):
    """The school's own record of what it received, kept beside the agent's hand-over: one
    per delivery. Each tablet's word is on its line (`DeliveryItem.school_said`); tablets
    received that were not on the delivery are kept here (`extras`)."""

    __tablename__ = "school_receipts"
    __table_args__ = (
        one_of("proof", RECEIPT_PROOFS, "proof"),
        one_of("matched", RECEIPT_MATCHES, "matched"),
        sa.CheckConstraint(
            "proof <> 'signed' OR (phone_key_id IS NOT NULL AND signed_text <> '')",
            name="signed_has_key",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("deliveries.id"), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))  # who confirmed it
    proof: Mapped[str] = mapped_column(sa.String(10))
    phone_key_id: Mapped[int | None] = mapped_column(sa.ForeignKey("phone_keys.id"))
    # The receipt exactly as the school's phone signed it, for anyone to check again.
    signed_text: Mapped[str] = mapped_column(sa.String(600), default="", server_default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the phone's clock, bounded
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    brought_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    extras: Mapped[list] = mapped_column(sa.JSON, default=list)
    notes: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    matched: Mapped[str] = mapped_column(sa.String(10), default="", server_default="")

    delivery: Mapped[Delivery] = relationship(back_populates="receipt")
    user = relationship("User", foreign_keys=[user_id])
    brought_by = relationship("User", foreign_keys=[brought_by_id])
    phone_key = relationship("PhoneKey")


# A move of stock between depots (tracker.deliveries.moves): packed at the first by scans,
# on the way, received at the second by scans of another person.
MOVE_STATUSES = ("packing", "on_the_way", "received", "cancelled")


class DepotMove(db.Model):
    __tablename__ = "depot_moves"
    __table_args__ = (
        one_of("status", MOVE_STATUSES, "status"),
        sa.CheckConstraint("from_depot_id <> to_depot_id", name="two_depots"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    from_depot_id: Mapped[int] = mapped_column(sa.ForeignKey("depots.id"))
    to_depot_id: Mapped[int] = mapped_column(sa.ForeignKey("depots.id"))
    status: Mapped[str] = mapped_column(sa.String(12), default="packing", index=True)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dispatched_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    from_depot = relationship("Depot", foreign_keys=[from_depot_id])
    to_depot = relationship("Depot", foreign_keys=[to_depot_id])
    created_by = relationship("User", foreign_keys=[created_by_id])
    dispatched_by = relationship("User", foreign_keys=[dispatched_by_id])
    received_by = relationship("User", foreign_keys=[received_by_id])
    items: Mapped[list["DepotMoveItem"]] = relationship(
        back_populates="move", order_by="DepotMoveItem.packed_at"
    )

    @property
    def reference(self) -> str:
        return f"MOV-{self.id:05d}"


class DepotMoveItem(db.Model):
    __tablename__ = "depot_move_items"

    move_id: Mapped[int] = mapped_column(sa.ForeignKey("depot_moves.id"), primary_key=True)
    device_id: Mapped[int] = mapped_column(
        sa.ForeignKey("devices.id"), primary_key=True, index=True
    )
    packed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    move: Mapped[DepotMove] = relationship(back_populates="items")
    device = relationship("Device")
