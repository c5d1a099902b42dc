"""donors see their own: a donor role bound to one donor organisation, and a donation's
open figures (a public page's key; none: off)

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06

"""

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

ROLES_BEFORE = "role IN ('admin', 'coordinator', 'field', 'manager', 'school')"
ROLES_AFTER = "role IN ('admin', 'coordinator', 'field', 'manager', 'school', 'donor')"
DONOR_CHECK = "(role = 'donor') = (donor_id IS NOT NULL)"
EMAIL = "CONSTRAINT uq_users_email UNIQUE (email)"


def _edit_sqlite_users(old: str, new: str) -> None:
    """The table's CREATE text edited in place, as 0030 and 0031 do."""
    bind = op.get_bind()
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


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    name = op.f("fk_users_donor_id_donors")
    if sqlite:
        op.execute(
            f"ALTER TABLE users ADD COLUMN donor_id INTEGER CONSTRAINT {name} REFERENCES donors (id)"
        )
        _edit_sqlite_users(ROLES_BEFORE, ROLES_AFTER)
        _edit_sqlite_users(EMAIL, f"{EMAIL}, \n\tCONSTRAINT ck_users_donor CHECK ({DONOR_CHECK})")
    else:
        op.add_column("users", sa.Column("donor_id", sa.Integer(), nullable=True))
        op.create_foreign_key(name, "users", "donors", ["donor_id"], ["id"])
        op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
        op.create_check_constraint(op.f("ck_users_role"), "users", ROLES_AFTER)
        op.create_check_constraint(op.f("ck_users_donor"), "users", DONOR_CHECK)
    op.create_index(op.f("ix_users_donor_id"), "users", ["donor_id"])
    op.create_index(
        "ix_devices_donation_id_status", "devices", ["donation_id", "status", "school_id"]
    )
    op.add_column("donations", sa.Column("public_key", sa.String(43), nullable=True))
    op.create_index(op.f("ix_donations_public_key"), "donations", ["public_key"], unique=True)
    op.add_column(
        "donations",
        sa.Column("public_since", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_index("ix_devices_donation_id_status", table_name="devices")
    op.drop_index(op.f("ix_donations_public_key"), "donations")
    op.drop_column("donations", "public_since")
    op.drop_column("donations", "public_key")
    op.drop_index(op.f("ix_users_donor_id"), "users")
    bind = op.get_bind()
    donors = bind.execute(sa.text("SELECT count(*) FROM users WHERE role = 'donor'")).scalar()
    if donors:
        # Their sign-ins, invitations and messages name them: not erased by a downgrade.
        raise RuntimeError(
            f"{donors} donor accounts exist: restore a backup taken before them instead."
        )
    if bind.dialect.name == "sqlite":
        _edit_sqlite_users(f"{EMAIL}, \n\tCONSTRAINT ck_users_donor CHECK ({DONOR_CHECK})", EMAIL)
        _edit_sqlite_users(ROLES_AFTER, ROLES_BEFORE)
        # A column in a foreign key cannot be dropped: its constraint's text goes first.
        _edit_sqlite_users(" CONSTRAINT fk_users_donor_id_donors REFERENCES donors (id)", "")
        op.execute("ALTER TABLE users DROP COLUMN donor_id")
    else:
        op.drop_constraint(op.f("ck_users_donor"), "users", type_="check")
        op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
        op.create_check_constraint(op.f("ck_users_role"), "users", ROLES_BEFORE)
        op.drop_constraint(op.f("fk_users_donor_id_donors"), "users", type_="foreignkey")
        op.drop_column("users", "donor_id")
