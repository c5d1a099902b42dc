"""users: the school role (head teachers, ICT teachers) scoped to their schools, and
one-time invitations to set a password

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02

"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

BEFORE = "role IN ('admin', 'coordinator', 'field', 'manager')"
AFTER = "role IN ('admin', 'coordinator', 'field', 'manager', 'school')"


def _role_check(old: str, new: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # Rebuilding users (a parent of a dozen tables) fails on SQLite with foreign keys on;
        # a CHECK's text is not stored in its rows, so SQLite lets it be edited in place
        # (sqlite.org/lang_altertable.html, "making other kinds of table schema changes").
        version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
        bind.exec_driver_sql("PRAGMA writable_schema=ON")
        bind.execute(
            sa.text(
                "UPDATE sqlite_master SET sql = replace(sql, :old, :new) "
                "WHERE type = 'table' AND name = 'users'"
            ),
            {"old": old, "new": new},
        )
        bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
        bind.exec_driver_sql("PRAGMA writable_schema=OFF")
    else:
        op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
        op.create_check_constraint(op.f("ck_users_role"), "users", new)


def upgrade():
    _role_check(BEFORE, AFTER)
    op.create_table(
        "school_staff",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_school_staff_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_school_staff_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "school_id", name=op.f("pk_school_staff")),
    )
    op.create_index(op.f("ix_school_staff_school_id"), "school_staff", ["school_id"], unique=False)
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_invitations_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_invitations_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    op.create_index(op.f("ix_invitations_user_id"), "invitations", ["user_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_invitations_user_id"), table_name="invitations")
    op.drop_table("invitations")
    op.drop_index(op.f("ix_school_staff_school_id"), table_name="school_staff")
    op.drop_table("school_staff")
    op.execute("DELETE FROM users WHERE role = 'school'")
    _role_check(AFTER, BEFORE)
