"""Allocation plan rules: propose, edit, submit, approve (reserving tablets), change, close,
cancel. Every change of state or quantity is recorded as a PlanEvent.

The states and what each allows are in `states.py`; reserving and releasing tablets in
`reservations.py` (approval reserves specific in-stock tablets, first registered first
out, all or none).
"""

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from tracker.allocations import notices
from tracker.allocations.models import Allocation, AllocationPlan, PlanEvent
from tracker.allocations.proposals import nothing_shared_because, propose
from tracker.allocations.queries import plans_clause
from tracker.allocations.reservations import (
    lock_pool,
    pool_size,
    release,
    release_plan,
    reserve,
    reserve_all,
    reserved_count,
)
from tracker.allocations.states import PROGRESSING, require_action
from tracker.allocations.words import NOTHING_SHARED
from tracker.auth.models import User
from tracker.auth.permissions import Forbidden, role_can
from tracker.database import utcnow
from tracker.devices.bulk import move_devices
from tracker.devices.depots import depot_for
from tracker.devices.models import Device
from tracker.devices.states import HANDED_OVER
from tracker.dialects import refresh_statistics
from tracker.donations.models import Donation
from tracker.errors import Conflict, IllegalTransition, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.schools.models import CYCLES, SETTINGS, School
from tracker.schools.reach import WHOLE, Reach, reach_of, reachable
from tracker.schools.services import spelled_as_stored


def record(plan: AllocationPlan, action: str, actor: User | None, **details) -> None:
    db.session.add(
        PlanEvent(
            plan_id=plan.id, actor_id=actor.id if actor else None, action=action, details=details
        )
    )


def get_plan(plan_id: int, *, lock: bool = False) -> AllocationPlan:
    query = sa.select(AllocationPlan).where(AllocationPlan.id == plan_id)
    if lock:
        query = query.with_for_update()  # PostgreSQL: one approval of a plan at a time
    plan = db.session.scalar(query)
    if plan is None:
        raise NotFound(_("No allocation plan with id %(id)s.", id=plan_id))
    return plan


def create_plan(
    *,
    name: str,
    donation_id: int | None,
    actor: User | None,
    notes: str = "",
    depot_id: int | None = None,
) -> AllocationPlan:
    """A draft plan drawing on the stock of a depot the actor reaches (theirs by default)."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed(_("Give the plan a name."), field="name")
    if donation_id is not None and db.session.get(Donation, donation_id) is None:
        raise ValidationFailed(_("Choose an existing donation."), field="donation_id")
    depot = depot_for(actor, depot_id)
    plan = AllocationPlan(
        name=name[:200],
        depot_id=depot.id,
        donation_id=donation_id,
        notes=(notes or "").strip(),
        created_by_id=actor.id if actor else None,
        status="draft",
    )
    db.session.add(plan)
    db.session.flush()
    record(plan, "created", actor)
    return plan


def choose_schools(
    *,
    codes: str = "",
    region: str = "",
    province: str = "",
    commune: str = "",
    cycle: str = "",
    milieu: str = "",
    reach: Reach = WHOLE,
) -> list[int]:
    """The schools a plan is proposed over: the codes given (one per line or separated by
    commas), or else every school of the region / province / commune (all when empty), of
    one cycle and setting when they are chosen (the rural primary schools of a province);
    only schools in `reach` (a code of another office's school is as unknown)."""
    wanted = [
        code.strip().upper() for code in codes.replace(",", "\n").splitlines() if code.strip()
    ]
    if wanted:
        found = dict(
            db.session.execute(
                sa.select(School.code, School.id).where(
                    School.code.in_(wanted), reach.school_rows_clause()
                )
            ).all()
        )
        unknown = [code for code in wanted if code not in found]
        if unknown:
            raise ValidationFailed(
                _("Unknown school codes: %(codes)s.", codes=", ".join(unknown[:20])), field="codes"
            )
        return list(found.values())
    query = sa.select(School.id).where(reach.school_rows_clause())
    # As people type them: "taroudant" is Taroudant.
    if region.strip():
        query = query.where(School.region == spelled_as_stored(School.region, region))
    if province.strip():
        query = query.where(School.province == spelled_as_stored(School.province, province))
    if commune.strip():
        query = query.where(sa.func.lower(School.commune) == commune.strip().lower())
    for column, value, known, field in (
        (School.cycle, cycle, CYCLES, "cycle"),
        (School.milieu, milieu, SETTINGS, "milieu"),
    ):
        if value and value not in known:
            raise ValidationFailed(_("Choose from the list."), field=field)
        if value:
            query = query.where(column == value)
    return list(db.session.scalars(query))


def propose_plan(
    plan_id: int,
    *,
    total: int,
    school_ids: list[int],
    actor: User | None,
    basis: str = "need",
    minimum: int = 0,
    maximum: int | None = None,
):
    """Replace a draft's lines by a proposal over `school_ids`, capped by the pool."""
    plan = get_plan(plan_id)
    require_action(plan, "edit", _("re-proposed"))
    if not school_ids:
        raise ValidationFailed(_("Choose at least one school."), field="schools")
    rows = db.session.execute(
        sa.select(School.id, School.need, School.enrolment)
        .where(School.id.in_(school_ids))
        .order_by(School.id)  # ties go to the earlier school
    ).all()
    available = pool_size(plan)
    proposal = propose(
        rows,
        min(total, available),
        basis=basis,
        minimum=minimum,
        maximum=maximum,
    )
    # Lines are written in bulk: a national plan has 20,000 of them.
    db.session.execute(sa.delete(Allocation).where(Allocation.plan_id == plan.id))
    db.session.execute(
        sa.insert(Allocation),
        [
            {"plan_id": plan.id, "school_id": school_id, "quantity": quantity, "reason": code}
            for school_id, quantity, code in zip(
                proposal.school_ids, proposal.quantities, proposal.codes(), strict=True
            )
        ],
    )
    db.session.expire(plan, ["allocations"])
    record(
        plan,
        "proposed",
        actor,
        asked=total,
        pool=available,
        basis=basis,
        minimum=minimum,
        maximum=maximum,
        schools=len(rows),
        shared=proposal.total,
        nothing_because=nothing_shared_because(proposal, asked=total, available=available),
    )
    db.session.flush()
    return plan


def nothing_proposed(plan: AllocationPlan) -> str | None:
    """Why the plan's last proposal gave no tablet (words for the page), or None."""
    last = db.session.scalar(
        sa.select(PlanEvent)
        .where(PlanEvent.plan_id == plan.id, PlanEvent.action == "proposed")
        .order_by(PlanEvent.id.desc())
        .limit(1)
    )
    code = (last.details or {}).get("nothing_because") if last else None
    return str(NOTHING_SHARED[code]) if code in NOTHING_SHARED else None


def planned_total(plan: AllocationPlan) -> int:
    """The tablets the plan gives, all schools together."""
    return (
        db.session.scalar(
            sa.select(sa.func.sum(Allocation.quantity)).where(Allocation.plan_id == plan.id)
        )
        or 0
    )


MAX_LINE = 100_000  # as the line form's bound: more is a typing slip


def set_quantities(plan_id: int, quantities: dict[int, int], actor: User | None):
    """Edit a draft's quantities by hand (school id -> quantity)."""
    plan = get_plan(plan_id)
    require_action(plan, "edit", _("edited"))
    lines = {
        line.school_id: line
        for line in db.session.scalars(
            plan.allocations.select().options(joinedload(Allocation.school))
        )
    }
    changes = {}
    for school_id, quantity in quantities.items():
        line = lines.get(school_id)
        if line is None:
            raise ValidationFailed(_("School %(id)s is not in this plan.", id=school_id))
        if quantity < 0:
            raise ValidationFailed(_("Quantities cannot be negative."), field="quantities")
        if quantity > MAX_LINE:
            raise ValidationFailed(
                _("At most %(n)s tablets for one school.", n=MAX_LINE), field="quantities"
            )
        if line.quantity != quantity:
            changes[line.school.code] = [line.quantity, quantity]
            line.quantity = quantity
            line.reason = "hand"
    if changes:
        record(plan, "edited", actor, changes=changes)
    db.session.flush()
    return plan


def submit_plan(plan_id: int, actor: User | None):
    plan = get_plan(plan_id)
    require_action(plan, "submit", _("submitted"))
    total = planned_total(plan)
    if total == 0:
        raise ValidationFailed(_("The plan gives no tablet to any school yet."))
    plan.status, plan.submitted_at = "submitted", utcnow()
    plan.submitted_by_id = actor.id if actor else None
    record(plan, "submitted", actor, total=total)
    db.session.flush()
    schools = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Allocation)
        .where(Allocation.plan_id == plan.id, Allocation.quantity > 0)
    )
    notices.plan_submitted(plan, total, schools)
    return plan


def require_office(plan: AllocationPlan, actor: User | None) -> None:
    """Approval follows the office: a manager approves a plan only when its depot and every
    school it gives to are in their part of the programme (`plans_clause`); a plan spanning
    regions is the national office's."""
    if not plan_reached(reach_of(actor), plan.id):
        raise IllegalTransition(
            _("This plan reaches beyond your regions: the national office approves it.")
        )


def send_back(plan_id: int, actor: User, note: str = ""):
    """A manager returns a submitted plan to its author for changes."""
    _check_approver(actor)
    plan = get_plan(plan_id)
    require_action(plan, "send_back", _("sent back"))
    require_office(plan, actor)
    plan.status = "draft"
    record(plan, "sent_back", actor, note=note.strip())
    db.session.flush()
    return plan


def note_delivery_progress(plan_id: int | None, actor: User | None, **details) -> None:
    """A hand-over reached a plan's schools: the plan is partly delivered once a tablet of it
    is, and delivered when every tablet it allocates is. Each step is a plan event (asked by
    the deliveries, which own the hand-over; the plan's states are this module's)."""
    if plan_id is None:
        return
    plan = db.session.get(AllocationPlan, plan_id)
    if plan is None or plan.status not in PROGRESSING:
        return
    allocated = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Allocation.quantity), 0)).where(
            Allocation.plan_id == plan.id
        )
    )
    delivered = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Device)
        .join(Allocation, Device.allocation_id == Allocation.id)
        .where(Allocation.plan_id == plan.id, Device.status.in_(HANDED_OVER))
    )
    status = "fulfilled" if delivered >= allocated else "partially_fulfilled" if delivered else ""
    if status and status != plan.status:
        plan.status = status
        record(plan, status, actor, delivered=delivered, allocated=allocated, **details)
        db.session.flush()


def close_plan(plan_id: int, actor: User | None, reason: str = "") -> AllocationPlan:
    """Close a delivered (or partly delivered) plan: nothing more goes out under it. Tablets
    still reserved and not on the road go back to stock; tablets on the road must arrive (or
    come back) first. Only coordinators and admins close, with a reason."""
    if actor is not None and not role_can(actor.role, "plans.close"):
        raise Forbidden(_("Only a coordinator or an admin closes allocation plans."))
    plan = get_plan(plan_id, lock=True)
    require_action(plan, "close", _("closed"))
    if not (reason or "").strip():
        raise ValidationFailed(_("Say why the plan is closed."), field="note")
    on_road = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Device)
        .join(Allocation, Device.allocation_id == Allocation.id)
        .where(Allocation.plan_id == plan.id, Device.status == "in_transit")
    )
    if on_road:
        raise IllegalTransition(
            _(
                "%(n)s tablets of this plan are on the road: hand them over or record the "
                "delivery as failed first.",
                n=on_road,
            )
        )
    released = release_plan(plan, actor, "plan_closed")
    plan.status, plan.closed_at = "closed", utcnow()
    record(plan, "closed", actor, reason=reason.strip()[:500], released=released)
    db.session.flush()
    return plan


def _check_approver(actor: User | None) -> None:
    if actor is None or not role_can(actor.role, "plans.approve"):
        raise Forbidden(_("Only a manager or an admin approves allocation plans."))


def approve_plan(plan_id: int, actor: User):
    """Approve a submitted plan and reserve its tablets; all of them, or none."""
    _check_approver(actor)
    plan = get_plan(plan_id, lock=True)
    require_action(plan, "approve", _("approved"))
    require_office(plan, actor)
    if plan.submitted_by_id is not None and plan.submitted_by_id == actor.id:
        raise IllegalTransition(_("You submitted this plan: another manager must approve it."))
    lock_pool(plan)
    needed = planned_total(plan)
    available = pool_size(plan)
    if available < needed:
        raise Conflict(
            _(
                "The plan needs %(needed)s tablets but only %(available)s are in stock "
                "in its pool. Lower some quantities, or wait for more tablets.",
                needed=needed,
                available=available,
            )
        )
    reserve_all(plan, needed, actor)
    refresh_statistics(Device.__table__, Allocation.__table__)
    plan.status, plan.approved_at, plan.approved_by_id = "approved", utcnow(), actor.id
    record(plan, "approved", actor, reserved=needed)
    db.session.flush()
    return plan


def change_quantity(plan_id: int, school_id: int, quantity: int, actor: User | None):
    """After approval: reserve more tablets for a school, or release some back to stock."""
    plan = get_plan(plan_id, lock=True)
    require_action(plan, "change", _("changed"))
    lock_pool(plan)
    line = db.session.scalar(plan.allocations.select().where(Allocation.school_id == school_id))
    if line is None:
        raise ValidationFailed(_("This school is not in the plan."), field="school_id")
    if quantity < 0:
        raise ValidationFailed(_("Quantities cannot be negative."), field="quantity")
    committed = (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Device)
            .where(Device.allocation_id == line.id, Device.status != "reserved")
        )
        or 0
    )
    if quantity < committed:
        raise ValidationFailed(
            _(
                "%(n)s tablets for this school are already dispatched or "
                "delivered; the quantity cannot go below that.",
                n=committed,
            ),
            field="quantity",
        )
    before, reserved = line.quantity, reserved_count(line)
    held = reserved + committed
    if quantity > held:
        reserve(plan, line, quantity - held, actor)
    elif quantity < held:
        release(line, held - quantity, actor, "quantity_lowered")
    line.quantity = quantity
    record(plan, "quantity_changed", actor, school=line.school.code, before=before, after=quantity)
    db.session.flush()
    return plan


def cancel_plan(plan_id: int, actor: User | None, reason: str = ""):
    """Cancel a plan before it is fulfilled; its reserved tablets go back to stock. Only
    coordinators and admins cancel."""
    if actor is not None and not role_can(actor.role, "plans.cancel"):
        raise Forbidden(_("Only a coordinator or an admin cancels allocation plans."))
    plan = get_plan(plan_id, lock=True)
    require_action(plan, "cancel", _("cancelled"))
    released = release_plan(plan, actor, "plan_cancelled")
    plan.status, plan.closed_at = "cancelled", utcnow()
    record(plan, "cancelled", actor, reason=reason.strip(), released=released)
    db.session.flush()
    return plan


def swap_device(device_id: int, actor: User | None, note: str = "") -> Device:
    """Before dispatch: report a reserved tablet faulty and reserve another in its place.

    Returns the replacement. When the pool has no tablet left, nothing changes.
    """
    device = db.session.get(Device, device_id)
    if device is None or device.status != "reserved" or device.allocation_id is None:
        raise IllegalTransition(
            _("Only a tablet reserved by a plan, not yet dispatched, can be swapped.")
        )
    line = db.session.get(Allocation, device.allocation_id)
    plan = get_plan(line.plan_id, lock=True)
    lock_pool(plan)
    move_devices(
        [device.id],
        "reported_faulty",
        actor,
        reason="swapped_out",
        note=note.strip(),
        plan=plan.id,
    )
    reserve(plan, line, 1, actor)
    record(
        plan,
        "quantity_changed",
        actor,
        school=line.school.code,
        before=line.quantity,
        after=line.quantity,
        swapped=device.asset_tag,
    )
    db.session.flush()
    return db.session.scalar(
        sa.select(Device)
        .where(Device.allocation_id == line.id, Device.status == "reserved")
        .order_by(Device.id.desc())
    )


def plan_reached(reach, plan_id: int) -> bool:
    """A plan is its office's: in reach when its depot and each of its schools are (a plan
    drawing on the central warehouse, or reaching beyond a region, is the national
    office's)."""
    found = sa.select(AllocationPlan.id).where(AllocationPlan.id == plan_id, plans_clause(reach))
    return db.session.scalar(found) is not None


reachable("plan_id", plan_reached, lambda id_: _("No allocation plan with id %(id)s.", id=id_))
