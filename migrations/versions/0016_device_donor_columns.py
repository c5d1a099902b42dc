"""devices: the columns a donor's packing list carries beside the serial

A second IMEI (unique, like the first), the brand, the donor's own inventory number, the
day the donor delivered the tablet and the end of its warranty.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


# Plain ALTER TABLE ... ADD COLUMN, which SQLite does in place: a batch operation would
# copy the devices table, and SQLite refuses to drop it while device events point at it.


def upgrade():
    op.add_column("devices", sa.Column("imei2", sa.String(length=15), nullable=True))
    op.add_column(
        "devices", sa.Column("brand", sa.String(length=60), server_default="", nullable=False)
    )
    op.add_column(
        "devices",
        sa.Column("donor_ref", sa.String(length=64), server_default="", nullable=False),
    )
    op.add_column("devices", sa.Column("donor_delivered_on", sa.Date(), nullable=True))
    op.add_column("devices", sa.Column("warranty_until", sa.Date(), nullable=True))
    op.create_index("ix_devices_imei2", "devices", ["imei2"], unique=True)


def downgrade():
    op.drop_index("ix_devices_imei2", table_name="devices")
    for column in ("warranty_until", "donor_delivered_on", "donor_ref", "brand", "imei2"):
        op.drop_column("devices", column)
