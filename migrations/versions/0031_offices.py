"""many offices: each person's areas (regions, provinces), depots, and today's stock in a
central warehouse

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06

"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

CENTRAL = "CENTRAL"
TYPES_BEFORE = "'transferred_out', 'opening')"
TYPES_AFTER = "'transferred_out', 'opening', 'sent_to_depot', 'received_at_depot')"
EVENT_TYPES = [
    "registered", "tagged", "label_replaced", "reserved", "released", "packed",
    "unpacked", "dispatched", "recalled", "scanned", "delivered", "returned",
    "restocked", "reported_faulty", "repaired", "reported_lost", "found", "edited",
    "corrected_delivered", "corrected_refused", "lent", "loan_returned", "counted",
    "back_from_repair", "replacement_for", "replaced_by", "transferred_out", "opening",
]  # fmt: skip
MOVE_STATUSES = "status IN ('packing', 'on_the_way', 'received', 'cancelled')"


def _event_types(old: str, new: str, values: list[str]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _edit_sqlite_table("device_events", old, new)
    else:
        allowed = ", ".join(f"'{value}'" for value in values)
        op.drop_constraint(op.f("ck_device_events_type"), "device_events", type_="check")
        op.create_check_constraint(
            op.f("ck_device_events_type"), "device_events", f"type IN ({allowed})"
        )


def _edit_sqlite_table(table: str, old: str, new: str) -> None:
    """Edit a SQLite table's CREATE text in place, as 0030 does."""
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


def upgrade() -> None:
    _event_types(TYPES_BEFORE, TYPES_AFTER, [*EVENT_TYPES, "sent_to_depot", "received_at_depot"])
    # Existing people keep the whole programme: no areas.
    op.add_column("users", sa.Column("areas", sa.JSON(), nullable=False, server_default="[]"))
    op.create_table(
        "depots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(30), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("region", sa.String(100), nullable=False, server_default=""),
        sa.Column("province", sa.String(100), nullable=False, server_default=""),
        sa.Column("address", sa.String(300), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("code", name=op.f("uq_depots_code")),
    )
    op.create_index(op.f("ix_depots_region"), "depots", ["region", "province"])
    # Added, not rebuilt (as 0030 does): a table of a million tablets keeps its CHECKs.
    for table, column in (
        ("devices", "depot_id"),
        ("deliveries", "from_depot_id"),
        ("allocation_plans", "depot_id"),
    ):
        name = op.f(f"fk_{table}_{column}_depots")
        if op.get_bind().dialect.name == "sqlite":
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN {column} INTEGER "
                f"CONSTRAINT {name} REFERENCES depots (id)"
            )
        else:
            op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
            op.create_foreign_key(name, table, "depots", [column], ["id"])
    op.create_index(op.f("ix_devices_depot_id"), "devices", ["depot_id", "school_id", "status"])
    # An office's schools' tablets of one state, counted from the index alone.
    op.drop_index("ix_devices_school_id_asset_tag", table_name="devices")
    op.create_index("ix_devices_school_id_status", "devices", ["school_id", "status", "asset_tag"])
    op.create_table(
        "depot_moves",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("from_depot_id", sa.Integer(), nullable=False),
        sa.Column("to_depot_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatched_by_id", sa.Integer(), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_by_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(MOVE_STATUSES, name=op.f("ck_depot_moves_status")),
        sa.CheckConstraint("from_depot_id <> to_depot_id", name=op.f("ck_depot_moves_two_depots")),
        sa.ForeignKeyConstraint(["from_depot_id"], ["depots.id"], name=op.f("fk_depot_moves_from_depot_id_depots")),
        sa.ForeignKeyConstraint(["to_depot_id"], ["depots.id"], name=op.f("fk_depot_moves_to_depot_id_depots")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_depot_moves_created_by_id_users")),
        sa.ForeignKeyConstraint(["dispatched_by_id"], ["users.id"], name=op.f("fk_depot_moves_dispatched_by_id_users")),
        sa.ForeignKeyConstraint(["received_by_id"], ["users.id"], name=op.f("fk_depot_moves_received_by_id_users")),
    )  # fmt: skip
    op.create_index(op.f("ix_depot_moves_status"), "depot_moves", ["status"])
    op.create_table(
        "depot_move_items",
        sa.Column("move_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("packed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["move_id"], ["depot_moves.id"], name=op.f("fk_depot_move_items_move_id_depot_moves")),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_depot_move_items_device_id_devices")),
        sa.PrimaryKeyConstraint("move_id", "device_id", name=op.f("pk_depot_move_items")),
    )  # fmt: skip
    op.create_index(op.f("ix_depot_move_items_device_id"), "depot_move_items", ["device_id"])
    # Today's stock is in one place: the central warehouse holds every tablet registered.
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "INSERT INTO depots (code, name, region, province, address, created_at) "
            "VALUES (:code, :name, '', '', '', CURRENT_TIMESTAMP)"
        ),
        {"code": CENTRAL, "name": "Central warehouse"},
    )
    central = bind.execute(sa.text("SELECT id FROM depots WHERE code = :code"), {"code": CENTRAL})
    central_id = central.scalar_one()
    bind.execute(sa.text("UPDATE devices SET depot_id = :id"), {"id": central_id})
    bind.execute(sa.text("UPDATE deliveries SET from_depot_id = :id"), {"id": central_id})
    bind.execute(sa.text("UPDATE allocation_plans SET depot_id = :id"), {"id": central_id})


def downgrade() -> None:
    op.drop_index("ix_devices_school_id_status", table_name="devices")
    op.create_index("ix_devices_school_id_asset_tag", "devices", ["school_id", "asset_tag"])
    op.drop_index(op.f("ix_depot_move_items_device_id"), "depot_move_items")
    op.drop_table("depot_move_items")
    op.drop_index(op.f("ix_depot_moves_status"), "depot_moves")
    op.drop_table("depot_moves")
    moved = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT count(*) FROM device_events "
                "WHERE type IN ('sent_to_depot', 'received_at_depot')"
            )
        )
        .scalar()
    )
    if moved:
        # The history is append-only: its moves between depots cannot be taken back.
        raise RuntimeError(
            f"{moved} history lines record moves between depots: "
            "restore a backup taken before them instead."
        )
    _event_types(TYPES_AFTER, TYPES_BEFORE, EVENT_TYPES)
    op.drop_index(op.f("ix_devices_depot_id"), "devices")
    for table, column in (
        ("allocation_plans", "depot_id"),
        ("deliveries", "from_depot_id"),
        ("devices", "depot_id"),
    ):
        name = op.f(f"fk_{table}_{column}_depots")
        if op.get_bind().dialect.name == "sqlite":
            # A column in a foreign key cannot be dropped: its constraint's text goes first.
            _edit_sqlite_table(table, f" CONSTRAINT {name} REFERENCES depots (id)", "")
        else:
            op.drop_constraint(name, table, type_="foreignkey")
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.drop_index(op.f("ix_depots_region"), "depots")
    op.drop_table("depots")
    op.execute("ALTER TABLE users DROP COLUMN areas")
