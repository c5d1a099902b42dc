"""Helpers for what SQLite and PostgreSQL do differently: array parameters, prefix search
on an index, bulk inserts (COPY), the planner's statistics. They run on the app's session."""

import json
from operator import itemgetter

import sqlalchemy as sa

from tracker.extensions import db


def any_of(column, values: list):
    """`column IN values` for a long list of strings or integers (an import chunk:
    thousands of values), as one parameter rather than a placeholder per value.

    PostgreSQL gets one array (`= ANY(%s)`), which the driver would otherwise rewrite and
    the server plan again for every chunk; SQLite one JSON array read by `json_each`
    (`IN (SELECT value FROM json_each(?))`, an index probe per value as with a plain IN
    list, which SQLAlchemy spent a second of a 100,000-row import compiling).
    """
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == sa.any_(sa.bindparam(None, list(values), type_=ARRAY(column.type)))
    listed = sa.func.json_each(json.dumps(list(values))).table_valued("value")
    return column.in_(sa.select(listed.c.value))


def starts_with(column, prefix: str):
    """`column` begins with `prefix` (case-sensitive), in a form an index on it serves.

    `LIKE 'p%'` is case-insensitive on SQLite, which then cannot use the column's index
    (case-sensitive) and reads the whole table: part of a serial typed into the code box
    took 164 ms at 200,000 devices. GLOB is case-sensitive, as LIKE is on PostgreSQL, and
    walks the index. PostgreSQL walks the `*_prefix` index (varchar_pattern_ops): its
    ordinary index follows the database's collation, which LIKE cannot use.
    """
    if db.engine.dialect.name == "sqlite":
        pattern = "".join(f"[{char}]" if char in "*?[" else char for char in prefix)
        return column.op("GLOB")(pattern + "*")
    return column.startswith(prefix, autoescape=True)


def insert_rows(table: sa.Table, rows: list[dict], written: tuple[str, ...] = ()) -> None:
    """Write `rows` into `table` inside the session's transaction, the fastest way each
    database has: PostgreSQL's COPY; elsewhere one prepared INSERT run by the driver's
    executemany, each column's type conversion looked up once (the ORM's bulk insert spent
    as long again preparing 100,000 rows as SQLite spent writing them).

    Every row names the same columns, defaults included: neither way fills any in.
    `written` names JSON columns whose values are already their text (json.dumps).
    """
    if not rows:
        return
    db.session.flush()  # what the session holds goes first, as before any statement
    columns = list(rows[0])
    names = ", ".join(table.c[name].name for name in columns)
    connection = db.session.connection()
    if db.engine.dialect.name == "postgresql":
        cursor = connection.connection.dbapi_connection.cursor()
        documents = [
            name
            for name in columns
            if isinstance(table.c[name].type, sa.JSON) and name not in written
        ]
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as stream:  # noqa: S608
            for row in rows:
                if documents:  # (COPY takes a JSON document as its text)
                    row = {**row, **{name: json.dumps(row[name]) for name in documents}}
                stream.write_row([row[name] for name in columns])
        return
    dialect = db.engine.dialect
    if dialect.paramstyle != "qmark":  # not the SQLite driver: let SQLAlchemy bind them
        connection.execute(table.insert(), rows)
        return
    get = itemgetter(*columns)
    values = [list(get(row)) for row in rows] if len(columns) > 1 else [[get(r)] for r in rows]
    for index, name in enumerate(columns):
        process = table.c[name].type._cached_bind_processor(dialect)  # noqa: SLF001
        if process is None or name in written:
            continue
        # An import's rows share their timestamps and dates: each value converted once.
        done = {}
        for row in values:
            value = row[index]
            if value is None:
                continue
            try:
                row[index] = done[value]
            except KeyError:
                row[index] = done[value] = process(value)
            except TypeError:  # a value that cannot be a key (a JSON document)
                row[index] = process(value)
    marks = ", ".join("?" * len(columns))
    connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({names}) VALUES ({marks})",  # noqa: S608
        list(map(tuple, values)),
    )


def next_ids(table: sa.Table, count: int) -> list[int]:
    """Ids for `count` rows about to be inserted into `table` (its integer `id`), so that
    rows pointing to them need not read them back: PostgreSQL's sequence hands them out;
    SQLite, whose writer holds the database alone once it has written, takes those after
    the largest (the caller has written already in this transaction)."""
    if count <= 0:
        return []
    connection = db.session.connection()
    if db.engine.dialect.name == "postgresql":
        return list(
            connection.execute(
                sa.text(
                    "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                    "FROM generate_series(1, :count)"
                ),
                {"table": table.name, "count": count},
            ).scalars()
        )
    largest = connection.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0
    return list(range(largest + 1, largest + 1 + count))


def refresh_statistics(*tables: sa.Table) -> None:
    """PostgreSQL: read the planner's statistics of `tables` again, after a change in bulk.

    Until autovacuum gets to it (a minute or more later), the planner still believes the
    old figures: after a national plan reserved a million tablets, creating its deliveries
    chose, per school, a bitmap of every reserved tablet — minutes instead of a second.
    ANALYZE samples the tables (a fraction of a second at 1.5 M devices) inside this
    transaction. SQLite's planner needs no such figures for these queries.
    """
    if db.engine.dialect.name == "postgresql":
        db.session.flush()
        db.session.execute(sa.text("ANALYZE " + ", ".join(table.name for table in tables)))
