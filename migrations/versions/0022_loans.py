"""loans: a school's borrowers (pupils, teachers) and the tablets lent to them; a tablet's
state on_loan, and its events lent and loan_returned

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03

"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

STATES_BEFORE = "'in_transit', 'delivered', 'returned'"
STATES_AFTER = "'in_transit', 'delivered', 'on_loan', 'returned'"
TYPES_BEFORE = "'corrected_delivered', 'corrected_refused')"
TYPES_AFTER = "'corrected_delivered', 'corrected_refused', 'lent', 'loan_returned')"
STATUSES = (
    "in_stock",
    "reserved",
    "in_transit",
    "delivered",
    "on_loan",
    "returned",
    "faulty",
    "lost",
)


def _check(table: str, name: str, column: str, old: str, new: str, values: list[str]) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # devices is a parent of a dozen tables: rebuilding it fails with foreign keys on.
        # A CHECK's text is not stored in the rows, so SQLite lets it be edited in place
        # (sqlite.org/lang_altertable.html, "making other kinds of table schema changes").
        version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
        bind.exec_driver_sql("PRAGMA writable_schema=ON")
        bind.execute(
            sa.text(
                "UPDATE sqlite_master SET sql = replace(sql, :old, :new) "
                "WHERE type = 'table' AND name = :table"
            ),
            {"old": old, "new": new, "table": table},
        )
        bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
        bind.exec_driver_sql("PRAGMA writable_schema=OFF")
    else:
        allowed = ", ".join(f"'{value}'" for value in values)
        op.drop_constraint(op.f(name), table, type_="check")
        op.create_check_constraint(op.f(name), table, f"{column} IN ({allowed})")


ALERT_KINDS_BEFORE = (
    "'overdue', 'unconfirmed', 'wrong_school', 'two_schools', 'faulty_lost', 'plans_waiting', "
    "'unseen'"
)
ALERT_KINDS_AFTER = ALERT_KINDS_BEFORE + ", 'loans_overdue'"


def _alert_kinds(allowed: str) -> None:
    with op.batch_alter_table("alert_notes", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_alert_notes_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_alert_notes_kind"), f"kind IN ({allowed})")


def _event_types(with_loans: bool) -> list[str]:
    from_0013 = [
        "registered", "tagged", "label_replaced", "reserved", "released", "packed",
        "unpacked", "dispatched", "recalled", "scanned", "delivered", "returned",
        "restocked", "reported_faulty", "repaired", "reported_lost", "found", "edited",
        "corrected_delivered", "corrected_refused",
    ]  # fmt: skip
    return from_0013 + (["lent", "loan_returned"] if with_loans else [])


def upgrade():
    _check("devices", "ck_devices_status", "status", STATES_BEFORE, STATES_AFTER, list(STATUSES))
    _check(
        "device_events",
        "ck_device_events_type",
        "type",
        TYPES_BEFORE,
        TYPES_AFTER,
        _event_types(True),
    )
    _alert_kinds(ALERT_KINDS_AFTER)
    op.create_table(
        "borrowers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("class_name", sa.String(length=40), nullable=False),
        sa.Column("guardian_name", sa.String(length=120), nullable=False),
        sa.Column("guardian_phone", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('pupil', 'teacher')", name=op.f("ck_borrowers_kind")),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_borrowers_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_borrowers")),
        sa.UniqueConstraint("school_id", "code", name=op.f("uq_borrowers_school_id_code")),
    )
    op.create_index(
        op.f("ix_borrowers_school_id_class_name_name"),
        "borrowers",
        ["school_id", "class_name", "name"],
        unique=False,
    )
    op.create_table(
        "loans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("borrower_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("lent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("agreement_version", sa.String(length=20), nullable=False),
        sa.Column("condition_out", sa.String(length=10), nullable=False),
        sa.Column("accessories_out", sa.String(length=200), nullable=False),
        sa.Column("lent_by_id", sa.Integer(), nullable=True),
        sa.Column("signed_by", sa.String(length=120), nullable=False),
        sa.Column("signature_png", sa.LargeBinary(), nullable=True),
        sa.Column("paper_jpeg", sa.LargeBinary(), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_as", sa.String(length=10), nullable=True),
        sa.Column("condition_back", sa.String(length=10), nullable=True),
        sa.Column("accessories_back", sa.String(length=200), nullable=False),
        sa.Column("received_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "condition_out IN ('good', 'fair', 'damaged')", name=op.f("ck_loans_condition_out")
        ),
        sa.CheckConstraint(
            "condition_back IS NULL OR condition_back IN ('good', 'fair', 'damaged')",
            name=op.f("ck_loans_condition_back"),
        ),
        sa.CheckConstraint(
            "ended_as IS NULL OR ended_as IN ('returned', 'lost', 'faulty')",
            name=op.f("ck_loans_ended_as"),
        ),
        sa.CheckConstraint(
            "(ended_at IS NULL) = (ended_as IS NULL)", name=op.f("ck_loans_ended_together")
        ),
        sa.ForeignKeyConstraint(
            ["borrower_id"], ["borrowers.id"], name=op.f("fk_loans_borrower_id_borrowers")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_loans_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["lent_by_id"], ["users.id"], name=op.f("fk_loans_lent_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["received_by_id"], ["users.id"], name=op.f("fk_loans_received_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_loans_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
    )
    op.create_index(op.f("ix_loans_borrower_id"), "loans", ["borrower_id"], unique=False)
    op.create_index(op.f("ix_loans_device_id_id"), "loans", ["device_id", "id"], unique=False)
    op.create_index(
        op.f("ix_loans_school_id_ended_at_due_on"),
        "loans",
        ["school_id", "ended_at", "due_on"],
        unique=False,
    )
    op.create_index(
        "uq_loans_open_device",
        "loans",
        ["device_id"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )


def downgrade():
    op.drop_index("uq_loans_open_device", table_name="loans")
    op.drop_index(op.f("ix_loans_school_id_ended_at_due_on"), table_name="loans")
    op.drop_index(op.f("ix_loans_device_id_id"), table_name="loans")
    op.drop_index(op.f("ix_loans_borrower_id"), table_name="loans")
    op.drop_table("loans")
    op.drop_index(op.f("ix_borrowers_school_id_class_name_name"), table_name="borrowers")
    op.drop_table("borrowers")
    op.execute("DELETE FROM alert_notes WHERE kind = 'loans_overdue'")
    _alert_kinds(ALERT_KINDS_BEFORE)
    op.execute("DELETE FROM device_events WHERE type IN ('lent', 'loan_returned')")
    op.execute("UPDATE devices SET status = 'delivered' WHERE status = 'on_loan'")
    _check(
        "device_events",
        "ck_device_events_type",
        "type",
        TYPES_AFTER,
        TYPES_BEFORE,
        _event_types(False),
    )
    statuses = [state for state in STATUSES if state != "on_loan"]
    _check("devices", "ck_devices_status", "status", STATES_AFTER, STATES_BEFORE, statuses)
