"""import batch counts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():

    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rows_new", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("rows_updated", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("rows_unchanged", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("header_row", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("problem_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("unknown_columns", sa.JSON(), server_default="[]", nullable=False)
        )


def downgrade():

    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_column("unknown_columns")
        batch_op.drop_column("problem_count")
        batch_op.drop_column("header_row")
        batch_op.drop_column("rows_unchanged")
        batch_op.drop_column("rows_updated")
        batch_op.drop_column("rows_new")
