"""Donors and their donations (grant agreements)."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.database import UTCDateTime, utcnow
from tracker.extensions import db


class Donor(db.Model):
    __tablename__ = "donors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    country: Mapped[str] = mapped_column(sa.String(100), default="")
    contact: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    donations: Mapped[list["Donation"]] = relationship(back_populates="donor")


class Donation(db.Model):
    __tablename__ = "donations"
    __table_args__ = (sa.CheckConstraint("quantity_promised >= 0", name="quantity_promised"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(60), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    donor_id: Mapped[int] = mapped_column(sa.ForeignKey("donors.id"), index=True)
    received_on: Mapped[date]
    quantity_promised: Mapped[int]
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Open figures (tracker/reports/open_figures.py): the key of the donation's public page,
    # made when the programme opens it; none while it is off (the default).
    public_key: Mapped[str | None] = mapped_column(sa.String(43), unique=True, index=True)
    public_since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    donor: Mapped[Donor] = relationship(back_populates="donations")
