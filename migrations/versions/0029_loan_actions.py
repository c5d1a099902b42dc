"""loans through the API: a school's desk on a phone queues lending, taking back and
signing as sync actions, each answered once like the others

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06

"""

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

BEFORE = "'scan', 'handover', 'report', 'count_scan', 'receipt'"
AFTER = BEFORE + ", 'lend', 'take_back', 'sign_loan'"


def _types(types: str) -> None:
    with op.batch_alter_table("sync_actions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sync_actions_type"), type_="check")
        batch_op.create_check_constraint(op.f("ck_sync_actions_type"), f"type IN ({types})")


def upgrade():
    _types(AFTER)


def downgrade():
    op.execute("DELETE FROM sync_actions WHERE type IN ('lend', 'take_back', 'sign_loan')")
    _types(BEFORE)
