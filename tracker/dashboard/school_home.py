"""A school's own page for its staff: the tablets at the school and the deliveries to it.

What a school user sees is asked of `schools.staff` (their schools, nothing else); each
list is bounded, whatever the school's size.
"""

import sqlalchemy as sa

from tracker.deliveries.models import Delivery, DeliveryItem
from tracker.devices.models import Device
from tracker.extensions import db

TABLETS_SHOWN = 500
DELIVERIES_SHOWN = 20


def tablets_at(school_id: int) -> tuple[list[Device], int]:
    """The school's tablets (reserved for it, on their way, delivered, and since), by
    serial, at most TABLETS_SHOWN of them; and how many there are in all."""
    where = Device.school_id == school_id
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Device).where(where))
    rows = db.session.scalars(
        sa.select(Device).where(where).order_by(Device.serial).limit(TABLETS_SHOWN)
    )
    return list(rows), total or 0


def deliveries_to(school_id: int) -> list[tuple[Delivery, int]]:
    """The school's latest deliveries, each with its number of tablets."""
    tablets = (
        sa.select(sa.func.count())
        .where(DeliveryItem.delivery_id == Delivery.id)
        .correlate(Delivery)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Delivery, tablets)
        .where(Delivery.school_id == school_id)
        .order_by(Delivery.planned_on.desc().nulls_last(), Delivery.id.desc())
        .limit(DELIVERIES_SHOWN)
    )
    return [(delivery, count) for delivery, count in rows]


def schools_awaiting(school_ids: list[int]) -> set[int]:
    """Which of these schools have a delivery on its way to them (one statement)."""
    if not school_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(Delivery.school_id)
            .where(Delivery.school_id.in_(school_ids), Delivery.status == "dispatched")
            .distinct()
        )
    )
