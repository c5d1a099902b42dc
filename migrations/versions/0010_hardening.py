"""hardening: offline action ids unique per user, ended sign-ins, known browsers' failures,
the time a hand-over reached the server; plan events for fulfilment

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


PLAN_ACTIONS_BEFORE = (
    "action IN ('created', 'proposed', 'edited', 'submitted', 'sent_back', 'approved', "
    "'quantity_changed', 'cancelled', 'closed')"
)
PLAN_ACTIONS_AFTER = (
    "action IN ('created', 'proposed', 'edited', 'submitted', 'sent_back', 'approved', "
    "'quantity_changed', 'partially_fulfilled', 'fulfilled', 'cancelled', 'closed')"
)


def upgrade():
    with op.batch_alter_table("plan_events", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_plan_events_action"), type_="check")
        batch_op.create_check_constraint(op.f("ck_plan_events_action"), PLAN_ACTIONS_AFTER)

    with op.batch_alter_table("sync_actions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_sync_actions_client_id", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_sync_actions_user_id_client_id"), ["user_id", "client_id"]
        )

    op.create_table(
        "ended_sessions",
        sa.Column("key", sa.String(length=43), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ended_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_ended_sessions")),
    )
    with op.batch_alter_table("ended_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ended_sessions_ended_at"), ["ended_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_ended_sessions_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device", sa.String(length=43), nullable=True))
        batch_op.create_index(batch_op.f("ix_login_failures_device"), ["device"], unique=False)

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("handover_recorded_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("plan_events", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_plan_events_action"), type_="check")
        batch_op.create_check_constraint(op.f("ck_plan_events_action"), PLAN_ACTIONS_BEFORE)
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("handover_recorded_at")
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failures_device"))
        batch_op.drop_column("device")
    with op.batch_alter_table("ended_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ended_sessions_user_id"))
        batch_op.drop_index(batch_op.f("ix_ended_sessions_ended_at"))
    op.drop_table("ended_sessions")
    with op.batch_alter_table("sync_actions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_sync_actions_user_id_client_id", type_="unique")
        batch_op.create_unique_constraint("uq_sync_actions_client_id", ["client_id"])
