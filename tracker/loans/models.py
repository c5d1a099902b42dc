"""Borrowers and loans: who took a school's tablet home, when, under which agreement.

A borrower holds what a loan needs and nothing more (Morocco's law 09-08 on personal data):
a local code, a name, a class, and for a pupil the guardian's name and phone. Names are
erased a number of years after the last return (`loans.services.erase_expired`); the loan
stays, anonymised, so the counts do.
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.database import UTCDateTime, one_of, utcnow
from tracker.extensions import db

KINDS = ("pupil", "teacher")
LOAN_CONDITIONS = ("good", "fair", "damaged")
# How a loan ended: brought back, or the tablet left the loan another way (reported lost
# or faulty while lent).
ENDINGS = ("returned", "lost", "faulty")


class Borrower(db.Model):
    __tablename__ = "borrowers"
    __table_args__ = (
        one_of("kind", KINDS, "kind"),
        sa.UniqueConstraint("school_id", "code"),
        sa.Index(None, "school_id", "class_name", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("schools.id"))
    # The national pupil code where the school has it, else the school's own number.
    code: Mapped[str] = mapped_column(sa.String(40))
    kind: Mapped[str] = mapped_column(sa.String(10), default="pupil")
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    class_name: Mapped[str] = mapped_column(sa.String(40), default="")
    guardian_name: Mapped[str] = mapped_column(sa.String(120), default="")
    guardian_phone: Mapped[str] = mapped_column(sa.String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the retention period ran out: name, code and guardian are gone.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    school = relationship("School")

    def __repr__(self) -> str:
        return f"<Borrower {self.id} {self.kind}>"


class Loan(db.Model):
    __tablename__ = "loans"
    __table_args__ = (
        one_of("condition_out", LOAN_CONDITIONS, "condition_out"),
        sa.CheckConstraint(
            "condition_back IS NULL OR condition_back IN ('good', 'fair', 'damaged')",
            name="condition_back",
        ),
        sa.CheckConstraint(
            "ended_as IS NULL OR ended_as IN ('returned', 'lost', 'faulty')", name="ended_as"
        ),
        sa.CheckConstraint("(ended_at IS NULL) = (ended_as IS NULL)", name="ended_together"),
        # A tablet is lent to one borrower at a time: the database refuses a second open loan.
        sa.Index(
            "uq_loans_open_device",
            "device_id",
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        ),
        sa.Index(None, "school_id", "ended_at", "due_on"),
        sa.Index(None, "borrower_id"),
        sa.Index(None, "device_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("devices.id"))
    borrower_id: Mapped[int] = mapped_column(sa.ForeignKey("borrowers.id"))
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("schools.id"))
    lent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_on: Mapped[date] = mapped_column(sa.Date)
    agreement_version: Mapped[str] = mapped_column(sa.String(20))
    condition_out: Mapped[str] = mapped_column(sa.String(10), default="good")
    accessories_out: Mapped[str] = mapped_column(sa.String(200), default="")
    lent_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Who signed the agreement (the guardian, or the teacher), and how: drawn on the screen
    # or a photo of the signed paper. Erased with the borrower's name.
    signed_by: Mapped[str] = mapped_column(sa.String(120), default="")
    signature_png: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    paper_jpeg: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_as: Mapped[str | None] = mapped_column(sa.String(10))
    condition_back: Mapped[str | None] = mapped_column(sa.String(10))
    accessories_back: Mapped[str] = mapped_column(sa.String(200), default="")
    received_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    device = relationship("Device")
    borrower = relationship("Borrower")
    school = relationship("School")
    lent_by = relationship("User", foreign_keys=[lent_by_id])
    received_by = relationship("User", foreign_keys=[received_by_id])

    @property
    def signed(self) -> bool:
        return self.signed_at is not None

    def __repr__(self) -> str:
        return f"<Loan {self.id} device={self.device_id}>"
