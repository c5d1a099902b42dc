"""schools: an index on the commune, so the plan form offers the communes of the list

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_schools_commune"), ["commune"], unique=False)


def downgrade():
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schools_commune"))
