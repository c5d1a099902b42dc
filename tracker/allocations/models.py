"""Allocation plans and the quantity each school gets inside one."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from tracker.database import UTCDateTime, one_of, utcnow
from tracker.extensions import db

PLAN_STATUSES = (
    "draft",
    "submitted",
    "approved",
    "partially_fulfilled",
    "fulfilled",
    "closed",
    "cancelled",
)


class AllocationPlan(db.Model):
    __tablename__ = "allocation_plans"
    __table_args__ = (one_of("status", PLAN_STATUSES, "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # The pool the plan draws on: one donation, or every in-stock device when empty.
    donation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("donations.id"), index=True)
    # The depot whose stock it draws on (tracker.schools.reach: a plan is its office's).
    depot_id: Mapped[int | None] = mapped_column(sa.ForeignKey("depots.id"))
    depot = relationship("Depot")
    status: Mapped[str] = mapped_column(sa.String(30), default="draft", index=True)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    donation = relationship("Donation")
    created_by = relationship("User", foreign_keys=[created_by_id])
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])
    # Write-only: a national plan has 20,000 lines, never loaded whole by accident; ask
    # `plan.allocations.select()` for the ones needed.
    allocations: WriteOnlyMapped["Allocation"] = relationship(
        back_populates="plan", cascade="all, delete-orphan", passive_deletes=True
    )


PLAN_ACTIONS = (
    "created",
    "proposed",
    "edited",
    "submitted",
    "sent_back",
    "approved",
    "quantity_changed",
    "partially_fulfilled",
    "fulfilled",
    "cancelled",
    "closed",
)


class PlanEvent(db.Model):
    """Who did what to a plan, and when: every change of state or quantity."""

    __tablename__ = "plan_events"
    __table_args__ = (one_of("action", PLAN_ACTIONS, "action"), sa.Index(None, "plan_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("allocation_plans.id"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(sa.String(30))
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    actor = relationship("User")


class Allocation(db.Model):
    __tablename__ = "allocations"
    __table_args__ = (
        sa.UniqueConstraint("plan_id", "school_id"),
        sa.CheckConstraint("quantity >= 0", name="quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("allocation_plans.id"))
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("schools.id"), index=True)
    quantity: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.String(300), default="")

    plan: Mapped[AllocationPlan] = relationship(back_populates="allocations")
    school = relationship("School")
