"""devices: indexes for the first characters of a serial or IMEI, on PostgreSQL

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

"""

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


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in PREFIX_INDEXES:
            op.drop_index(name, table_name="devices")
