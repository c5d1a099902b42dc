"""Devices (one physical tablet each), their append-only event history, and counters."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.database import UTCDateTime, one_of, utcnow
from tracker.extensions import db

STATUSES = (
    "in_stock",
    "reserved",
    "in_transit",
    "delivered",
    "on_loan",
    "returned",
    "faulty",
    "lost",
)
CONDITIONS = ("new", "good", "fair", "damaged")
EVENT_TYPES = (
    "registered",
    "tagged",
    "label_replaced",
    "reserved",
    "released",
    "packed",
    "unpacked",
    "dispatched",
    "recalled",
    "scanned",
    "delivered",
    "returned",
    "restocked",
    "reported_faulty",
    "repaired",
    "reported_lost",
    "found",
    "edited",
    "corrected_delivered",
    "corrected_refused",
    "lent",
    "loan_returned",
    "counted",
    "back_from_repair",
    "replacement_for",
    "replaced_by",
    "transferred_out",
    "opening",
    "sent_to_depot",
    "received_at_depot",
)


def serial_key(serial: str) -> str:
    """What a serial is compared by: no spaces, upper case."""
    return "".join(str(serial or "").split()).upper()


class Device(db.Model):
    __tablename__ = "devices"
    __table_args__ = (
        one_of("status", STATUSES, "status"),
        one_of("condition", CONDITIONS, "condition"),
        sa.CheckConstraint("imei IS NULL OR length(imei) = 15", name="imei_length"),
        # Each list filter is paired with the default sort, so a filtered page is an index range.
        sa.Index(None, "status", "asset_tag"),
        sa.Index(None, "donation_id", "asset_tag"),
        # A donation's tablets by state and school (its donor's page), from the index alone.
        sa.Index("ix_devices_donation_id_status", "donation_id", "status", "school_id"),
        # A school's tablets (by state), and an office's schools' tablets of one state counted
        # from the index alone (tracker.devices.queries.count_filtered).
        sa.Index("ix_devices_school_id_status", "school_id", "status", "asset_tag"),
        # A depot's stock: its tablets with no school, counted from the index alone.
        sa.Index("ix_devices_depot_id", "depot_id", "school_id", "status"),
        # Delivered tablets nobody has seen for long (the alert), oldest first.
        sa.Index(None, "status", "last_seen_at"),
        # The first characters of a serial or IMEI typed into the code box
        # (tracker.database.starts_with); SQLite's own indexes on them serve that already.
        sa.Index(
            "ix_devices_serial_prefix", "serial", postgresql_ops={"serial": "varchar_pattern_ops"}
        ).ddl_if(dialect="postgresql"),
        sa.Index(
            "ix_devices_serial_key_prefix",
            "serial_key",
            postgresql_ops={"serial_key": "varchar_pattern_ops"},
        ).ddl_if(dialect="postgresql"),
        sa.Index(
            "ix_devices_imei_prefix", "imei", postgresql_ops={"imei": "varchar_pattern_ops"}
        ).ddl_if(dialect="postgresql"),
        sa.Index("ix_devices_imei2", "imei2", unique=True),
        sa.Index("uq_devices_serial_key", "serial_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_tag: Mapped[str] = mapped_column(sa.String(30), unique=True)
    qr_token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The serial as the donor or the previous tool wrote it (case, dashes); `serial_key` is
    # what it is compared by: no spaces, upper case (one tablet whatever the case typed).
    serial: Mapped[str] = mapped_column(sa.String(64), unique=True)
    serial_key: Mapped[str] = mapped_column(
        sa.String(64),
        default=lambda context: serial_key(context.get_current_parameters()["serial"]),
        server_default="",
    )
    imei: Mapped[str | None] = mapped_column(sa.String(15), unique=True)
    model: Mapped[str] = mapped_column(sa.String(120), default="")
    donation_id: Mapped[int] = mapped_column(sa.ForeignKey("donations.id"))
    status: Mapped[str] = mapped_column(sa.String(20), default="in_stock")
    condition: Mapped[str] = mapped_column(sa.String(20), default="new")
    # The school the device is promised to (reserved, in transit) or was handed to (delivered).
    school_id: Mapped[int | None] = mapped_column(sa.ForeignKey("schools.id"))
    # One column, so a device can never sit in two allocations at once.
    allocation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("allocations.id"), index=True)
    # The depot it is in stock at, or last left from (tracker.schools.reach: a tablet with no
    # school is where its depot is).
    depot_id: Mapped[int | None] = mapped_column(sa.ForeignKey("depots.id"))
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    # What a donor's packing list says beside the serial, kept as the donor wrote it: a
    # second SIM's IMEI, the brand, the donor's own inventory number, the day the donor
    # delivered the tablet and the end of its warranty.
    imei2: Mapped[str | None] = mapped_column(sa.String(15))
    brand: Mapped[str] = mapped_column(sa.String(60), default="", server_default="")
    donor_ref: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    donor_delivered_on: Mapped[date | None] = mapped_column(sa.Date)
    warranty_until: Mapped[date | None] = mapped_column(sa.Date)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The last time someone had it in hand: a scan (packing, at the school), a hand-over,
    # a return, a registration (devices/services.py `seen`); None before any.
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    donation = relationship("Donation")
    school = relationship("School")
    depot = relationship("Depot")
    allocation = relationship("Allocation")

    # Optimistic locking: every UPDATE checks the version it read, so a stale write fails.
    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Device {self.asset_tag} {self.status}>"


class DeviceEvent(db.Model):
    """One line of a device's history. Rows are only ever inserted."""

    __tablename__ = "device_events"
    __table_args__ = (
        one_of("type", EVENT_TYPES, "type"),
        sa.Index(None, "device_id", "id"),
        sa.Index(None, "school_id", "id"),
        sa.Index(None, "actor_id", "id"),
        sa.Index(None, "type", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("devices.id"))
    type: Mapped[str] = mapped_column(sa.String(30))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The time the phone said, when the action came from the offline queue.
    client_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str | None] = mapped_column(sa.String(20))
    school_id: Mapped[int | None] = mapped_column(sa.ForeignKey("schools.id"))
    delivery_id: Mapped[int | None] = mapped_column(sa.ForeignKey("deliveries.id"), index=True)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    device = relationship("Device")
    actor = relationship("User")
    school = relationship("School")


class RetiredQrToken(db.Model):
    """A QR token a device no longer answers to: its label was lost, copied or replaced."""

    __tablename__ = "retired_qr_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("devices.id"), index=True)
    retired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    device = relationship("Device")


class Counter(db.Model):
    """Named sequences (asset tag numbers) that never hand out the same number twice."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


# On PostgreSQL the history cannot be rewritten even by hand: UPDATE and DELETE on
# device_events are refused (the service layer never does either on any database).
# ("%%": sa.DDL formats its text with the table's name.)
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION device_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'device_events is append-only: %% refused', TG_OP;
END;
$$ LANGUAGE plpgsql
"""
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER device_events_append_only BEFORE UPDATE OR DELETE ON device_events
FOR EACH ROW EXECUTE FUNCTION device_events_append_only()
"""
for _statement in (APPEND_ONLY_FUNCTION, APPEND_ONLY_TRIGGER):
    sa.event.listen(
        DeviceEvent.__table__,
        "after_create",
        sa.DDL(_statement).execute_if(dialect="postgresql"),
    )
