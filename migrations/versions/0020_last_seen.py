"""devices: when each tablet was last in someone's hands (backfilled from its history),
and the alert for delivered tablets nobody has seen for long

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02

"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

SIGHTING_TYPES = [
    "registered",
    "tagged",
    "label_replaced",
    "packed",
    "scanned",
    "delivered",
    "returned",
    "restocked",
    "repaired",
    "found",
    "corrected_delivered",
]
KINDS_BEFORE = (
    "'overdue', 'unconfirmed', 'wrong_school', 'two_schools', 'faulty_lost', 'plans_waiting'"
)
KINDS_AFTER = KINDS_BEFORE + ", 'unseen'"


def _alert_kinds(allowed: str) -> None:
    with op.batch_alter_table("alert_notes", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_alert_notes_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_alert_notes_kind"), f"kind IN ({allowed})")


def upgrade():
    op.add_column("devices", sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_devices_status_last_seen_at", "devices", ["status", "last_seen_at"])
    devices = sa.table("devices", sa.column("id"), sa.column("last_seen_at"))
    events = sa.table(
        "device_events", sa.column("device_id"), sa.column("type"), sa.column("occurred_at")
    )
    latest = (
        sa.select(sa.func.max(events.c.occurred_at))
        .where(events.c.device_id == devices.c.id, events.c.type.in_(SIGHTING_TYPES))
        .scalar_subquery()
    )
    op.execute(devices.update().values(last_seen_at=latest))
    _alert_kinds(KINDS_AFTER)


def downgrade():
    _alert_kinds(KINDS_BEFORE)
    op.drop_index("ix_devices_status_last_seen_at", table_name="devices")
    op.drop_column("devices", "last_seen_at")
