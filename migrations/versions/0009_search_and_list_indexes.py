"""indexes for the code box's first characters (PostgreSQL) and the delivery list's order

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# LIKE 'prefix%' cannot use an index that follows the database's collation; one built with
# varchar_pattern_ops it can. SQLite's code box uses GLOB on its existing indexes instead.
PREFIX_INDEXES = {"ix_devices_serial_prefix": "serial", "ix_devices_imei_prefix": "imei"}


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name, column in PREFIX_INDEXES.items():
            op.create_index(
                name, "devices", [column], postgresql_ops={column: "varchar_pattern_ops"}
            )
        op.create_index(
            "ix_deliveries_planned_order",
            "deliveries",
            [sa.text("planned_on DESC NULLS LAST"), sa.text("id DESC")],
        )
    else:
        op.create_index("ix_deliveries_planned_on_id", "deliveries", ["planned_on", "id"])


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_deliveries_planned_order", table_name="deliveries")
        for name in PREFIX_INDEXES:
            op.drop_index(name, table_name="devices")
    else:
        op.drop_index("ix_deliveries_planned_on_id", table_name="deliveries")
