"""A count (an inventory) of the tablets at a school, a province, a region or the whole
programme: each school's expected list is fixed when it opens (one line per tablet), and
each scan finds a line, or is kept as an unexpected tablet at the school it was scanned at.
A count of a depot lists the depot's stock the same way (`CountStockLine`).
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.database import UTCDateTime, one_of, utcnow
from tracker.devices.states import HANDED_OVER
from tracker.extensions import db

SCOPES = ("school", "province", "region", "programme", "depot")
COUNT_STATES = ("open", "closing", "closed")
LINE_STATES = ("expected", "found", "missing")
# A depot's line may also be a tablet scanned there that was not on its list.
STOCK_LINE_STATES = (*LINE_STATES, "unexpected")
# The states a tablet is in when it should be at its school: handed over, or lent from it.
COUNTED_STATES = HANDED_OVER
# The states a tablet is in when it should be on a depot's shelf: in stock, or reserved for
# a school (packed or not) and not yet dispatched.
STOCK_COUNTED_STATES = ("in_stock", "reserved")


class Count(db.Model):
    __tablename__ = "counts"
    __table_args__ = (
        one_of("scope", SCOPES, "scope"),
        one_of("status", COUNT_STATES, "status"),
        sa.CheckConstraint("ends_on >= starts_on", name="window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    scope: Mapped[str] = mapped_column(sa.String(12))
    # The school's or depot's id (as text), the province's or region's name; empty for the
    # programme.
    scope_value: Mapped[str] = mapped_column(sa.String(100), default="")
    # Only the schools of this cycle and setting within the scope (empty: every one).
    cycle: Mapped[str] = mapped_column(sa.String(12), default="", server_default="")
    milieu: Mapped[str] = mapped_column(sa.String(8), default="", server_default="")
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(10), default="open")
    expected: Mapped[int] = mapped_column(default=0)  # tablets on the list when it opened
    opened_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Closing asks for a manager's confirmation before "not yet seen" becomes "missing".
    close_asked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    close_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    missing: Mapped[int] = mapped_column(default=0)  # set when it closes

    opened_by = relationship("User", foreign_keys=[opened_by_id])
    close_asked_by = relationship("User", foreign_keys=[close_asked_by_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])

    def __repr__(self) -> str:
        return f"<Count {self.id} {self.scope} {self.status}>"


class CountLine(db.Model):
    """One expected tablet of a count, at the school it should be at.

    Keyed by count, school, then tablet, and clustered so on SQLite (no rowid): a school's
    lines are one range, and opening a count writes them in that order, so a national
    snapshot costs little more than a bare copy. The school and the tablet are copied from
    rows that hold them under their own foreign keys, in the same statement; only the
    count's key is checked again when it opens (each per-row check would double the cost;
    who found it, and where, are checked when a scan sets them).
    """

    __tablename__ = "count_lines"
    __table_args__ = (
        one_of("status", LINE_STATES, "status"),
        # The tablets found at a school they are not listed at: none when the count opens.
        sa.Index(
            "ix_count_lines_found_elsewhere",
            "count_id",
            "found_school_id",
            sqlite_where=sa.text("found_school_id IS NOT NULL"),
            postgresql_where=sa.text("found_school_id IS NOT NULL"),
        ),
        {"sqlite_with_rowid": False},
    )

    count_id: Mapped[int] = mapped_column(sa.ForeignKey("counts.id"), primary_key=True)
    school_id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(10), default="expected")
    # Where it was scanned (another school's: found, and unexpected there), when, by whom.
    found_school_id: Mapped[int | None] = mapped_column(sa.ForeignKey("schools.id"))
    found_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    found_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    condition: Mapped[str | None] = mapped_column(sa.String(20))

    device = relationship(
        "Device", primaryjoin="CountLine.device_id == Device.id", foreign_keys=[device_id]
    )


class CountExtra(db.Model):
    """A tablet scanned at a school of the count that is not this school's to count: on no
    list of it (in stock, another school outside the count), or listed at another school,
    or no longer held here. A sighting for the office to check: nothing on the tablet
    changes until the office accepts it."""

    __tablename__ = "count_extras"
    __table_args__ = (
        sa.UniqueConstraint("count_id", "school_id", "code"),
        sa.Index(None, "count_id", "school_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    count_id: Mapped[int] = mapped_column(sa.ForeignKey("counts.id"))
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("schools.id"))
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("devices.id"))
    code: Mapped[str] = mapped_column(sa.String(64))
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    found_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # What the person who scanned it said of it, applied only once the office accepts the
    # sighting (counts/services.py `accept_sighting`); who accepted it, and when.
    condition: Mapped[str | None] = mapped_column(sa.String(20))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    device = relationship("Device")


class CountStockLine(db.Model):
    """One tablet of a depot's count: on the depot's shelf when the count opened (expected,
    then found or missing), or scanned there and on no list of it (unexpected: a sighting
    for the office; nothing on the tablet changes). Keyed and clustered as `CountLine`."""

    __tablename__ = "count_stock_lines"
    __table_args__ = (one_of("status", STOCK_LINE_STATES, "status"), {"sqlite_with_rowid": False})

    count_id: Mapped[int] = mapped_column(sa.ForeignKey("counts.id"), primary_key=True)
    device_id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(10), default="expected")
    found_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    found_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    condition: Mapped[str | None] = mapped_column(sa.String(20))
