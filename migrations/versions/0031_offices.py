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
        sa.Column("created_at", sa.DateTime(), nullable=False),
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
    op.create_index(op.f("ix_devices_depot_id"), "devices", ["depot_id"])
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
