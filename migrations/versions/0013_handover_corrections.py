"""hand-over corrections: two device events for a confirmed hand-over the office corrects

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BEFORE = (
    "'registered', 'tagged', 'label_replaced', 'reserved', 'released', 'packed', 'unpacked', "
    "'dispatched', 'recalled', 'scanned', 'delivered', 'returned', 'restocked', "
    "'reported_faulty', 'repaired', 'reported_lost', 'found', 'edited'"
)
AFTER = BEFORE + ", 'corrected_delivered', 'corrected_refused'"


def _types(allowed: str) -> None:
    with op.batch_alter_table("device_events", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_device_events_type"), type_="check")
        batch_op.create_check_constraint(op.f("ck_device_events_type"), f"type IN ({allowed})")


def upgrade():
    _types(AFTER)


def downgrade():
    _types(BEFORE)
