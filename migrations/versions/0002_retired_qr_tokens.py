"""retired qr tokens

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():

    op.create_table(
        "retired_qr_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_retired_qr_tokens_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["retired_by_id"], ["users.id"], name=op.f("fk_retired_qr_tokens_retired_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retired_qr_tokens")),
        sa.UniqueConstraint("token", name=op.f("uq_retired_qr_tokens_token")),
    )
    with op.batch_alter_table("retired_qr_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_retired_qr_tokens_device_id"), ["device_id"], unique=False
        )


def downgrade():

    with op.batch_alter_table("retired_qr_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retired_qr_tokens_device_id"))

    op.drop_table("retired_qr_tokens")
