"""Reading deliveries for pages: counts per delivery, an agent's days, schools by id."""

from datetime import date
from functools import cache
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload
from wtforms.fields.choices import SelectChoice

from tracker.auth.models import User
from tracker.auth.permissions import roles_for
from tracker.deliveries.models import UNDER_WAY, Delivery, DeliveryItem, PhoneKey
from tracker.devices.models import Device
from tracker.errors import NotFound
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.schools.models import School, SchoolStaff
from tracker.schools.reach import WHOLE, Reach, reach_of, reachable


class Line(NamedTuple):
    """One tablet of a delivery as its page lists it: a plain tuple, whose fields a template
    reads several times a row at C speed (a SQLAlchemy row looks each name up: 40 rows took
    twice as long to render)."""

    device_id: int
    status: str
    discrepancy: str
    asset_tag: str
    serial: str
    imei: str | None


def delivery_lines(delivery_id: int) -> list[Line]:
    """A delivery's tablets as its page lists them (removed ones included, the page decides):
    plain rows in one statement, not an object per line and per tablet."""
    rows = db.session.execute(_lines_statement(), {"delivery_id": delivery_id})
    return [Line._make(row) for row in rows]


@cache
def _lines_statement() -> sa.Select:
    """Built once (every delivery page asks it)."""
    return (
        sa.select(
            DeliveryItem.device_id,
            DeliveryItem.status,
            DeliveryItem.discrepancy,
            Device.asset_tag,
            Device.serial,
            Device.imei,
        )
        .join(Device, Device.id == DeliveryItem.device_id)
        .where(DeliveryItem.delivery_id == sa.bindparam("delivery_id"))
        .order_by(DeliveryItem.id)
    )


def item_counts(delivery_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per delivery, how many items are in each state (one query for a whole page)."""
    found: dict[int, dict[str, int]] = {}
    if not delivery_ids:
        return found
    rows = db.session.execute(
        sa.select(DeliveryItem.delivery_id, DeliveryItem.status, sa.func.count())
        .where(DeliveryItem.delivery_id.in_(delivery_ids))
        .group_by(DeliveryItem.delivery_id, DeliveryItem.status)
    )
    for delivery_id, status, count in rows:
        found.setdefault(delivery_id, {})[status] = count
    for counts in found.values():
        counts["total"] = sum(n for status, n in counts.items() if status != "removed")
    return found


def group_by_day(rows: list[Delivery], today: date) -> dict[str, list[Delivery]]:
    """An agent's deliveries as they plan their day: overdue, today, upcoming, done."""
    groups: dict[str, list[Delivery]] = {"overdue": [], "today": [], "upcoming": [], "done": []}
    for delivery in rows:
        if delivery.status not in UNDER_WAY:
            groups["done"].append(delivery)
        elif delivery.planned_on is None or delivery.planned_on > today:
            groups["upcoming"].append(delivery)
        elif delivery.planned_on == today:
            groups["today"].append(delivery)
        else:
            groups["overdue"].append(delivery)
    groups["upcoming"].sort(key=lambda d: (d.planned_on is None, d.planned_on or today, d.id))
    groups["overdue"].sort(key=lambda d: (d.planned_on, d.id))
    return groups


def schools_by_id(school_ids: list[int]) -> dict[int, School]:
    if not school_ids:
        return {}
    schools = db.session.scalars(sa.select(School).where(School.id.in_(school_ids)))
    return {school.id: school for school in schools}


def agent_choices(blank: str, reach: Reach = WHOLE) -> list[SelectChoice]:
    """The active field agents who work where `reach` does (the whole programme's, or of
    its regions), as a form's choices, `blank` first (0: nobody)."""
    agents = db.session.scalars(
        sa.select(User)
        .where(User.role.in_(roles_for("deliveries.assigned")), User.active)
        .order_by(User.email)
    )
    return [SelectChoice(0, blank)] + [
        SelectChoice(a.id, a.display_name) for a in agents if agent_works_in(a, reach)
    ]


def agent_works_in(agent: User, reach: Reach) -> bool:
    """Whether an agent may carry a delivery of `reach`'s: one of the whole programme, or
    whose areas `reach` holds (an agent of another region never learns of it)."""
    theirs = reach_of(agent)
    if theirs.whole or reach.whole:
        return True
    return all(reach.covers(region, part) for region, part in theirs.areas)


@cache
def _delivery_statement(lock: bool, whole: bool, lines: bool) -> sa.Select:
    """`get_delivery`'s statement, built once per kind (pages ask it on every request)."""
    query = sa.select(Delivery).where(Delivery.id == sa.bindparam("delivery_id"))
    if lock:
        return query.with_for_update()
    if whole:
        query = query.options(
            joinedload(Delivery.school),
            joinedload(Delivery.assigned_to),
            joinedload(Delivery.delivered_by),
            joinedload(Delivery.plan),
            joinedload(Delivery.receipt),
            joinedload(Delivery.from_depot),
        )
        if lines:
            query = query.options(selectinload(Delivery.items).joinedload(DeliveryItem.device))
    return query


def get_delivery(
    delivery_id: int, *, lock: bool = False, whole: bool = False, lines: bool = True
) -> Delivery:
    """The delivery; `whole` also loads its school, people and plan and (unless `lines` is
    false) every item's device in a few statements (for documents and pages), `lock` takes
    its row lock (for changes)."""
    delivery = db.session.scalar(
        _delivery_statement(lock, whole and not lock, lines), {"delivery_id": delivery_id}
    )
    if delivery is None:
        raise NotFound(_("No delivery with number %(id)s.", id=delivery_id))
    return delivery


def _delivery_reached(reach, delivery_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(Delivery.id).where(
                Delivery.id == delivery_id, reach.schools_clause(Delivery.school_id)
            )
        )
        is not None
    )


reachable(
    "delivery_id", _delivery_reached, lambda id_: _("No delivery with number %(id)s.", id=id_)
)


def _phone_reached(reach, key_id: int) -> bool:
    """A school's phone is in reach when one of its owner's schools is."""
    found = sa.select(PhoneKey.id).where(
        PhoneKey.id == key_id,
        PhoneKey.user_id.in_(
            sa.select(SchoolStaff.user_id).where(reach.schools_clause(SchoolStaff.school_id))
        ),
    )
    return db.session.scalar(found) is not None


reachable("key_id", _phone_reached, lambda id_: _("No phone with number %(id)s.", id=id_))
