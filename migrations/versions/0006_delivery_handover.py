"""delivery hand-over: who confirmed it and how, failures, unexpected scans, packing times;
a device on at most one delivery that is still under way

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status IN ('expected', 'packed', 'scanned')")
ITEM_STATUSES_BEFORE = (
    "status IN ('expected', 'packed', 'scanned', 'delivered', 'missing', 'damaged', 'refused')"
)
ITEM_STATUSES_AFTER = "status IN ('expected', 'packed', 'scanned', 'delivered', 'missing', 'damaged', 'refused', 'removed')"


def upgrade():
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("location_accuracy", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("delivered_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("handover_via", sa.String(length=20), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("failure_reason", sa.String(length=300), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("unexpected", sa.JSON(), server_default="[]", nullable=False))
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_delivered_by_id_users"), "users", ["delivered_by_id"], ["id"]
        )
        batch_op.create_check_constraint(
            op.f("ck_deliveries_handover_via"), "handover_via IN ('', 'screen', 'manifest')"
        )
        batch_op.create_check_constraint(
            op.f("ck_deliveries_handed_over_has_time"),
            "status NOT IN ('delivered', 'partially_delivered') OR delivered_at IS NOT NULL",
        )

    with op.batch_alter_table("delivery_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("packed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f("ck_delivery_items_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_delivery_items_status"), ITEM_STATUSES_AFTER)
        batch_op.create_index(
            "uq_delivery_items_active_device",
            ["device_id"],
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        )


def downgrade():
    with op.batch_alter_table("delivery_items", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_delivery_items_active_device", sqlite_where=ACTIVE, postgresql_where=ACTIVE
        )
        batch_op.drop_constraint(op.f("ck_delivery_items_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_delivery_items_status"), ITEM_STATUSES_BEFORE)
        batch_op.drop_column("packed_at")

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_deliveries_handed_over_has_time"), type_="check")
        batch_op.drop_constraint(op.f("ck_deliveries_handover_via"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_deliveries_delivered_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("unexpected")
        batch_op.drop_column("failure_reason")
        batch_op.drop_column("handover_via")
        batch_op.drop_column("delivered_by_id")
        batch_op.drop_column("location_accuracy")
