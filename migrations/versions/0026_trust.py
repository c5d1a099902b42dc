"""the record deserves its trust: the school's code sealed with the server's key (no hash
sent anywhere) and each code sent recorded with who and why

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06

"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

ALERTS_BEFORE = (
    "'overdue', 'unconfirmed', 'wrong_school', 'two_schools', 'faulty_lost', "
    "'plans_waiting', 'unseen', 'loans_overdue', 'warranty_ending', 'repairs_open'"
)
ALERTS_AFTER = ALERTS_BEFORE + ", 'not_confirmed'"


def _alert_kinds(allowed: str) -> None:
    with op.batch_alter_table("alert_notes", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_alert_notes_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_alert_notes_kind"), f"kind IN ({allowed})")


def upgrade():
    _alert_kinds(ALERTS_AFTER)
    # Codes already sent keep their hash (checked on the server, never sent again).
    op.add_column(
        "deliveries",
        sa.Column("code_sealed", sa.String(length=100), server_default="", nullable=False),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.alter_column(
            "handover_confirmation",
            type_=sa.String(length=20),
            existing_type=sa.String(length=10),
            existing_nullable=False,
            existing_server_default="",
        )
    op.create_table(
        "delivery_code_sendings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=300), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_delivery_code_sendings_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"], ["users.id"], name=op.f("fk_delivery_code_sendings_sent_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_code_sendings")),
    )
    op.create_index(
        op.f("ix_delivery_code_sendings_delivery_id"), "delivery_code_sendings", ["delivery_id"]
    )

    with op.batch_alter_table("count_extras", schema=None) as batch_op:
        batch_op.add_column(sa.Column("condition", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("accepted_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_count_extras_accepted_by_id_users"), "users", ["accepted_by_id"], ["id"]
        )

    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_to_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_transfers_assigned_to_id_users"), "users", ["assigned_to_id"], ["id"]
        )
    # A transfer already on its way is its delivery's agent's.
    op.execute(
        "UPDATE transfers SET assigned_to_id = (SELECT assigned_to_id FROM deliveries "
        "WHERE deliveries.id = transfers.delivery_id) WHERE delivery_id IS NOT NULL"
    )

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("taken_back", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("taken_back")
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_transfers_assigned_to_id_users"), type_="foreignkey")
        batch_op.drop_column("assigned_to_id")
    with op.batch_alter_table("count_extras", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_count_extras_accepted_by_id_users"), type_="foreignkey")
        batch_op.drop_column("accepted_by_id")
        batch_op.drop_column("accepted_at")
        batch_op.drop_column("condition")
    op.execute("DELETE FROM alert_notes WHERE kind = 'not_confirmed'")
    _alert_kinds(ALERTS_BEFORE)
    op.drop_index(
        op.f("ix_delivery_code_sendings_delivery_id"), table_name="delivery_code_sendings"
    )
    op.drop_table("delivery_code_sendings")
    op.execute(
        "UPDATE deliveries SET handover_confirmation = 'code' "
        "WHERE handover_confirmation = 'code_offline'"
    )
    op.execute(
        "UPDATE deliveries SET handover_confirmation = 'no_code' "
        "WHERE handover_confirmation = 'code_wrong'"
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.alter_column(
            "handover_confirmation",
            type_=sa.String(length=10),
            existing_type=sa.String(length=20),
            existing_nullable=False,
            existing_server_default="",
        )
        batch_op.drop_column("code_sealed")
