"""Schools that receive tablets."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tracker.database import UTCDateTime, one_of, utcnow
from tracker.extensions import db

# What a ministry's list says of each school: its cycle and its setting (codes; words in
# schools/words.py). Empty when the list did not say.
CYCLES = ("", "primary", "middle", "secondary")
SETTINGS = ("", "urban", "rural")


class School(db.Model):
    __tablename__ = "schools"
    __table_args__ = (
        sa.CheckConstraint("latitude IS NULL OR latitude BETWEEN -90 AND 90", name="latitude"),
        sa.CheckConstraint("longitude IS NULL OR longitude BETWEEN -180 AND 180", name="longitude"),
        sa.CheckConstraint("enrolment >= 0", name="enrolment"),
        sa.CheckConstraint("need >= 0", name="need"),
        sa.Index(None, "region", "province"),
        sa.Index(None, "commune"),
        one_of("cycle", CYCLES, "cycle"),
        one_of(
            "milieu", SETTINGS, "milieu"
        ),  # the communes a plan's form offers, read from the index
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(30), unique=True)
    name_fr: Mapped[str] = mapped_column(sa.String(200))
    name_ar: Mapped[str] = mapped_column(sa.String(200), default="")
    region: Mapped[str] = mapped_column(sa.String(100))
    province: Mapped[str] = mapped_column(sa.String(100), default="")
    commune: Mapped[str] = mapped_column(sa.String(100), default="")
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    cycle: Mapped[str] = mapped_column(sa.String(12), default="", server_default="")
    milieu: Mapped[str] = mapped_column(sa.String(8), default="", server_default="")
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    contact_name: Mapped[str] = mapped_column(sa.String(120), default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(40), default="")
    # Where the school hears of its deliveries, and in which language (fr or ar).
    contact_email: Mapped[str] = mapped_column(sa.String(254), default="", server_default="")
    contact_language: Mapped[str] = mapped_column(sa.String(5), default="fr", server_default="fr")
    enrolment: Mapped[int] = mapped_column(default=0)
    need: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<School {self.code}>"


class Depot(db.Model):
    """A place stock is held: the central warehouse (no region: the whole programme's) or a
    regional or provincial depot. Tablets in stock are at one (`devices.depot_id`)."""

    __tablename__ = "depots"
    __table_args__ = (sa.Index("ix_depots_region", "region", "province"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(30), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    region: Mapped[str] = mapped_column(sa.String(100), default="")
    province: Mapped[str] = mapped_column(sa.String(100), default="")
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Depot {self.code}>"


class SchoolStaff(db.Model):
    """A school user's school: a head teacher or ICT teacher sees the tablets, deliveries,
    borrowers and counts of these schools only (one, or a few)."""

    __tablename__ = "school_staff"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    school_id: Mapped[int] = mapped_column(
        sa.ForeignKey("schools.id"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
