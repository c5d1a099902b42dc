"""a count can cover a depot: its stock's list, one line per tablet

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06

"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

SCOPES_BEFORE = "scope IN ('school', 'province', 'region', 'programme')"
SCOPES_AFTER = "scope IN ('school', 'province', 'region', 'programme', 'depot')"


def _scopes(old: str, new: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_counts_scope"), "counts", type_="check")
        op.create_check_constraint(op.f("ck_counts_scope"), "counts", new)
        return
    # The table's CREATE text edited in place, as 0030 and 0031 do.
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    bind.execute(
        sa.text(
            "UPDATE sqlite_master SET sql = replace(sql, :old, :new) "
            "WHERE type = 'table' AND name = 'counts'"
        ),
        {"old": old, "new": new},
    )
    bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def upgrade() -> None:
    _scopes(SCOPES_BEFORE, SCOPES_AFTER)
    op.create_table(
        "count_stock_lines",
        sa.Column("count_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("found_by_id", sa.Integer(), nullable=True),
        sa.Column("condition", sa.String(20), nullable=True),
        sa.CheckConstraint(
            "status IN ('expected', 'found', 'missing', 'unexpected')",
            name=op.f("ck_count_stock_lines_status"),
        ),
        sa.ForeignKeyConstraint(
            ["count_id"], ["counts.id"], name=op.f("fk_count_stock_lines_count_id_counts")
        ),
        sa.ForeignKeyConstraint(
            ["found_by_id"], ["users.id"], name=op.f("fk_count_stock_lines_found_by_id_users")
        ),
        sa.PrimaryKeyConstraint("count_id", "device_id", name=op.f("pk_count_stock_lines")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("count_stock_lines")
    op.execute(
        "DELETE FROM sync_actions WHERE count_id IN (SELECT id FROM counts WHERE scope = 'depot')"
    )
    op.execute("DELETE FROM counts WHERE scope = 'depot'")
    _scopes(SCOPES_AFTER, SCOPES_BEFORE)
