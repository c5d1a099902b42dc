"""Delivery rules before the road: plan deliveries from a plan, pack them by scan, dispatch.

The states and what each allows are in `states.py`, a scan's answer in `scans.py`, the
hand-over at the school in `handover.py`. Services flush; the caller commits.
"""

import re
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from tracker.allocations.models import Allocation, AllocationPlan
from tracker.allocations.states import PROGRESSING
from tracker.auth.models import User
from tracker.auth.permissions import role_can
from tracker.database import utcnow
from tracker.deliveries import codes, notices
from tracker.deliveries.models import ACTIVE_ITEM_STATUSES, Delivery, DeliveryItem
from tracker.deliveries.queries import get_delivery
from tracker.deliveries.scans import ScanResult, counts, delivery_item, unknown_code, why_not_here
from tracker.deliveries.states import require_action
from tracker.devices.bulk import move_devices
from tracker.devices.codes import find_device_by_code
from tracker.devices.custody import agent_carries
from tracker.devices.models import Device
from tracker.devices.services import record_event
from tracker.errors import IllegalTransition, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.schools.models import School
from tracker.schools.reach import codes_read_by, reach_of
from tracker.schools.services import search_schools

PLANNABLE_PLANS = PROGRESSING  # the plans' own list: approved, partly delivered


def delivery_for(
    user: User, delivery_id: int, *, lock: bool = False, whole: bool = False, lines: bool = True
) -> Delivery:
    """The delivery, if `user` may see it: a field agent sees only those assigned to them,
    and anything else looks like it does not exist."""
    delivery = get_delivery(delivery_id, lock=lock, whole=whole, lines=lines)
    if not reach_of(user).covers_school_id(delivery.school_id):
        pass  # another office's: as if it did not exist
    elif role_can(user.role, "deliveries.read_all") or delivery.assigned_to_id == user.id:
        return delivery
    raise NotFound(_("No delivery with number %(id)s.", id=delivery_id))


def _agent(user_id: int | None, school_ids=()) -> User | None:
    """The agent chosen: active, an agent, and working where each school is (an agent of
    another region never learns of the delivery; refused as one who is not there)."""
    if user_id is None:
        return None
    agent = db.session.get(User, user_id)
    if (
        agent is None
        or not agent.active
        or not role_can(agent.role, "deliveries.assigned")
        or _beyond(reach_of(agent), school_ids)
    ):
        raise ValidationFailed(
            _("Choose an active field agent for the delivery."), field="assigned_to_id"
        )
    return agent


def _beyond(reach, school_ids) -> bool:
    """Whether any of the schools is out of `reach` (one statement, whatever their number:
    a plan's deliveries reach thousands of schools)."""
    if reach.whole or not school_ids:
        return False
    outside = sa.select(School.id).where(
        School.id.in_(sorted(set(school_ids))), ~reach.school_rows_clause()
    )
    return db.session.scalar(outside.limit(1)) is not None


def waiting_devices(plan_id: int, school_ids: list[int] | None = None):
    """Per school of a plan, the tablets reserved for it that no delivery holds yet."""
    # NOT EXISTS, not NOT IN: PostgreSQL runs it as an anti-join probing the index of
    # tablets under way; NOT IN (a subquery) it may re-read for every tablet once the
    # subquery outgrows work_mem (minutes at national scale).
    on_a_delivery = sa.exists().where(
        DeliveryItem.device_id == Device.id, DeliveryItem.status.in_(ACTIVE_ITEM_STATUSES)
    )
    query = (
        sa.select(Allocation.school_id, Device.id)
        .join(Device, Device.allocation_id == Allocation.id)
        .where(
            Allocation.plan_id == plan_id,
            Device.status == "reserved",
            ~on_a_delivery,
        )
        .order_by(Allocation.school_id, Device.id)
    )
    if school_ids is not None:
        query = query.where(Allocation.school_id.in_(school_ids))
    waiting: dict[int, list[int]] = {}
    for school_id, device_id in db.session.execute(query):
        waiting.setdefault(school_id, []).append(device_id)
    return waiting


def create_deliveries(
    plan_id: int,
    *,
    actor: User | None,
    assigned_to_id: int | None,
    planned_on: date | None,
    school_ids: list[int] | None = None,
    at_most: int | None = None,
) -> list[Delivery]:
    """One delivery per school of an approved plan, holding the tablets reserved for it
    that no other delivery holds (all of them, or `at_most` per school)."""
    plan = db.session.get(AllocationPlan, plan_id)
    if plan is None:
        raise NotFound(_("No plan with number %(id)s.", id=plan_id))
    if plan.status not in PLANNABLE_PLANS:
        raise IllegalTransition(_("Deliveries are planned from an approved plan."))
    if at_most is not None and at_most < 1:
        raise ValidationFailed(_("Give at least 1 tablet per school."), field="at_most")
    waiting = waiting_devices(plan.id, school_ids)
    if not waiting:
        raise ValidationFailed(
            _("No reserved tablet of this plan is waiting for a delivery."), field="schools"
        )
    agent = _agent(assigned_to_id, waiting)
    deliveries = []
    for school_id, device_ids in waiting.items():
        delivery = Delivery(
            school_id=school_id,
            plan_id=plan.id,
            from_depot_id=plan.depot_id,
            assigned_to_id=agent.id if agent else None,
            planned_on=planned_on,
            status="planned",
            created_by_id=actor.id if actor else None,
        )
        db.session.add(delivery)
        deliveries.append((delivery, device_ids[:at_most] if at_most else device_ids))
    db.session.flush()
    db.session.execute(
        sa.insert(DeliveryItem),
        [
            {"delivery_id": delivery.id, "device_id": device_id, "status": "expected"}
            for delivery, device_ids in deliveries
            for device_id in device_ids
        ],
    )
    return [delivery for delivery, _ids in deliveries]


def update_delivery(
    delivery_id: int, *, actor: User | None, assigned_to_id: int | None, planned_on: date | None
) -> Delivery:
    """Give a delivery to another agent or another day, until it is handed over."""
    delivery = get_delivery(delivery_id, lock=True)
    require_action(delivery, "edit", _("changed"))
    agent = _agent(assigned_to_id, [delivery.school_id])
    delivery.assigned_to_id = agent.id if agent else None
    delivery.planned_on = planned_on
    db.session.flush()
    return delivery


def pack_scan(delivery_id: int, code: str, actor: User) -> ScanResult:
    """Scan a tablet into a planned delivery's box.

    A tablet reserved for the delivery's school and on no other delivery is taken even when
    it was not listed; anything else is refused with the reason.
    """
    delivery = get_delivery(delivery_id, lock=True)
    require_action(delivery, "pack", _("packed"))
    device = find_device_by_code(code, codes_read_by(actor))  # another office's: unknown
    if device is None:
        return ScanResult(False, unknown_code(code), "refused", counts=counts(delivery))
    item = delivery_item(delivery, device)
    if item is None:
        free = device.status == "reserved" and device.school_id == delivery.school_id
        if not free or _on_another(delivery, device):
            return _refused(delivery, device, why_not_here(delivery, device))
        item = DeliveryItem(delivery=delivery, device_id=device.id, status="expected")
        db.session.add(item)
    if item.status == "packed":
        return ScanResult(
            True,
            _("%(tag)s is already in the box.", tag=device.asset_tag),
            "again",
            device.asset_tag,
            device.id,
            counts(delivery),
        )
    item.status, item.packed_at = "packed", utcnow()
    record_event(device, "packed", actor, delivery_id=delivery.id, delivery=delivery.reference)
    db.session.flush()
    return ScanResult(
        True,
        _("%(tag)s packed.", tag=device.asset_tag),
        "packed",
        device.asset_tag,
        device.id,
        counts(delivery),
    )


def unpack(delivery_id: int, device_id: int, actor: User | None) -> Device:
    """Before the box leaves: take out a tablet scanned in by mistake. It stays reserved
    for the school and on the list, to pack again or to leave behind at `finish_packing`."""
    delivery = get_delivery(delivery_id, lock=True)
    require_action(delivery, "pack", _("changed"))
    item = db.session.scalar(
        sa.select(DeliveryItem).where(
            DeliveryItem.delivery_id == delivery.id,
            DeliveryItem.device_id == device_id,
            DeliveryItem.status == "packed",
        )
    )
    if item is None:
        raise ValidationFailed(
            _("This tablet is not in the box of %(ref)s.", ref=delivery.reference)
        )
    item.status, item.packed_at = "expected", None
    device = db.session.get(Device, device_id)
    record_event(device, "unpacked", actor, delivery_id=delivery.id, delivery=delivery.reference)
    db.session.flush()
    return device


def _on_another(delivery: Delivery, device: Device) -> bool:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(DeliveryItem)
            .where(
                DeliveryItem.device_id == device.id,
                DeliveryItem.status.in_(ACTIVE_ITEM_STATUSES),
                DeliveryItem.delivery_id != delivery.id,
            )
        )
        > 0
    )


def _refused(delivery: Delivery, device: Device, message: str) -> ScanResult:
    return ScanResult(False, message, "refused", device.asset_tag, device.id, counts(delivery))


def finish_packing(delivery_id: int, actor: User | None) -> Delivery:
    """Close the box: tablets listed but not scanned in come off the delivery (they stay
    reserved for the school, for a later delivery)."""
    delivery = get_delivery(delivery_id, lock=True)
    require_action(delivery, "finish_packing", _("closed for packing"))
    packed = [item for item in delivery.items if item.status == "packed"]
    if not packed:
        raise ValidationFailed(_("Scan at least one tablet into the box first."), field="code")
    for item in delivery.items:
        if item.status == "expected":
            item.status, item.discrepancy = "removed", "not packed"
    delivery.status, delivery.packed_at = "packed", utcnow()
    db.session.flush()
    return delivery


def dispatch(delivery_id: int, actor: User | None) -> Delivery:
    """The box leaves: every packed tablet goes in transit, with one event each."""
    delivery = get_delivery(delivery_id, lock=True)
    require_action(delivery, "dispatch", _("dispatched"))
    ids = [item.device_id for item in delivery.items if item.status == "packed"]
    if not ids:
        raise ValidationFailed(_("%(ref)s has no tablet in its box.", ref=delivery.reference))
    move_devices(ids, "dispatched", actor, delivery_id=delivery.id, delivery=delivery.reference)
    delivery = get_delivery(delivery_id)
    delivery.status, delivery.dispatched_at = "dispatched", utcnow()
    # Kept on the object only, for the caller in this process (the demo, tests).
    delivery.sent_code = codes.send_code(delivery, actor)
    db.session.flush()
    notices.delivery_dispatched(delivery, len(ids))
    return delivery


def resend_code(delivery_id: int, actor: User | None, why: str) -> bool:
    """A new code for a dispatched delivery's school (the old one stops working), with
    why; False when the school has no phone."""
    delivery = get_delivery(delivery_id, lock=True)
    require_action(delivery, "resend_code", _("sent a new code"))
    sent = codes.send_new_code(delivery, actor, why) is not None
    db.session.flush()
    return sent


def cancel_delivery(delivery_id: int, actor: User | None, reason: str = "") -> Delivery:
    """Before dispatch: the delivery is dropped; its tablets stay reserved for the school."""
    delivery = get_delivery(delivery_id, lock=True)
    require_action(delivery, "cancel", _("cancelled"))
    for item in delivery.items:
        if item.status in ACTIVE_ITEM_STATUSES:
            if item.status == "packed":
                record_event(
                    item.device,
                    "unpacked",
                    actor,
                    delivery_id=delivery.id,
                    delivery=delivery.reference,
                )
            item.status, item.discrepancy = "removed", "cancelled"
    delivery.status = "cancelled"
    delivery.failure_reason = reason.strip()[:300]
    db.session.flush()
    return delivery


DELIVERY_REFERENCE = re.compile(r"^\s*(?:DEL)?[-\s#]*0*(\d{1,9})\s*$", re.I)


@dataclass
class DeliveryFilters:
    """What the office narrows the list of deliveries to (every part optional)."""

    status: str = ""
    plan_id: int | None = None
    agent_id: int | None = None
    school: str = ""  # a school's code, or part of its name in either script
    region: str = ""
    planned_from: date | None = None
    planned_to: date | None = None
    reference: int | None = None  # DEL-00004 is 4

    def conditions(self) -> list:
        found = []
        if self.status:
            found.append(Delivery.status == self.status)
        if self.plan_id:
            found.append(Delivery.plan_id == self.plan_id)
        if self.agent_id:
            found.append(Delivery.assigned_to_id == self.agent_id)
        if self.reference:
            found.append(Delivery.id == self.reference)
        if self.planned_from:
            found.append(Delivery.planned_on >= self.planned_from)
        if self.planned_to:
            found.append(Delivery.planned_on <= self.planned_to)
        if self.school or self.region:
            schools = search_schools(self.school, self.region).with_only_columns(School.id)
            found.append(Delivery.school_id.in_(schools.order_by(None).scalar_subquery()))
        return found


def deliveries_query(
    user: User,
    *,
    status: str = "",
    plan_id: int | None = None,
    filters: DeliveryFilters | None = None,
):
    """Deliveries `user` may see, newest planned first, with what each row shows."""
    query = (
        sa.select(Delivery)
        .options(selectinload(Delivery.school), selectinload(Delivery.assigned_to))
        .order_by(Delivery.planned_on.desc().nulls_last(), Delivery.id.desc())
    )
    if not role_can(user.role, "deliveries.read_all"):
        query = query.where(Delivery.assigned_to_id == user.id)
    filters = filters or DeliveryFilters(status=status, plan_id=plan_id)
    return query.where(reach_of(user).schools_clause(Delivery.school_id), *filters.conditions())


@agent_carries
def carried_by(actor: User, device: Device) -> bool:
    """The agent of a dispatched delivery carries its tablets until the hand-over (a
    transfer's delivery too): they may report one lost or faulty on the road."""
    return (
        db.session.scalar(
            sa.select(DeliveryItem.id)
            .join(Delivery, Delivery.id == DeliveryItem.delivery_id)
            .where(
                DeliveryItem.device_id == device.id,
                DeliveryItem.status.in_(ACTIVE_ITEM_STATUSES),
                Delivery.status == "dispatched",
                Delivery.assigned_to_id == actor.id,
            )
            .limit(1)
        )
        is not None
    )
