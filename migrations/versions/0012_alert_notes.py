"""alert notes: an alert acknowledged or resolved, by whom, with a note

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

KINDS = "kind IN ('overdue', 'unconfirmed', 'wrong_school', 'two_schools', 'faulty_lost', 'plans_waiting')"


def upgrade():
    op.create_table(
        "alert_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('acknowledged', 'resolved')", name=op.f("ck_alert_notes_state")
        ),
        sa.CheckConstraint(KINDS, name=op.f("ck_alert_notes_kind")),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_alert_notes_actor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_notes")),
        sa.UniqueConstraint("kind", "subject", name=op.f("uq_alert_notes_kind_subject")),
    )


def downgrade():
    op.drop_table("alert_notes")
