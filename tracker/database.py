"""The declarative base, column types and helpers shared by every feature's models."""

import fcntl
import os
import sqlite3
import time
import weakref
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


def as_id(text) -> int | None:
    """A database id typed as text: ASCII digits only ("²" is a digit to Python, not to
    `int` in every place), 1 to the largest key; anything else is None."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 1 <= number <= LARGEST_ID else None


def utcnow() -> datetime:
    return datetime.now(UTC)


def one_of(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    """A CHECK constraint keeping `column` inside a fixed set of states."""
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=name)


DEFAULT_BUSY_TIMEOUT = 5.0  # seconds a writer waits for SQLite's lock (TRACKER_SQLITE_BUSY_TIMEOUT)
_BUSY_TIMEOUT: "weakref.WeakKeyDictionary[Engine, float]" = weakref.WeakKeyDictionary()


def attach_sqlite(engine: Engine, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
    """What an SQLite engine of the app needs, attached by `create_app` to the app's own
    engine: pragmas on each new connection, BEGIN IMMEDIATE for requests that may write,
    and writers taking turns, each waiting at most `busy_timeout` seconds."""
    if engine.dialect.name != "sqlite" or engine in _BUSY_TIMEOUT:
        return
    _BUSY_TIMEOUT[engine] = busy_timeout
    waited = int(busy_timeout * 1000)

    def pragmas(dbapi_connection, _record):
        """Foreign keys on, WAL for concurrent readers, and wait rather than fail when busy."""
        if isinstance(dbapi_connection, sqlite3.Connection):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={waited}")
            cursor.close()

    event.listen(engine, "connect", pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    event.listen(engine, "commit", _end_write_turn)
    event.listen(engine, "rollback", _end_write_turn)


def _busy_timeout(connection) -> float:
    return _BUSY_TIMEOUT.get(connection.engine, DEFAULT_BUSY_TIMEOUT)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
    deadline = time.monotonic() + _busy_timeout(connection)  # as SQLite's busy_timeout
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                break  # SQLite's busy timeout decides from here
            time.sleep(0.001)
    connection.info["write_turn"] = handle


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


def disk_full(error: BaseException) -> bool:
    """Whether a database error is the server's disk being full (SQLite's SQLITE_FULL,
    PostgreSQL's disk_full), however it was wrapped."""
    seen = error
    while seen is not None:
        text = str(seen).lower()
        if "database or disk is full" in text or "no space left on device" in text:
            return True
        if getattr(seen, "sqlstate", None) == "53100":
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


def free_wal(engine: Engine) -> None:
    """After a full disk, give back what SQLite's write-ahead log holds (a checkpoint that
    truncates it), so the database works again once space is freed. Best effort."""
    if engine.dialect.name != "sqlite":
        return
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    except sa.exc.DBAPIError:
        pass
