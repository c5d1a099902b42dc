"""The declarative base, column types and helpers shared by every feature's models."""

import fcntl
import os
import sqlite3
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so Alembic migrations name the same thing on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python, on SQLite and PostgreSQL alike.

    SQLite keeps no zone, so values are stored as naive UTC there and made aware on the way out.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use tracker.database.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The largest key an Integer column holds on both databases (int4 on PostgreSQL): a number
# past it in a URL or a request is no row, and is answered so before any query.
LARGEST_ID = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


def one_of(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    """A CHECK constraint keeping `column` inside a fixed set of states."""
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=name)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """Foreign keys on, WAL for concurrent readers, and wait rather than fail when busy."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    """On SQLite a request that may write takes the write lock when it begins.

    A deferred transaction that reads and then writes can find another writer ahead of it
    and fail at once ("database is locked") instead of waiting its turn; BEGIN IMMEDIATE
    waits (busy_timeout) at the start. Pages that only read, the command line and the
    background imports keep the driver's own deferred transactions (WAL lets readers read
    while a writer writes).
    """
    if connection.dialect.name != "sqlite":
        return
    from flask import has_request_context, request

    if has_request_context() and request.method not in SAFE_METHODS:
        _take_write_turn(connection)
        # The driver then sees a transaction under way and adds no BEGIN of its own.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


WRITE_TURN_WAIT = 5.0  # seconds, as SQLite's busy_timeout


def _take_write_turn(connection) -> None:
    """Writers to one SQLite file queue on a lock file beside it, first come first served.

    SQLite's own wait for its write lock sleeps longer and longer (up to 100 ms a try), so
    with a few writers at once the lock sits free while they sleep: scans from four phones
    waited up to 0.6 s. A lock file taken with flock is polled every millisecond instead,
    and the kernel drops it if the process dies. Released at commit or rollback
    (`_end_write_turn`), or when the connection goes back to the pool at the latest.
    """
    path = connection.engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    if "write_turn" in connection.info:
        return  # this connection has it already
    handle = os.open(f"{path}.writers", os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + WRITE_TURN_WAIT
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                break  # SQLite's busy timeout decides from here
            time.sleep(0.001)
    connection.info["write_turn"] = handle


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _end_write_turn(connection):
    handle = connection.info.pop("write_turn", None)
    if handle is not None:
        os.close(handle)  # closing the file releases the lock


@event.listens_for(sa.pool.Pool, "checkin")
@event.listens_for(sa.pool.Pool, "invalidate")
def _end_write_turn_at_checkin(_dbapi_connection, record, *_exception):
    handle = record.info.pop("write_turn", None) if record is not None else None
    if handle is not None:
        os.close(handle)


def built_on(item, dialect_name: str) -> bool:
    """Whether the schema has this index or constraint on that database (`.ddl_if()`).

    Alembic's comparison does not read `ddl_if`: migrations/env.py and the migration test
    ask this instead, so an index made for PostgreSQL alone is not missed on SQLite."""
    condition = getattr(item, "_ddl_if", None)
    return condition is None or condition.dialect in (None, dialect_name)


def any_of(column, values: list):
    """`column IN values` for a long list (an import chunk: thousands of values).

    PostgreSQL gets one array parameter (`= ANY(%s)`) instead of a placeholder per value,
    which the driver would rewrite and the server plan again for every chunk; SQLite gets
    the plain IN list.
    """
    from tracker.extensions import db

    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == sa.any_(sa.bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def starts_with(column, prefix: str):
    """`column` begins with `prefix` (case-sensitive), in a form an index on it serves.

    `LIKE 'p%'` is case-insensitive on SQLite, which then cannot use the column's index
    (case-sensitive) and reads the whole table: part of a serial typed into the code box
    took 164 ms at 200,000 devices. GLOB is case-sensitive, as LIKE is on PostgreSQL, and
    walks the index. PostgreSQL walks the `*_prefix` index (varchar_pattern_ops): its
    ordinary index follows the database's collation, which LIKE cannot use.
    """
    from tracker.extensions import db

    if db.engine.dialect.name == "sqlite":
        pattern = "".join(f"[{char}]" if char in "*?[" else char for char in prefix)
        return column.op("GLOB")(pattern + "*")
    return column.startswith(prefix, autoescape=True)


def copy_rows(table: sa.Table, rows: list[dict]) -> bool:
    """Write `rows` into `table` with PostgreSQL's COPY, inside the session's transaction;
    False (nothing written) on other databases, where the caller inserts them itself.
    Every row names the same columns, defaults included: COPY fills in nothing."""
    from tracker.extensions import db

    if db.engine.dialect.name != "postgresql" or not rows:
        return False
    db.session.flush()  # what the session holds goes first, as before any statement
    columns = list(rows[0])
    cursor = db.session.connection().connection.dbapi_connection.cursor()
    names = ", ".join(table.c[name].name for name in columns)
    with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as stream:  # noqa: S608
        for row in rows:
            stream.write_row([row[name] for name in columns])
    return True


def refresh_statistics(*tables: sa.Table) -> None:
    """PostgreSQL: read the planner's statistics of `tables` again, after a change in bulk.

    Until autovacuum gets to it (a minute or more later), the planner still believes the
    old figures: after a national plan reserved a million tablets, creating its deliveries
    chose, per school, a bitmap of every reserved tablet — minutes instead of a second.
    ANALYZE samples the tables (a fraction of a second at 1.5 M devices) inside this
    transaction. SQLite's planner needs no such figures for these queries.
    """
    from tracker.extensions import db

    if db.engine.dialect.name == "postgresql":
        db.session.flush()
        db.session.execute(sa.text("ANALYZE " + ", ".join(table.name for table in tables)))


def needs_transaction(view):
    """Mark a view that reads inside a transaction all the same: an export streamed by a
    server-side cursor (`yield_per`), which PostgreSQL opens only inside one."""
    view.needs_transaction = True
    return view


def reads_without_transaction():
    """On PostgreSQL a request that only reads (GET, HEAD) runs its statements outside a
    transaction: no BEGIN and no ROLLBACK, two round trips fewer per page.

    Nothing is lost: under READ COMMITTED, PostgreSQL's level here, each statement sees the
    data committed when it starts, inside a transaction or not. SQLite keeps its (local, free)
    transactions, which also spare it a snapshot per statement. A request like this must not
    write through the session's unit of work: `_no_writes_when_reading` refuses it.
    """
    from flask import current_app, request

    from tracker.extensions import db

    if request.method not in SAFE_METHODS or db.engine.dialect.name != "postgresql":
        return
    view = current_app.view_functions.get(request.endpoint)
    # A session already under way (an app context kept across requests, as in scripts)
    # keeps its transaction.
    if not getattr(view, "needs_transaction", False) and not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


@event.listens_for(sa.orm.Session, "before_flush")
def _no_writes_when_reading(session, _context, _instances):
    """A GET or HEAD changes nothing (the web's rule; and on PostgreSQL such a request has no
    transaction to make several changes whole). A deliberate single statement, such as an
    API token's time of last use, is sent as one UPDATE of its own."""
    from flask import has_request_context, request

    if (
        has_request_context()
        and request.method in SAFE_METHODS
        and (session.new or session.dirty or session.deleted)
    ):
        raise RuntimeError(f"{request.method} {request.path} tried to write to the database")
