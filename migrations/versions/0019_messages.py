"""the outbox (messages, their attempts, who turned which off), the school's e-mail and
language for its messages, and the school's delivery code (its hash) and how each
hand-over was confirmed

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02

"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

DUE = "state IN ('queued', 'sending')"


def upgrade():
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("recipient", sa.String(255), nullable=False),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_outbox_messages_user_id_users", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attachment", sa.String(40), nullable=False),
        sa.Column("attachment_ref", sa.Integer(), nullable=True),
        sa.Column("sealed", sa.String(200), server_default="", nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=False),
        sa.CheckConstraint("channel IN ('email', 'sms')", name=op.f("ck_outbox_messages_channel")),
        sa.CheckConstraint(
            "state IN ('queued', 'sending', 'sent', 'failed')",
            name=op.f("ck_outbox_messages_state"),
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_messages"),
    )
    op.create_index("ix_outbox_messages_created_at", "outbox_messages", ["created_at"])
    op.create_index(
        "ix_outbox_messages_due",
        "outbox_messages",
        ["next_attempt_at"],
        sqlite_where=sa.text(DUE),
        postgresql_where=sa.text(DUE),
    )
    op.create_table(
        "message_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "message_id",
            sa.Integer(),
            sa.ForeignKey(
                "outbox_messages.id",
                name="fk_message_attempts_message_id_outbox_messages",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_message_attempts"),
    )
    op.create_index("ix_message_attempts_message_id", "message_attempts", ["message_id"])
    op.create_table(
        "message_opt_outs",
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_message_opt_outs_user_id_users", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "kind", name="pk_message_opt_outs"),
    )
    with op.batch_alter_table("schools") as batch:
        batch.add_column(
            sa.Column("contact_email", sa.String(254), server_default="", nullable=False)
        )
        batch.add_column(
            sa.Column("contact_language", sa.String(5), server_default="fr", nullable=False)
        )
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("code_hash", sa.String(64), server_default="", nullable=False))
        batch.add_column(sa.Column("code_salt", sa.String(32), server_default="", nullable=False))
        batch.add_column(sa.Column("code_expires_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("code_tries", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(
            sa.Column("handover_confirmation", sa.String(10), server_default="", nullable=False)
        )
        batch.add_column(
            sa.Column("no_code_reason", sa.String(300), server_default="", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("deliveries") as batch:
        for column in (
            "no_code_reason",
            "handover_confirmation",
            "code_tries",
            "code_expires_on",
            "code_salt",
            "code_hash",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("schools") as batch:
        batch.drop_column("contact_language")
        batch.drop_column("contact_email")
    op.drop_table("message_opt_outs")
    op.drop_index("ix_message_attempts_message_id", table_name="message_attempts")
    op.drop_table("message_attempts")
    op.drop_index("ix_outbox_messages_due", table_name="outbox_messages")
    op.drop_index("ix_outbox_messages_created_at", table_name="outbox_messages")
    op.drop_table("outbox_messages")
