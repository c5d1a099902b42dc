"""Count rules: opening a count (its expected lists fixed in one INSERT ... SELECT), a scan
at a school (found, found but listed elsewhere, or unexpected), what each school's figures
are, and closing: a manager confirms, and every tablet not seen becomes missing (lost, an
event each). A count of a depot lists its shelf, scanned there (`depot_scan`).

The page, the offline sync and the CLI ask these; none commits.
"""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from tracker.auth.models import User
from tracker.auth.permissions import can, check
from tracker.counts import notices
from tracker.counts.models import (
    COUNTED_STATES,
    SCOPES,
    STOCK_COUNTED_STATES,
    Count,
    CountExtra,
    CountLine,
    CountStockLine,
)
from tracker.counts.queries import counts_clause
from tracker.database import as_id, utcnow
from tracker.devices.bulk import move_matching
from tracker.devices.codes import code_refusal, resolve_code
from tracker.devices.custody import held_by, may_change
from tracker.devices.models import CONDITIONS, Device, DeviceEvent
from tracker.devices.services import record_event
from tracker.errors import Conflict, NotFound, ValidationFailed, ValidationProblems, gathered
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import school_name
from tracker.schools.models import CYCLES, SETTINGS, Depot, School
from tracker.schools.reach import codes_read_by, reach_of, reachable
from tracker.schools.services import spelled_as_stored
from tracker.schools.staff import school_in_reach
from tracker.text import refuse_control_characters
from tracker.timezone import local_today

LINES_SHOWN = 500  # a school's list on its count page, at most
SCHOOLS_SHOWN = 50  # schools on a page of a count


def get_count(count_id: int, actor: User | None = None) -> Count:
    """The count; with `actor`, only one they reach (another office's is as if none)."""
    count = db.session.get(Count, count_id)
    if count is None or (actor is not None and not _count_reached(reach_of(actor), count_id)):
        raise NotFound(_("No count with number %(id)s.", id=count_id))
    return count


def _scope_condition(scope: str, value: str, cycle: str = "", milieu: str = ""):
    """Which schools a count covers, as a condition on School: its place, and only the
    schools of a cycle and a setting when it names them (rural primary schools)."""
    conditions = [School.cycle == cycle] if cycle else []
    if milieu:
        conditions.append(School.milieu == milieu)
    if scope == "school":
        conditions.append(School.id == int(value))
    elif scope == "province":
        conditions.append(School.province == value)
    elif scope == "region":
        conditions.append(School.region == value)
    elif scope == "depot":
        return sa.false()  # a depot's shelf: no school's list
    return sa.and_(sa.true(), *conditions)


def covers(count: Count, school: School) -> bool:
    if count.scope == "depot":
        return False
    if (count.cycle and school.cycle != count.cycle) or (
        count.milieu and school.milieu != count.milieu
    ):
        return False
    if count.scope == "school":
        return str(school.id) == count.scope_value
    if count.scope == "province":
        return school.province == count.scope_value
    if count.scope == "region":
        return school.region == count.scope_value
    return True


def _clean_kind(cycle: str, milieu: str) -> tuple[str, str]:
    """A count's cycle and setting: a known code, or empty for every school."""
    cycle, milieu = (cycle or "").strip(), (milieu or "").strip()
    if cycle not in CYCLES:
        raise ValidationFailed(_("Choose a cycle from the list."), field="cycle")
    if milieu not in SETTINGS:
        raise ValidationFailed(_("Choose urban or rural from the list."), field="milieu")
    return cycle, milieu


def _clean_scope(scope: str, value: str, actor: User | None = None) -> str:
    if scope not in SCOPES:
        raise ValidationFailed(_("Choose what the count covers."), field="scope")
    value = " ".join((value or "").split())
    if scope == "programme":
        return ""
    if scope == "depot":
        depot = db.session.scalar(
            sa.select(Depot)
            .where(sa.or_(Depot.code == value.upper(), sa.func.lower(Depot.name) == value.lower()))
            .order_by(Depot.code != value.upper())
            .limit(1)
        )
        if depot is None or not reach_of(actor).covers_depot(depot):  # (another's: as none)
            raise ValidationFailed(
                _("No depot has the code '%(value)s'.", value=value)
                if value
                else _("Choose the depot to count: its code."),
                field="scope_value",
            )
        return str(depot.id)
    if scope == "school":
        school = db.session.scalar(sa.select(School).where(School.code == value.upper()))
        if school is None and as_id(value) is not None:
            school = db.session.get(School, as_id(value))
        if school is None:
            raise ValidationFailed(
                _("No school has the code '%(value)s'.", value=value)
                if value
                else _("Choose the school to count: its code."),
                field="scope_value",
            )
        return str(school.id)
    column = School.province if scope == "province" else School.region
    value = spelled_as_stored(column, value)
    if db.session.scalar(sa.select(column).where(column == value).limit(1)) is None:
        raise ValidationFailed(_("No school is in '%(value)s'.", value=value), field="scope_value")
    return value


def _clean_name(name: str) -> str:
    name = refuse_control_characters(" ".join((name or "").split())[:120], "name")
    if not name:
        raise ValidationFailed(_("Give the count a name."), field="name")
    return name


def _check_days(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on is None or ends_on is None:
        problems = [
            ValidationFailed(message, field=field)
            for day, message, field in (
                (starts_on, _("Give the count's first day."), "starts_on"),
                (ends_on, _("Give the count's last day."), "ends_on"),
            )
            if day is None
        ]
        raise problems[0] if len(problems) == 1 else ValidationProblems(problems)
    if ends_on < starts_on:
        raise ValidationFailed(_("The count must end on or after its first day."), field="ends_on")
    if ends_on < local_today():
        raise ValidationFailed(_("The count's last day is already past."), field="ends_on")


def open_count(
    actor: User | None,
    *,
    name: str,
    scope: str,
    scope_value: str = "",
    starts_on: date | None,
    ends_on: date | None,
    cycle: str = "",
    milieu: str = "",
) -> Count:
    """Open a count: every tablet handed over to a school it covers (or lent from it) is put
    on that school's expected list now, in one statement, whatever their number. Every
    problem of the form is told at once."""
    check(actor, "counts.open")
    with gathered() as checked:
        name = checked(_clean_name, name)
        value = checked(_clean_scope, scope, scope_value, actor)
        checked(_check_days, starts_on, ends_on)
        kind = checked(_clean_kind, cycle, milieu)
    cycle, milieu = kind if scope != "depot" else ("", "")  # a shelf has no school kinds
    count = Count(
        name=name,
        scope=scope,
        scope_value=value,
        starts_on=starts_on,
        ends_on=ends_on,
        cycle=cycle,
        milieu=milieu,
        status="open",
        opened_by_id=actor.id if actor else None,
    )
    db.session.add(count)
    db.session.flush()
    if not _count_reached(reach_of(actor), count.id):
        raise ValidationFailed(
            _("This count reaches beyond your part of the programme."), field="scope_value"
        )
    if scope == "depot":
        _one_open_at_depot(count)
        count.expected = _stock_snapshot(count, reach_of(actor))
        db.session.flush()
        return count
    # In the table's own order (school, tablet): the lines go in as one append.
    snapshot = (
        sa.select(
            sa.literal(count.id, sa.Integer()), Device.id, Device.school_id, sa.literal("expected")
        )
        .where(Device.status.in_(COUNTED_STATES), Device.school_id.is_not(None))
        .order_by(Device.school_id, Device.id)
    )
    if scope != "programme" or cycle or milieu:
        snapshot = snapshot.join(School, School.id == Device.school_id).where(
            _scope_condition(scope, value, cycle, milieu)
        )
    db.session.execute(
        sa.insert(CountLine.__table__).from_select(
            ["count_id", "device_id", "school_id", "status"], snapshot
        )
    )
    # (psycopg gives no row count for an INSERT ... SELECT: the lines are counted, a range.)
    count.expected = db.session.scalar(
        sa.select(sa.func.count()).select_from(CountLine).where(CountLine.count_id == count.id)
    )
    db.session.flush()
    return count


@dataclass
class CountScan:
    ok: bool
    message: str
    outcome: str = ""  # found | elsewhere | unexpected | again | refused


def _on_shelf(count: Count):
    """The tablets a depot's count expects: with no school's hands on them yet, on the
    depot's shelf (in stock, or reserved and not yet dispatched)."""
    return sa.and_(
        Device.depot_id == int(count.scope_value), Device.status.in_(STOCK_COUNTED_STATES)
    )


def _one_open_at_depot(count: Count) -> None:
    """A depot is counted by one count at a time: a second's closing would report lost what
    the first found."""
    other = db.session.scalar(
        sa.select(Count.name).where(
            Count.scope == "depot",
            Count.scope_value == count.scope_value,
            Count.status != "closed",
            Count.id != count.id,
        )
    )
    if other is not None:
        raise ValidationFailed(
            _("This depot is being counted already: %(name)s.", name=other), field="scope_value"
        )


def _stock_snapshot(count: Count, reach) -> int:
    """A depot's list, fixed in one INSERT ... SELECT whatever its size; how many. Of the
    shelf, what the opener's office reaches: a tablet reserved there for another office's
    school is that office's (or the national office's) to count."""
    snapshot = (
        sa.select(sa.literal(count.id, sa.Integer()), Device.id, sa.literal("expected"))
        .where(_on_shelf(count), reach.devices_clause(Device.school_id, Device.depot_id))
        .order_by(Device.id)
    )
    db.session.execute(
        sa.insert(CountStockLine.__table__).from_select(
            ["count_id", "device_id", "status"], snapshot
        )
    )
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(CountStockLine)
        .where(CountStockLine.count_id == count.id)
    )


def depot_id_of(count: Count) -> int | None:
    """The id of the depot a count covers (none for a count of schools)."""
    return int(count.scope_value) if count.scope == "depot" else None


def depot_of(count: Count) -> Depot | None:
    depot_id = depot_id_of(count)
    return db.session.get(Depot, depot_id) if depot_id is not None else None


def depot_scan(
    actor: User | None,
    count_id: int,
    code: str,
    *,
    condition: str | None = None,
    client_time: datetime | None = None,
    depot_id: int | None = None,
) -> CountScan:
    """A tablet in hand at a depot during its count: found on its list, or on none
    (unexpected: a sighting for the office; nothing on the tablet changes). Scanning it
    again changes nothing. `depot_id`, when a phone names it, must be the count's."""
    check(actor, "counts.scan")
    count = get_count(count_id, actor)
    depot = depot_of(count)
    if depot is None or not reach_of(actor).covers_depot(depot):
        raise NotFound(_("No count with number %(id)s.", id=count_id))
    if depot_id is not None and depot_id != depot.id:
        raise ValidationFailed(_("This count does not cover this depot."), field="depot_id")
    _check_scannable(count, condition)
    resolved = resolve_code(code, codes_read_by(actor))
    device = resolved.device
    if device is None:
        return CountScan(False, code_refusal(code, resolved), "refused")
    line = db.session.get(CountStockLine, (count.id, device.id))
    if line is not None and line.status != "expected":
        return CountScan(True, _("%(tag)s is already counted.", tag=device.asset_tag), "again")
    now, by = utcnow(), actor.id if actor else None
    if line is None:
        db.session.add(
            CountStockLine(
                count_id=count.id,
                device_id=device.id,
                status="unexpected",
                found_at=now,
                found_by_id=by,
                condition=condition,
            )
        )
        db.session.flush()
        return CountScan(
            True,
            _(
                "%(tag)s is not on this depot's list: noted as unexpected, for the office to "
                "check.",
                tag=device.asset_tag,
            ),
            "unexpected",
        )
    taken = db.session.execute(
        sa.update(CountStockLine)
        .where(
            CountStockLine.count_id == count.id,
            CountStockLine.device_id == device.id,
            CountStockLine.status == "expected",
        )
        .values(status="found", found_at=now, found_by_id=by, condition=condition)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not taken:
        return CountScan(True, _("%(tag)s is already counted.", tag=device.asset_tag), "again")
    if condition and condition != device.condition and may_change(actor, device):
        device.condition = condition
    record_event(
        device,
        "counted",
        actor,
        client_time=client_time,
        count=count.id,
        depot=depot.code,
        **({"condition": condition} if condition else {}),
    )
    db.session.flush()
    return CountScan(True, _("%(tag)s counted.", tag=device.asset_tag), "found")


def depot_lines(count: Count, actor: User | None = None) -> dict[str, list]:
    """A depot's tablets in a count, by what became of them (each list bounded); of those
    scanned there unexpectedly, the reader learns where they are recorded only of tablets
    they reach (`hidden`)."""
    base = (
        sa.select(CountStockLine, Device)
        .join(Device, Device.id == CountStockLine.device_id)
        .where(CountStockLine.count_id == count.id)
        .order_by(Device.asset_tag)
        .limit(LINES_SHOWN)
    )
    lists = {
        key: list(db.session.execute(base.where(CountStockLine.status == status)))
        for key, status in (
            ("not_seen", "expected"),
            ("missing", "missing"),
            ("found", "found"),
            ("unexpected", "unexpected"),
        )
    }
    reach = reach_of(actor)
    lists["hidden"] = {
        device.id
        for _line, device in lists["unexpected"]
        if not reach.covers_device(device.school_id, device.depot_id)
    }
    return lists


def _line_of(count: Count, device: Device) -> CountLine | None:
    """The tablet's line in the count: at its school now (one key lookup), or, when it
    moved since the count opened, at the school it was at then (its last event before)."""
    if device.school_id is not None:
        line = db.session.get(CountLine, (count.id, device.school_id, device.id))
        if line is not None:
            return line
    moved_since = db.session.scalar(
        sa.select(DeviceEvent.id)
        .where(DeviceEvent.device_id == device.id, DeviceEvent.occurred_at >= count.opened_at)
        .limit(1)
    )
    if moved_since is None:
        return None
    then = db.session.scalar(
        sa.select(DeviceEvent.school_id)
        .where(
            DeviceEvent.device_id == device.id,
            DeviceEvent.occurred_at < count.opened_at,
            DeviceEvent.type != "counted",  # counted at another school: not where it was
        )
        .order_by(DeviceEvent.id.desc())
        .limit(1)
    )
    if then is None or then == device.school_id:
        return None
    return db.session.get(CountLine, (count.id, then, device.id))


def count_scan(
    actor: User | None,
    count_id: int,
    school_id: int,
    code: str,
    *,
    condition: str | None = None,
    client_time: datetime | None = None,
) -> CountScan:
    """A tablet in hand at a school during a count. Found on the school's list, found but
    listed at another school (unexpected here), or on no list (unexpected): each is kept,
    and the tablet was seen. Scanning it again changes nothing."""
    check(actor, "counts.scan")
    count = get_count(count_id, actor)
    school = school_in_reach(actor, school_id)
    if count.status == "open" and not covers(count, school):
        raise ValidationFailed(
            _("This count does not cover %(school)s.", school=school_name(school))
        )
    _check_scannable(count, condition)
    resolved = resolve_code(code, codes_read_by(actor))
    device = resolved.device
    if device is None:
        return CountScan(False, code_refusal(code, resolved), "refused")
    now = utcnow()
    line = _line_of(count, device)
    if line is not None and line.status == "found":
        return CountScan(True, _("%(tag)s is already counted.", tag=device.asset_tag), "again")
    if line is None or line.school_id != school.id or not held_by(school.id, device):
        # Not this school's to count: a sighting for the office to check; the tablet is
        # left as it is (no condition, no "seen") until the office accepts it.
        return _sighting(count, school, device, line, actor, now, condition)
    taken = db.session.execute(
        sa.update(CountLine)
        .where(
            CountLine.count_id == count.id,
            CountLine.school_id == line.school_id,
            CountLine.device_id == device.id,
            CountLine.status == "expected",
        )
        .values(
            status="found",
            found_school_id=school.id,
            found_at=now,
            found_by_id=actor.id if actor else None,
            condition=condition,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not taken:
        return CountScan(True, _("%(tag)s is already counted.", tag=device.asset_tag), "again")
    _counted(device, actor, school.id, count.id, condition, client_time)
    return CountScan(True, _("%(tag)s counted.", tag=device.asset_tag), "found")


def _check_scannable(count: Count, condition: str | None) -> None:
    """Scans are taken while a count is open, from its first day, with a known condition."""
    if count.status != "open":
        raise Conflict(_("This count is closed: scans are no longer taken."))
    if local_today() < count.starts_on:
        raise ValidationFailed(
            _("This count starts on %(day)s.", day=count.starts_on.strftime("%d/%m/%Y"))
        )
    if condition is not None and condition not in CONDITIONS:
        raise ValidationFailed(_("Choose the tablet's condition."), field="condition")


def _counted(device, actor, school_id, count_id, condition, client_time=None) -> None:
    """The tablet seen at its school: its event, and the condition noted when the person
    may change it (devices/custody.py); a count line keeps what anyone said."""
    if (
        condition
        and condition != device.condition
        and may_change(actor, device, at_school=school_id)
    ):
        device.condition = condition
    record_event(
        device,
        "counted",
        actor,
        client_time=client_time,
        school_id=school_id,
        count=count_id,
        **({"condition": condition} if condition else {}),
    )
    db.session.flush()


def _sighting(count, school, device, line, actor, now, condition) -> CountScan:
    known = db.session.scalar(
        sa.select(CountExtra.id).where(
            CountExtra.count_id == count.id,
            CountExtra.school_id == school.id,
            CountExtra.device_id == device.id,
        )
    )
    if known:
        return CountScan(True, _("%(tag)s is already counted.", tag=device.asset_tag), "again")
    db.session.add(
        CountExtra(
            count_id=count.id,
            school_id=school.id,
            device_id=device.id,
            code=device.asset_tag,
            found_at=now,
            found_by_id=actor.id if actor else None,
            condition=condition,
        )
    )
    db.session.flush()
    # Where else it is listed is the office's to know: a school's staff learn nothing of
    # another school's tablets by scanning their codes.
    if line is not None and line.school_id != school.id and not can(actor, "schools.read"):
        return CountScan(
            True,
            _(
                "%(tag)s is not on this school's list: noted as unexpected, for the office "
                "to check.",
                tag=device.asset_tag,
            ),
            "elsewhere",
        )
    if line is not None and line.school_id != school.id:
        listed = db.session.get(School, line.school_id)
        return CountScan(
            True,
            _(
                "%(tag)s is listed at %(school)s: noted as unexpected here, for the office "
                "to check.",
                tag=device.asset_tag,
                school=school_name(listed),
            ),
            "elsewhere",
        )
    return CountScan(
        True,
        _(
            "%(tag)s is not on this school's list: noted as unexpected, for the office to check.",
            tag=device.asset_tag,
        ),
        "unexpected",
    )


def accept_sighting(actor: User | None, extra_id: int, count_id: int) -> CountExtra:
    """The office accepts a tablet seen where it was not expected: it was seen there (its
    event, its condition), and its line elsewhere in the count, if any, is found."""
    check(actor, "counts.accept_sighting")
    extra = db.session.get(CountExtra, extra_id)
    if extra is None or extra.device_id is None or extra.count_id != count_id:
        raise NotFound(_("No such unexpected tablet in this count."))
    count = get_count(extra.count_id)
    if count.status != "open":
        raise Conflict(_("This count is closed: scans are no longer taken."))
    if extra.accepted_at is not None:
        raise Conflict(_("%(tag)s was already accepted.", tag=extra.code))
    device = db.session.get(Device, extra.device_id)
    if not reach_of(actor).covers_device(device.school_id, device.depot_id):
        raise NotFound(_("No such unexpected tablet in this count."))
    line = _line_of(count, device)
    if line is not None and line.status == "expected":
        line.status, line.found_school_id = "found", extra.school_id
        line.found_at, line.found_by_id = extra.found_at, extra.found_by_id
        line.condition = extra.condition
        db.session.delete(extra)
    else:
        extra.accepted_at, extra.accepted_by_id = utcnow(), actor.id if actor else None
    _counted(device, actor, extra.school_id, count.id, extra.condition)
    return extra


@dataclass
class SchoolFigures:
    expected: int = 0
    found: int = 0
    not_seen: int = 0
    missing: int = 0
    unexpected: int = 0


def school_figures(count_id: int, school_ids: list[int]) -> dict[int, SchoolFigures]:
    """Each school's figures in a count: two statements, however many tablets and schools."""
    figures = {school_id: SchoolFigures() for school_id in school_ids}
    if not school_ids:
        return figures
    rows = db.session.execute(
        sa.select(
            CountLine.school_id,
            sa.func.count(),
            sa.func.count().filter(
                CountLine.status == "found", CountLine.found_school_id == CountLine.school_id
            ),
            sa.func.count().filter(CountLine.status == "expected"),
            sa.func.count().filter(CountLine.status == "missing"),
        )
        .where(CountLine.count_id == count_id, CountLine.school_id.in_(school_ids))
        .group_by(CountLine.school_id)
    )
    for school_id, expected, found, not_seen, missing in rows:
        figure = figures[school_id]
        figure.expected, figure.found, figure.not_seen, figure.missing = (
            expected,
            found,
            not_seen,
            missing,
        )
    elsewhere = (
        sa.select(CountLine.found_school_id.label("school_id"))
        .where(
            CountLine.count_id == count_id,
            CountLine.found_school_id.in_(school_ids),
            CountLine.found_school_id != CountLine.school_id,
        )
        .union_all(
            sa.select(CountExtra.school_id).where(
                CountExtra.count_id == count_id, CountExtra.school_id.in_(school_ids)
            )
        )
        .subquery()
    )
    for school_id, unexpected in db.session.execute(
        sa.select(elsewhere.c.school_id, sa.func.count()).group_by(elsewhere.c.school_id)
    ):
        figures[school_id].unexpected = unexpected
    return figures


def totals(count: Count) -> SchoolFigures:
    """The whole count's figures (two statements)."""
    if count.scope == "depot":
        return _stock_totals(count)
    expected, found, not_seen, missing = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(CountLine.status == "found"),
            sa.func.count().filter(CountLine.status == "expected"),
            sa.func.count().filter(CountLine.status == "missing"),
        ).where(CountLine.count_id == count.id)
    ).one()
    extras = db.session.scalar(
        sa.select(sa.func.count()).select_from(CountExtra).where(CountExtra.count_id == count.id)
    )
    return SchoolFigures(expected, found, not_seen, missing, extras or 0)


def _stock_totals(count: Count) -> SchoolFigures:
    rows = dict(
        db.session.execute(
            sa.select(CountStockLine.status, sa.func.count())
            .where(CountStockLine.count_id == count.id)
            .group_by(CountStockLine.status)
        ).all()
    )
    listed = rows.get("expected", 0) + rows.get("found", 0) + rows.get("missing", 0)
    return SchoolFigures(
        listed,
        rows.get("found", 0),
        rows.get("expected", 0),
        rows.get("missing", 0),
        rows.get("unexpected", 0),
    )


def schools_in(count: Count):
    """A select of the schools a count covers, by code (its page pages through them)."""
    return (
        sa.select(School)
        .where(_scope_condition(count.scope, count.scope_value, count.cycle, count.milieu))
        .order_by(School.code)
    )


def school_lines(count_id: int, school_id: int, actor: User | None = None) -> dict[str, list]:
    """A school's tablets in a count, by what became of them (each list bounded); of the
    tablets seen there unexpectedly, those the reader does not reach are only their code
    (`hidden`: nothing of another office's tablet is read here)."""
    base = (
        sa.select(CountLine, Device)
        .join(Device, Device.id == CountLine.device_id)
        .where(CountLine.count_id == count_id)
        .order_by(Device.asset_tag)
        .limit(LINES_SHOWN)
    )
    here = CountLine.school_id == school_id
    lists = {
        "not_seen": base.where(here, CountLine.status == "expected"),
        "missing": base.where(here, CountLine.status == "missing"),
        "found": base.where(here, CountLine.status == "found"),
        "elsewhere": base.where(
            CountLine.found_school_id == school_id, CountLine.school_id != school_id
        ),
    }
    found = {key: list(db.session.execute(query)) for key, query in lists.items()}
    found["extras"] = list(
        db.session.scalars(
            sa.select(CountExtra)
            .options(sa.orm.joinedload(CountExtra.device).joinedload(Device.school))
            .where(CountExtra.count_id == count_id, CountExtra.school_id == school_id)
            .order_by(CountExtra.code)
            .limit(LINES_SHOWN)
        )
    )
    reach = reach_of(actor)
    found["hidden"] = {
        extra.id
        for extra in found["extras"]
        if extra.device is not None
        and not reach.covers_device(extra.device.school_id, extra.device.depot_id)
    }
    return found


def ask_to_close(actor: User | None, count_id: int) -> Count:
    """The office says the count is done; a manager confirms before anything is missing."""
    check(actor, "counts.close")
    count = get_count(count_id)
    if count.status != "open":
        raise Conflict(_("This count is not open."))
    if local_today() < count.starts_on:
        # Nothing could be scanned yet: closing now would report every tablet lost.
        raise Conflict(
            _(
                "This count starts on %(day)s: it is closed once it has been scanned.",
                day=count.starts_on.strftime("%d/%m/%Y"),
            )
        )
    count.status = "closing"
    count.close_asked_by_id = actor.id if actor else None
    count.close_asked_at = utcnow()
    db.session.flush()
    notices.closing_asked(count, totals(count).not_seen)
    return count


def keep_open(actor: User | None, count_id: int) -> Count:
    """A manager sends the closing back: scans go on."""
    check(actor, "counts.confirm")
    count = get_count(count_id)
    if count.status != "closing":
        raise Conflict(_("This count is not waiting to be closed."))
    count.status = "open"
    db.session.flush()
    return count


def confirm_close(actor: User | None, count_id: int) -> Count:
    """A manager (not whoever asked) confirms: every tablet not seen is missing, and is
    reported lost, an event each (three statements whatever their number)."""
    check(actor, "counts.confirm")
    count = get_count(count_id)
    if count.status != "closing":
        raise Conflict(_("This count is not waiting to be closed."))
    if actor is not None and count.close_asked_by_id == actor.id:
        raise Conflict(_("Another person confirms what you asked: the count waits for them."))
    lines = CountStockLine if count.scope == "depot" else CountLine
    not_seen = sa.select(lines.device_id).where(
        lines.count_id == count.id, lines.status == "expected"
    )
    # Still where the count expected it (a tablet dispatched or delivered since is not
    # lost for not being seen there).
    where = _on_shelf(count) if count.scope == "depot" else Device.status.in_(COUNTED_STATES)
    move_matching(
        Device.id.in_(not_seen) & where,
        "reported_lost",
        actor,
        reason="missing_at_count",
        count=count.id,
    )
    missing = db.session.execute(
        sa.update(lines)
        .where(lines.count_id == count.id, lines.status == "expected")
        .values(status="missing")
        .execution_options(synchronize_session=False)
    ).rowcount
    count.status, count.missing = "closed", missing
    count.closed_by_id = actor.id if actor else None
    count.closed_at = utcnow()
    db.session.flush()
    return count


def open_counts_at(school: School) -> list[Count]:
    """The open counts that cover a school (its staff's page offers their scan)."""
    counts = db.session.scalars(
        sa.select(Count).where(Count.status == "open").order_by(Count.starts_on)
    )
    return [count for count in counts if covers(count, school)]


def _count_reached(reach, count_id: int) -> bool:
    found = sa.select(Count.id).where(Count.id == count_id, counts_clause(reach))
    return db.session.scalar(found) is not None


reachable("count_id", _count_reached, lambda id_: _("No count with number %(id)s.", id=id_))
