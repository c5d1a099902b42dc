"""moving in: serials kept as written and compared by a key (no spaces, upper case); a
school's cycle and setting, counts that target them; an opening balance's event and its
places on the import batch; the columns a user mapped, remembered by header row

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06

"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

TYPES_BEFORE = "'replaced_by', 'transferred_out')"
TYPES_AFTER = "'replaced_by', 'transferred_out', 'opening')"
EVENT_TYPES = [
    "registered", "tagged", "label_replaced", "reserved", "released", "packed",
    "unpacked", "dispatched", "recalled", "scanned", "delivered", "returned",
    "restocked", "reported_faulty", "repaired", "reported_lost", "found", "edited",
    "corrected_delivered", "corrected_refused", "lent", "loan_returned", "counted",
    "back_from_repair", "replacement_for", "replaced_by", "transferred_out",
]  # fmt: skip


SCHOOL_CHECKS = (
    ("ck_schools_cycle", "cycle IN ('', 'primary', 'middle', 'secondary')"),
    ("ck_schools_milieu", "milieu IN ('', 'urban', 'rural')"),
)
SCHOOL_CHECKS_SQL = "".join(f", CONSTRAINT {name} CHECK ({rule})" for name, rule in SCHOOL_CHECKS)


def _edit_sqlite_table(table: str, old: str, new: str) -> None:
    """Edit a SQLite table's CREATE text in place, as in 0022 and 0025: a CHECK's text is
    not in the rows, and rebuilding a table of a million tablets (or one every other table
    points to) is what this avoids."""
    bind = op.get_bind()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    bind.execute(
        sa.text(
            "UPDATE sqlite_master SET sql = replace(sql, :old, :new) "
            "WHERE type = 'table' AND name = :table"
        ),
        {"old": old, "new": new, "table": table},
    )
    bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def _event_types(old: str, new: str, values: list[str]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _edit_sqlite_table("device_events", old, new)
    else:
        allowed = ", ".join(f"'{value}'" for value in values)
        op.drop_constraint(op.f("ck_device_events_type"), "device_events", type_="check")
        op.create_check_constraint(
            op.f("ck_device_events_type"), "device_events", f"type IN ({allowed})"
        )


def upgrade():
    _event_types(TYPES_BEFORE, TYPES_AFTER, [*EVENT_TYPES, "opening"])
    # Every serial stored so far was upper-cased without spaces: its key is itself.
    op.add_column(
        "devices", sa.Column("serial_key", sa.String(length=64), server_default="", nullable=False)
    )
    op.execute("UPDATE devices SET serial_key = serial")
    op.create_index(op.f("uq_devices_serial_key"), "devices", ["serial_key"], unique=True)
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_devices_serial_key_prefix",
            "devices",
            ["serial_key"],
            postgresql_ops={"serial_key": "varchar_pattern_ops"},
        )
    op.add_column(
        "schools", sa.Column("cycle", sa.String(length=12), server_default="", nullable=False)
    )
    op.add_column(
        "schools", sa.Column("milieu", sa.String(length=8), server_default="", nullable=False)
    )
    if op.get_bind().dialect.name == "sqlite":
        # The table's last constraint, with the new ones after it.
        _edit_sqlite_table(
            "schools",
            "CONSTRAINT ck_schools_need CHECK (need >= 0)",
            "CONSTRAINT ck_schools_need CHECK (need >= 0)" + SCHOOL_CHECKS_SQL,
        )
    else:
        for name, rule in SCHOOL_CHECKS:
            op.create_check_constraint(op.f(name), "schools", rule)
    for column in (
        sa.Column("cycle", sa.String(length=12), server_default="", nullable=False),
        sa.Column("milieu", sa.String(length=8), server_default="", nullable=False),
    ):
        op.add_column("counts", column)
    op.add_column(
        "import_batches", sa.Column("places", sa.JSON(), server_default="{}", nullable=False)
    )
    op.add_column(
        "import_batches",
        sa.Column("header_digest", sa.String(length=64), server_default="", nullable=False),
    )
    op.add_column(
        "import_batches", sa.Column("columns_read", sa.JSON(), server_default="{}", nullable=False)
    )
    op.create_table(
        "import_column_choices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("headers", sa.String(length=64), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("chosen_by_id", sa.Integer(), nullable=True),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chosen_by_id"],
            ["users.id"],
            name=op.f("fk_import_column_choices_chosen_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_column_choices")),
        sa.UniqueConstraint("kind", "headers", name=op.f("uq_import_column_choices_kind_headers")),
    )


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_table("import_column_choices")
    if sqlite:
        _edit_sqlite_table(
            "schools",
            "CONSTRAINT ck_schools_need CHECK (need >= 0)" + SCHOOL_CHECKS_SQL,
            "CONSTRAINT ck_schools_need CHECK (need >= 0)",
        )
    else:
        op.drop_index("ix_devices_serial_key_prefix", table_name="devices")
        for name, _rule in SCHOOL_CHECKS:
            op.drop_constraint(op.f(name), "schools", type_="check")
    op.drop_index(op.f("uq_devices_serial_key"), table_name="devices")
    # (ALTER TABLE ... DROP COLUMN: SQLite 3.35 and later, without rebuilding the table.)
    for table, column in (
        ("import_batches", "places"),
        ("import_batches", "header_digest"),
        ("import_batches", "columns_read"),
        ("counts", "milieu"),
        ("counts", "cycle"),
        ("schools", "milieu"),
        ("schools", "cycle"),
        ("devices", "serial_key"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    opened = (
        op.get_bind()
        .execute(sa.text("SELECT count(*) FROM device_events WHERE type = 'opening'"))
        .scalar()
    )
    if opened:
        # The history is append-only: its lines recorded at opening cannot be taken back.
        raise RuntimeError(
            f"{opened} tablets' histories begin with an opening balance: "
            "restore a backup taken before it instead."
        )
    _event_types(TYPES_AFTER, TYPES_BEFORE, EVENT_TYPES)
