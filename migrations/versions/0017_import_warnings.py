"""import_batches: the preview's warnings and the options chosen at the commit

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02

"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "import_batches", sa.Column("warnings", sa.JSON(), server_default="[]", nullable=False)
    )
    op.add_column(
        "import_batches", sa.Column("options", sa.JSON(), server_default="{}", nullable=False)
    )


def downgrade():
    op.drop_column("import_batches", "options")
    op.drop_column("import_batches", "warnings")
