"""The device event log, filtered: by device, school, user, event type and dates.

Pages are keyset pages on the event id (`id < last seen`), each an index range read, so
page 1,000 of millions of events costs what page 1 costs. The export takes the same filter.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from tracker.devices.codes import resolve_code
from tracker.devices.models import EVENT_TYPES, Device, DeviceEvent
from tracker.extensions import db
from tracker.schools.models import School
from tracker.schools.reach import WHOLE, Reach
from tracker.timezone import at_local, read_day
from tracker.web import whole_number

PAGE = 50


def _day(value: str) -> date | None:
    """A day typed as the reader writes it (or yyyy-mm-dd); a bad one is ignored."""
    try:
        return read_day(value[:40]) if value else None
    except ValueError:
        return None


@dataclass
class HistoryFilter:
    code: str = ""  # any code of a device
    school: str = ""  # a school code
    user_id: int | None = None
    event_type: str = ""
    since: date | None = None
    until: date | None = None
    unknown_device: bool = False
    unknown_school: bool = False
    reach: Reach = WHOLE  # whose log: the events of the tablets they reach

    @classmethod
    def from_args(cls, args, reach: Reach = WHOLE) -> "HistoryFilter":
        kind = args.get("type", "")
        return cls(
            reach=reach,
            code=args.get("code", "").strip()[:200],
            school=args.get("school", "").strip().upper()[:30],
            user_id=args.get("user", type=whole_number),
            event_type=kind if kind in EVENT_TYPES else "",
            since=_day(args.get("since", "")),
            until=_day(args.get("until", "")),
        )

    def as_args(self) -> dict:
        args = {
            "code": self.code,
            "school": self.school,
            "user": self.user_id,
            "type": self.event_type,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {key: value for key, value in args.items() if value}

    def conditions(self) -> list:
        """The WHERE clauses, resolving a device code and a school code first."""
        where = []
        if not self.reach.whole:
            where.append(
                DeviceEvent.device_id.in_(
                    sa.select(Device.id).where(
                        self.reach.devices_clause(Device.school_id, Device.depot_id)
                    )
                )
            )
        if self.code:
            # An old, replaced label still finds the tablet's history.
            resolved = resolve_code(self.code, self.reach)
            device = resolved.device or (resolved.replaced.device if resolved.replaced else None)
            self.unknown_device = device is None
            where.append(DeviceEvent.device_id == (device.id if device else -1))
        if self.school:
            school_id = db.session.scalar(
                sa.select(School.id).where(
                    School.code == self.school, self.reach.school_rows_clause()
                )
            )
            self.unknown_school = school_id is None
            where.append(DeviceEvent.school_id == (school_id or -1))
        if self.user_id:
            where.append(DeviceEvent.actor_id == self.user_id)
        if self.event_type:
            where.append(DeviceEvent.type == self.event_type)
        if self.since:
            where.append(DeviceEvent.occurred_at >= _local_midnight(self.since))
        if self.until:
            where.append(DeviceEvent.occurred_at < _local_midnight(self.until + timedelta(1)))
        return where


def _local_midnight(day: date) -> datetime:
    """The start of a day where the programme is, as an aware time."""
    return at_local(day)


@dataclass
class HistoryPage:
    events: list
    older: int | None  # `before` for the next (older) page
    newer: int | None  # `after` for the previous (newer) page


def history_page(
    history_filter: HistoryFilter, *, before: int | None = None, after: int | None = None
) -> HistoryPage:
    """One page of events, newest first, before or after a given event id."""
    query = sa.select(DeviceEvent).options(
        joinedload(DeviceEvent.device),
        joinedload(DeviceEvent.actor),
        joinedload(DeviceEvent.school),
    )
    query = query.where(*history_filter.conditions())
    if after is not None:
        rows = list(
            db.session.scalars(
                query.where(DeviceEvent.id > after).order_by(DeviceEvent.id).limit(PAGE + 1)
            )
        )
        more_newer = len(rows) > PAGE
        events = list(reversed(rows[:PAGE]))
        return HistoryPage(
            events, events[-1].id if events else None, events[0].id if more_newer else None
        )
    if before is not None:
        query = query.where(DeviceEvent.id < before)
    rows = list(db.session.scalars(query.order_by(DeviceEvent.id.desc()).limit(PAGE + 1)))
    events = rows[:PAGE]
    older = events[-1].id if len(rows) > PAGE else None
    newer = events[0].id if before is not None and events else None
    return HistoryPage(events, older, newer)
