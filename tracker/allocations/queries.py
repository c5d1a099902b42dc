"""Read-side figures for plans: per line and per plan, reserved / dispatched / delivered."""

import sqlalchemy as sa

from tracker.allocations.models import Allocation, AllocationPlan, PlanEvent
from tracker.devices.models import Device
from tracker.devices.states import HANDED_OVER
from tracker.extensions import db
from tracker.schools.reach import WHOLE, Reach

COUNTED = ("reserved", "in_transit", *HANDED_OVER)


def line_counts(plan_ids: list[int]) -> dict[int, dict[str, int]]:
    """allocation id -> {state: devices}, for every line of the given plans (one query)."""
    rows = db.session.execute(
        sa.select(Device.allocation_id, Device.status, sa.func.count())
        .join(Allocation, Allocation.id == Device.allocation_id)
        .where(Allocation.plan_id.in_(plan_ids), Device.status.in_(COUNTED))
        .group_by(Device.allocation_id, Device.status)
    )
    counts: dict[int, dict[str, int]] = {}
    for allocation_id, status, count in rows:
        counts.setdefault(allocation_id, {})[status] = count
    return counts


def plans_clause(reach):
    """The plans in reach, as a clause on `allocation_plans`: their depot is, and none of
    their schools is not (the plans' list, the search, the alerts, approval ask it)."""
    if reach.whole:
        return sa.true()
    outside = sa.exists().where(
        Allocation.plan_id == AllocationPlan.id, ~reach.schools_clause(Allocation.school_id)
    )
    return sa.and_(reach.depots_clause(AllocationPlan.depot_id), ~outside)


def plan_rows(reach: Reach = WHOLE):
    """Every plan in `reach` with its allocated total and device counts, newest first (two
    queries)."""
    totals = (
        sa.select(
            Allocation.plan_id,
            sa.func.coalesce(sa.func.sum(Allocation.quantity), 0).label("allocated"),
            sa.func.count().label("schools"),
        )
        .where(Allocation.quantity > 0)
        .group_by(Allocation.plan_id)
        .subquery()
    )
    plans = db.session.execute(
        sa.select(AllocationPlan, totals.c.allocated, totals.c.schools)
        .outerjoin(totals, totals.c.plan_id == AllocationPlan.id)
        .options(sa.orm.joinedload(AllocationPlan.donation))
        .where(plans_clause(reach))
        .order_by(AllocationPlan.id.desc())
    ).all()
    by_plan: dict[int, dict[str, int]] = {}
    for plan_id, status, count in db.session.execute(
        sa.select(Allocation.plan_id, Device.status, sa.func.count())
        .join(Allocation, Allocation.id == Device.allocation_id)
        .where(Device.status.in_(COUNTED))
        .group_by(Allocation.plan_id, Device.status)
    ):
        by_plan.setdefault(plan_id, {})[status] = count
    return [
        (plan, allocated or 0, schools or 0, by_plan.get(plan.id, {}))
        for plan, allocated, schools in plans
    ]


def history(plan_id: int):
    return db.session.scalars(
        sa.select(PlanEvent)
        .where(PlanEvent.plan_id == plan_id)
        .options(sa.orm.joinedload(PlanEvent.actor))
        .order_by(PlanEvent.id.desc())
    ).all()
