"""The state machine applied to many devices at once (plans reserve and release in bulk).

The same MOVES table as `move_device`, and exactly one event per device, but written with
two statements per batch instead of two per device, or three in all for `move_matching`.

A feature above devices that must react when tablets move (a tablet leaving the road must
leave its delivery) registers with `when_devices_move`; devices never import it.
"""

from datetime import datetime

import sqlalchemy as sa

from tracker.auth.models import User
from tracker.database import UTCDateTime, utcnow
from tracker.devices.models import Device, DeviceEvent
from tracker.devices.states import MOVES, SIGHTINGS, clears_placement
from tracker.errors import Conflict
from tracker.extensions import db
from tracker.i18n import gettext as _

BATCH = 1000
# Called with (devices, target state) after devices moved: `devices` is a list of ids or a
# select of ids. Registered by the features above (deliveries).
_MOVED: list = []


def when_devices_move(callback):
    """Register `callback(devices, target)`, run in the same transaction as every move."""
    if callback not in _MOVED:
        _MOVED.append(callback)
    return callback


def moved(devices, target: str) -> None:
    """Tell the features above that `devices` moved to `target`."""
    for callback in _MOVED:
        callback(devices, target)


def insert_events(
    device_id,
    *,
    event_type: str,
    occurred_at: datetime,
    actor: User | None,
    to_status: str,
    details: dict,
    from_status=None,
    school_id=None,
    where=None,
    select_from=None,
    delivery_id: int | None = None,
    client_time: datetime | None = None,
) -> None:
    """Append one event per row of a select: the bulk twin of `services.record_event`.

    `device_id`, `from_status` and `school_id` are column expressions of that select.
    """
    columns = {
        "device_id": device_id,
        "type": sa.literal(event_type),
        "occurred_at": sa.literal(occurred_at, UTCDateTime()),
        "actor_id": sa.literal(actor.id if actor else None, sa.Integer()),
        "from_status": from_status if from_status is not None else sa.null(),
        "to_status": sa.literal(to_status),
        "school_id": school_id if school_id is not None else sa.null(),
        "details": sa.literal(details, sa.JSON()),
        "delivery_id": sa.literal(delivery_id, sa.Integer()),
        "client_time": sa.literal(client_time, UTCDateTime()),
    }
    query = sa.select(*columns.values())
    if select_from is not None:
        query = query.select_from(select_from)
    if where is not None:
        query = query.where(where)
    db.session.execute(sa.insert(DeviceEvent).from_select(list(columns), query))


def _changed_meanwhile() -> Conflict:
    return Conflict(
        _(
            "Some tablets changed state at the same moment (another plan or "
            "delivery took them). Nothing was changed; try again."
        )
    )


def move_devices(
    device_ids: list[int],
    event_type: str,
    actor: User | None,
    *,
    school_id: int | None = None,
    allocation_id: int | None = None,
    delivery_id: int | None = None,
    client_time: datetime | None = None,
    **details,
) -> int:
    """Apply one move to every device in `device_ids`, or to none of them.

    Raises Conflict when any device is no longer in a state the move starts from (someone
    moved it meanwhile); the caller rolls back. The caller commits.
    """
    sources, target = MOVES[event_type]
    now = utcnow()
    for start in range(0, len(device_ids), BATCH):
        ids = device_ids[start : start + BATCH]
        movable = sa.and_(Device.id.in_(ids), Device.status.in_(sorted(sources)))
        insert_events(
            Device.id,
            event_type=event_type,
            occurred_at=now,
            actor=actor,
            to_status=target,
            details=details,
            from_status=Device.status,
            school_id=sa.literal(school_id, sa.Integer()) if school_id else Device.school_id,
            where=movable,
            delivery_id=delivery_id,
            client_time=client_time,
        )
        values = {"status": target, "version": Device.version + 1, "updated_at": now}
        if event_type in SIGHTINGS:
            values["last_seen_at"] = now
        if event_type == "reserved":
            values.update(school_id=school_id, allocation_id=allocation_id)
        else:
            clearing = [state for state in sorted(sources) if clears_placement(event_type, state)]
            if clearing:
                off = Device.status.in_(clearing)
                values.update(
                    school_id=sa.case((off, None), else_=Device.school_id),
                    allocation_id=sa.case((off, None), else_=Device.allocation_id),
                )
        count = db.session.execute(
            sa.update(Device)
            .where(movable)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if count != len(ids):
            raise _changed_meanwhile()
        moved(ids, target)
    db.session.expire_all()
    return len(device_ids)


def move_matching(where, event_type: str, actor: User | None, **details) -> int:
    """Apply one move to every device matching `where` (a condition on Device) that is in a
    state the move starts from: three statements whatever their number (a national plan's
    million tablets included). Returns how many moved."""
    sources, target = MOVES[event_type]
    now = utcnow()
    movable = sa.and_(where, Device.status.in_(sorted(sources)))
    insert_events(
        Device.id,
        event_type=event_type,
        occurred_at=now,
        actor=actor,
        to_status=target,
        details=details,
        from_status=Device.status,
        school_id=Device.school_id,
        where=movable,
    )
    moved(sa.select(Device.id).where(movable).scalar_subquery(), target)
    values = {"status": target, "version": Device.version + 1, "updated_at": now}
    if event_type in SIGHTINGS:
        values["last_seen_at"] = now
    if any(clears_placement(event_type, state) for state in sources):
        values.update(school_id=None, allocation_id=None)
    count = db.session.execute(
        sa.update(Device)
        .where(movable)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire_all()
    return count


def reserve_mapping(
    mapping: list[tuple[int, int, int]], expected: int, actor: User | None, **details
) -> None:
    """Reserve devices for allocations: (device_id, allocation_id, school_id) triples.

    All of them or none: Conflict when fewer than `expected` are still in stock. Written with
    a temporary table, one event insert and one device update.
    """
    now = utcnow()
    connection = db.session.connection()
    postgres = connection.dialect.name == "postgresql"
    table = sa.Table(
        "reservation_batch",
        sa.MetaData(),
        sa.Column("device_id", sa.Integer, primary_key=True),
        sa.Column("allocation_id", sa.Integer),
        sa.Column("school_id", sa.Integer),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )
    table.create(connection)
    try:
        if len(mapping) != expected:
            raise Conflict(
                _(
                    "Only %(found)s of the %(expected)s tablets could be reserved. "
                    "Nothing was changed; try again.",
                    found=len(mapping),
                    expected=expected,
                )
            )
        if mapping:
            # Straight to the driver as tuples: a million dictionaries through SQLAlchemy's
            # parameter processing cost more than the reservation itself.
            mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
            connection.exec_driver_sql(
                # Only the driver's placeholder mark is put into the text.
                "INSERT INTO reservation_batch (device_id, allocation_id, school_id) "  # noqa: S608
                f"VALUES ({mark}, {mark}, {mark})",
                mapping,
            )
        in_stock = sa.and_(Device.id == table.c.device_id, Device.status == "in_stock")
        insert_events(
            table.c.device_id,
            event_type="reserved",
            occurred_at=now,
            actor=actor,
            to_status="reserved",
            details=details,
            from_status=sa.literal("in_stock"),
            school_id=table.c.school_id,
            select_from=table.join(Device, in_stock),
        )
        count = db.session.execute(
            sa.update(Device)
            .where(in_stock)
            .values(
                status="reserved",
                school_id=table.c.school_id,
                allocation_id=table.c.allocation_id,
                version=Device.version + 1,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if count != expected:
            raise _changed_meanwhile()
    except BaseException:
        # PostgreSQL drops it with the rolled-back transaction; SQLite keeps temp tables.
        if not postgres:
            table.drop(connection)
        raise
    table.drop(connection)
    db.session.expire_all()
