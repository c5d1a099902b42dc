"""Read-side device queries: the filtered, sorted, keyset-paginated device list.

Keyset (seek) pagination rather than OFFSET: the page after value V is `WHERE key > V ORDER BY
key LIMIT n`, an index range scan that costs the same on page 1 and page 20,000, where an
OFFSET would read and discard every earlier row. Every sort key is a unique column, so the key
alone is a total order and needs no tie-breaker.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from tracker.database import LARGEST_ID
from tracker.devices import identity
from tracker.devices.models import Device
from tracker.dialects import starts_with
from tracker.extensions import db
from tracker.figures import provides
from tracker.i18n import gettext as _
from tracker.schools.reach import WHOLE, Reach, reachable

SORTS = {
    "asset_tag": (Device.asset_tag, False),
    "-asset_tag": (Device.asset_tag, True),
    "serial": (Device.serial, False),
    "-serial": (Device.serial, True),
    "newest": (Device.id, True),
    "oldest": (Device.id, False),
}
COUNT_CAP = 10_000


@dataclass
class DeviceFilters:
    q: str = ""
    status: str = ""
    donation_id: int | None = None
    school_id: int | None = None
    depot_id: int | None = None  # in stock there (no school)
    ids: tuple[int, ...] = ()  # tablets ticked on the list
    reach: Reach = WHOLE  # whose list: only the tablets they reach

    def conditions(self, reach: bool = True) -> list:
        """The WHERE clauses; without the reach's (`reach=False`) for a count that asks its
        parts one by one (`count_filtered`)."""
        conditions = (
            []
            if self.reach.whole or not reach
            else [self.reach.devices_clause(Device.school_id, Device.depot_id)]
        )
        if self.ids:
            conditions.append(Device.id.in_(self.ids))
        if self.status:
            conditions.append(Device.status == self.status)
        if self.donation_id:
            conditions.append(Device.donation_id == self.donation_id)
        if self.school_id:
            conditions.append(Device.school_id == self.school_id)
        if self.depot_id:
            conditions += [Device.depot_id == self.depot_id, Device.school_id.is_(None)]
        text = self.q.strip()
        if text:
            if "/d/" in text:
                text = text.rsplit("/d/", 1)[1].strip("/")
            compact = "".join(text.split()).upper()
            digits = "".join(ch for ch in text if ch.isascii() and ch.isdigit())
            matches = [
                Device.asset_tag.in_(identity.asset_tag_candidates(text)),
                starts_with(Device.serial_key, compact),
                Device.qr_token == text,
            ]
            if digits and len(digits) >= 4 and len(digits) >= len(compact) - 4:
                matches.append(starts_with(Device.imei, digits))
            conditions.append(sa.or_(*matches))
        return conditions


@dataclass
class DevicePage:
    devices: list[Device]
    next_cursor: str | None
    prev_cursor: str | None
    total: int
    total_is_capped: bool
    sort: str = "asset_tag"


def _cursor_value(sort: str, raw: str):
    column, _desc = SORTS[sort]
    if column is Device.id:
        # A cursor is ours, but it comes back in the query string: anything else starts over.
        return min(int(raw), LARGEST_ID) if raw.isdigit() and raw.isascii() else 0
    return raw[:200]


def _cursor_of(sort: str, device: Device) -> str:
    column, _desc = SORTS[sort]
    return str(getattr(device, column.key))


def list_devices(
    filters: DeviceFilters,
    *,
    sort: str = "asset_tag",
    after: str | None = None,
    before: str | None = None,
    page_size: int = 50,
) -> DevicePage:
    """One page of devices matching `filters`, after (or before) a cursor."""
    if sort not in SORTS:
        sort = "asset_tag"
    column, descending = SORTS[sort]
    conditions = filters.conditions(reach=False)
    if not filters.reach.whole:  # tested on each row of the page's walk, in its order
        conditions.append(
            filters.reach.devices_clause(Device.school_id, Device.depot_id, walked=True)
        )
    query = sa.select(Device).where(*conditions).options(sa.orm.joinedload(Device.school))
    backwards = before is not None and after is None
    if after is not None:
        value = _cursor_value(sort, after)
        query = query.where(column < value if descending else column > value)
    elif before is not None:
        value = _cursor_value(sort, before)
        query = query.where(column > value if descending else column < value)
    reverse_order = descending != backwards
    query = query.order_by(column.desc() if reverse_order else column.asc()).limit(page_size + 1)
    rows = list(db.session.scalars(query))
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    if backwards:
        rows.reverse()
    if backwards:
        next_cursor = _cursor_of(sort, rows[-1]) if rows else None
        prev_cursor = _cursor_of(sort, rows[0]) if rows and has_more else None
    else:
        next_cursor = _cursor_of(sort, rows[-1]) if rows and has_more else None
        prev_cursor = _cursor_of(sort, rows[0]) if rows and after is not None else None
    total = count_filtered(filters)
    return DevicePage(
        devices=rows,
        next_cursor=next_cursor,
        prev_cursor=prev_cursor,
        total=min(total, COUNT_CAP),
        total_is_capped=total > COUNT_CAP,
        sort=sort,
    )


def count_filtered(filters: DeviceFilters) -> int:
    """`count_devices` of the filters, in one statement: a regional office's count adds up
    its schools' tablets and its depots' stock, each part read through its own index and
    stopped at COUNT_CAP + 1 (as one OR, it would walk the whole table to find them)."""
    if filters.reach.whole:
        return count_devices(filters.conditions())
    base = filters.conditions(reach=False)
    parts = [
        sa.select(sa.func.count())
        .select_from(sa.select(Device.id).where(*base, part).limit(COUNT_CAP + 1).subquery())
        .scalar_subquery()
        for part in filters.reach.device_parts(Device.school_id, Device.depot_id)
    ]
    return db.session.scalar(sa.select(sum(parts[1:], parts[0]))) or 0


def count_all_devices(conditions: list) -> int:
    """Every matching device counted, however many (a job's total: it reads them all)."""
    return db.session.scalar(sa.select(sa.func.count(Device.id)).where(*conditions)) or 0


def count_devices(conditions: list) -> int:
    """Count matching devices, stopping at COUNT_CAP + 1 so a million rows cost no more."""
    capped = sa.select(Device.id).where(*conditions).limit(COUNT_CAP + 1).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(capped)) or 0


@provides("tablets_by_state")
def status_counts(
    donation_id: int | None = None, school_id: int | None = None, reach: Reach = WHOLE
) -> dict[str, int]:
    """Devices in `reach` per state, for the dashboard, a donation's page and a school's
    page."""
    query = sa.select(Device.status, sa.func.count()).group_by(Device.status)
    if not reach.whole:
        query = query.where(reach.devices_clause(Device.school_id, Device.depot_id))
    if donation_id is not None:
        query = query.where(Device.donation_id == donation_id)
    if school_id is not None:
        query = query.where(Device.school_id == school_id)
    return dict(db.session.execute(query).all())


@provides("tablets_per_donation")
def registered_per_donation(reach: Reach = WHOLE):
    """A subquery of (donation_id, n): the devices in `reach` registered against each
    donation."""
    return (
        sa.select(Device.donation_id, sa.func.count().label("n"))
        .where(reach.devices_clause(Device.school_id, Device.depot_id))
        .group_by(Device.donation_id)
        .subquery()
    )


def _device_reached(reach, device_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(Device.id).where(
                Device.id == device_id, reach.devices_clause(Device.school_id, Device.depot_id)
            )
        )
        is not None
    )


def _devices_reached(reach, device_ids: set[int]) -> set[int]:
    found = sa.select(Device.id).where(
        Device.id.in_(sorted(device_ids)), reach.devices_clause(Device.school_id, Device.depot_id)
    )
    return set(db.session.scalars(found))


reachable(
    "device_id",
    _device_reached,
    lambda id_: _("No device with id %(id)s.", id=id_),
    many=_devices_reached,
)
