"""Reserving a plan's tablets and giving them back: the pool a plan draws on, taken in
turns, dealt first registered first out, in a few statements whatever the plan's size."""

from itertools import islice

import sqlalchemy as sa
import sqlalchemy.dialects.postgresql
import sqlalchemy.dialects.sqlite

from tracker.allocations.models import Allocation, AllocationPlan
from tracker.auth.models import User
from tracker.devices.bulk import move_devices, move_matching, reserve_mapping
from tracker.devices.models import Counter, Device
from tracker.errors import Conflict
from tracker.extensions import db
from tracker.i18n import gettext as _


def pool_filter(plan: AllocationPlan):
    """The devices a plan may draw on: in stock at its depot, from its donation when it
    names one."""
    conditions = [Device.status == "in_stock"]
    if plan.depot_id is not None:
        conditions += [Device.depot_id == plan.depot_id, Device.school_id.is_(None)]
    if plan.donation_id is not None:
        conditions.append(Device.donation_id == plan.donation_id)
    return conditions


def lock_pool(plan: AllocationPlan) -> None:
    """Make approvals and changes over one pool take turns (a row lock until commit).

    Without it, concurrent approvals each hold some rows for a moment and can starve one
    another of stock that would have fitted.
    """
    name = f"pool:{plan.depot_id or 'all'}:{plan.donation_id or 'all'}"
    dialect = db.session.get_bind().dialect.name
    insert = sa.dialects.postgresql.insert if dialect == "postgresql" else sa.dialects.sqlite.insert
    db.session.execute(insert(Counter).values(name=name, value=0).on_conflict_do_nothing())
    db.session.execute(
        sa.update(Counter).where(Counter.name == name).values(value=Counter.value + 1)
    )


def pool_size(plan: AllocationPlan) -> int:
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(Device).where(*pool_filter(plan)))
        or 0
    )


def reserve_all(plan: AllocationPlan, needed: int, actor: User | None) -> None:
    """Reserve every line's tablets in a few statements, whatever the plan's size.

    The pool's tablets, first registered first, are dealt to the lines in order (a single
    pass over both lists); the device update then re-checks each tablet is still in stock.
    """
    if needed == 0:
        return
    device_ids = iter(
        db.session.scalars(
            sa.select(Device.id).where(*pool_filter(plan)).order_by(Device.id).limit(needed)
        )
    )
    lines = db.session.execute(
        sa.select(Allocation.id, Allocation.school_id, Allocation.quantity)
        .where(Allocation.plan_id == plan.id, Allocation.quantity > 0)
        .order_by(Allocation.id)
    )
    mapping = [
        (device_id, allocation_id, school_id)
        for allocation_id, school_id, quantity in lines
        for device_id in islice(device_ids, quantity)
    ]
    reserve_mapping(mapping, needed, actor, plan_id=plan.id)


def reserve(plan: AllocationPlan, line: Allocation, count: int, actor: User | None) -> None:
    if count <= 0:
        return
    query = sa.select(Device.id).where(*pool_filter(plan)).order_by(Device.id).limit(count)
    if db.session.get_bind().dialect.name == "postgresql":
        # Concurrent approvals over one pool take different rows instead of waiting.
        query = query.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(query))
    if len(ids) < count:
        raise Conflict(
            _(
                "Only %(n)s tablets are left in stock in the pool for %(school)s; it "
                "needs %(count)s. Nothing was reserved.",
                n=len(ids),
                school=line.school.code,
                count=count,
            )
        )
    move_devices(
        ids, "reserved", actor, school_id=line.school_id, allocation_id=line.id, plan=plan.id
    )


def release(line: Allocation, count: int, actor: User | None, why: str) -> None:
    """`why` is a code of `devices.states.EVENT_REASONS`, put in words when read."""
    if count <= 0:
        return
    ids = list(
        db.session.scalars(
            sa.select(Device.id)
            .where(Device.allocation_id == line.id, Device.status == "reserved")
            .order_by(Device.id.desc())
            .limit(count)
        )
    )
    move_devices(ids, "released", actor, plan=line.plan_id, reason=why)


def release_plan(plan: AllocationPlan, actor: User | None, why: str) -> int:
    """Every tablet still reserved under `plan` back to stock, with one event each: a few
    statements whatever the number of lines (a national plan has 20,000)."""
    lines = sa.select(Allocation.id).where(Allocation.plan_id == plan.id)
    return move_matching(
        Device.allocation_id.in_(lines.scalar_subquery()),
        "released",
        actor,
        plan=plan.id,
        reason=why,
    )


def reserved_count(line: Allocation) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Device)
            .where(Device.allocation_id == line.id, Device.status == "reserved")
        )
        or 0
    )
