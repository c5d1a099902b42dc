"""import batch state

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():

    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=20), server_default="done", nullable=False)
        )
        batch_op.add_column(sa.Column("failure", sa.Text(), server_default="", nullable=False))
        batch_op.create_check_constraint(
            op.f("ck_import_batches_state"), "state IN ('running', 'done', 'failed')"
        )


def downgrade():

    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_import_batches_state"), type_="check")
        batch_op.drop_column("failure")
        batch_op.drop_column("state")
