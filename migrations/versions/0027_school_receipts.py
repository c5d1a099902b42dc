"""the school signs for what it receives: its phones' public keys, its own receipt of each
delivery (from its account or signed by one of its phones), and what it said of each tablet

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06

"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

ALERTS_BEFORE = (
    "'overdue', 'unconfirmed', 'wrong_school', 'two_schools', 'faulty_lost', "
    "'plans_waiting', 'unseen', 'loans_overdue', 'warranty_ending', 'repairs_open', "
    "'not_confirmed'"
)
ALERTS_AFTER = ALERTS_BEFORE + ", 'receipt_differs', 'receipt_missing'"
ACTIONS_BEFORE = "'scan', 'handover', 'report', 'count_scan'"
ACTIONS_AFTER = ACTIONS_BEFORE + ", 'receipt'"


def _checks(alerts: str, actions: str) -> None:
    with op.batch_alter_table("alert_notes", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_alert_notes_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_alert_notes_kind"), f"kind IN ({alerts})")
    with op.batch_alter_table("sync_actions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sync_actions_type"), type_="check")
        batch_op.create_check_constraint(op.f("ck_sync_actions_type"), f"type IN ({actions})")


def upgrade():
    _checks(ALERTS_AFTER, ACTIONS_AFTER)
    op.create_table(
        "phone_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=200), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"], ["users.id"], name=op.f("fk_phone_keys_revoked_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_phone_keys_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_keys")),
        sa.UniqueConstraint("public_key", name=op.f("uq_phone_keys_public_key")),
    )
    op.create_index(op.f("ix_phone_keys_user_id"), "phone_keys", ["user_id"])
    op.create_table(
        "school_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("proof", sa.String(length=10), nullable=False),
        sa.Column("phone_key_id", sa.Integer(), nullable=True),
        sa.Column("signed_text", sa.String(length=600), server_default="", nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("brought_by_id", sa.Integer(), nullable=True),
        sa.Column("extras", sa.JSON(), nullable=False),
        sa.Column("notes", sa.String(length=500), server_default="", nullable=False),
        sa.Column("matched", sa.String(length=10), server_default="", nullable=False),
        sa.CheckConstraint(
            "matched IN ('', 'agrees', 'differs')", name=op.f("ck_school_receipts_matched")
        ),
        sa.CheckConstraint(
            "proof <> 'signed' OR (phone_key_id IS NOT NULL AND signed_text <> '')",
            name=op.f("ck_school_receipts_signed_has_key"),
        ),
        sa.CheckConstraint("proof IN ('account', 'signed')", name=op.f("ck_school_receipts_proof")),
        sa.ForeignKeyConstraint(
            ["brought_by_id"], ["users.id"], name=op.f("fk_school_receipts_brought_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_school_receipts_delivery_id_deliveries"),
        ),
        sa.ForeignKeyConstraint(
            ["phone_key_id"],
            ["phone_keys.id"],
            name=op.f("fk_school_receipts_phone_key_id_phone_keys"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_school_receipts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_receipts")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_school_receipts_delivery_id")),
    )
    op.add_column(
        "deliveries",
        sa.Column("receipt_refused", sa.String(length=20), server_default="", nullable=False),
    )
    with op.batch_alter_table("delivery_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("school_said", sa.String(length=10), server_default="", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_delivery_items_school_said"),
            "school_said IN ('', 'received', 'damaged', 'missing')",
        )
    # The dashboard's share of tablets whose receipt the school confirmed reads these alone.
    confirmed = sa.text(
        "delivery_items.status = 'delivered' "
        "AND delivery_items.school_said IN ('received', 'damaged')"
    )
    op.create_index(
        "ix_delivery_items_school_confirmed",
        "delivery_items",
        ["delivery_id"],
        sqlite_where=confirmed,
        postgresql_where=confirmed,
    )


def downgrade():
    op.drop_index("ix_delivery_items_school_confirmed", table_name="delivery_items")
    with op.batch_alter_table("delivery_items", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_delivery_items_school_said"), type_="check")
        batch_op.drop_column("school_said")
    op.drop_table("school_receipts")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("receipt_refused")
    op.drop_index(op.f("ix_phone_keys_user_id"), table_name="phone_keys")
    op.drop_table("phone_keys")
    op.execute("DELETE FROM sync_actions WHERE type = 'receipt'")
    op.execute("DELETE FROM alert_notes WHERE kind IN ('receipt_differs', 'receipt_missing')")
    _checks(ALERTS_BEFORE, ACTIONS_BEFORE)
