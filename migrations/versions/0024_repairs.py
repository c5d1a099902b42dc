"""repairs: a case behind every faulty tablet (fault, photos, warranty claim, repairer,
dates, cost, outcome, replacement); the events back_from_repair, replacement_for and
replaced_by; alerts for warranties ending and repairs open too long

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03

"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

TYPES_BEFORE = "'lent', 'loan_returned', 'counted')"
TYPES_AFTER = (
    "'lent', 'loan_returned', 'counted', 'back_from_repair', 'replacement_for', 'replaced_by')"
)
EVENT_TYPES = [
    "registered", "tagged", "label_replaced", "reserved", "released", "packed",
    "unpacked", "dispatched", "recalled", "scanned", "delivered", "returned",
    "restocked", "reported_faulty", "repaired", "reported_lost", "found", "edited",
    "corrected_delivered", "corrected_refused", "lent", "loan_returned", "counted",
]  # fmt: skip
NEW_TYPES = ["back_from_repair", "replacement_for", "replaced_by"]
ALERTS_BEFORE = (
    "'overdue', 'unconfirmed', 'wrong_school', 'two_schools', 'faulty_lost', 'plans_waiting', "
    "'unseen', 'loans_overdue'"
)
ALERTS_AFTER = ALERTS_BEFORE + ", 'warranty_ending', 'repairs_open'"


def _event_types(old: str, new: str, values: list[str]) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # Edited in place, as in 0022: the CHECK's text is not in the rows.
        version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
        bind.exec_driver_sql("PRAGMA writable_schema=ON")
        bind.execute(
            sa.text(
                "UPDATE sqlite_master SET sql = replace(sql, :old, :new) "
                "WHERE type = 'table' AND name = 'device_events'"
            ),
            {"old": old, "new": new},
        )
        bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
        bind.exec_driver_sql("PRAGMA writable_schema=OFF")
    else:
        allowed = ", ".join(f"'{value}'" for value in values)
        op.drop_constraint(op.f("ck_device_events_type"), "device_events", type_="check")
        op.create_check_constraint(
            op.f("ck_device_events_type"), "device_events", f"type IN ({allowed})"
        )


def _alert_kinds(allowed: str) -> None:
    with op.batch_alter_table("alert_notes", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_alert_notes_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_alert_notes_kind"), f"kind IN ({allowed})")


def upgrade():
    _event_types(TYPES_BEFORE, TYPES_AFTER, EVENT_TYPES + NEW_TYPES)
    _alert_kinds(ALERTS_AFTER)
    op.create_table(
        "repair_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("fault", sa.Text(), nullable=False),
        sa.Column("under_warranty", sa.Boolean(), nullable=False),
        sa.Column("warranty_claim", sa.Boolean(), nullable=False),
        sa.Column("repairer", sa.String(length=120), nullable=False),
        sa.Column("repairer_ref", sa.String(length=64), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=True),
        sa.Column("returned_on", sa.Date(), nullable=True),
        sa.Column("cost", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("outcome", sa.String(length=14), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("replacement_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('repaired', 'replaced', 'beyond_repair')",
            name=op.f("ck_repair_cases_outcome"),
        ),
        sa.CheckConstraint(
            "(closed_at IS NULL) = (outcome IS NULL)", name=op.f("ck_repair_cases_closed_together")
        ),
        sa.CheckConstraint("cost IS NULL OR cost >= 0", name=op.f("ck_repair_cases_cost")),
        sa.CheckConstraint(
            "returned_on IS NULL OR sent_on IS NULL OR returned_on >= sent_on",
            name=op.f("ck_repair_cases_dates"),
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["users.id"], name=op.f("fk_repair_cases_closed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_repair_cases_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_id"], ["users.id"], name=op.f("fk_repair_cases_opened_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["replacement_id"], ["devices.id"], name=op.f("fk_repair_cases_replacement_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_repair_cases_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_cases")),
    )
    op.create_index(
        op.f("ix_repair_cases_closed_at_opened_at"), "repair_cases", ["closed_at", "opened_at"]
    )
    op.create_index(op.f("ix_repair_cases_device_id_id"), "repair_cases", ["device_id", "id"])
    op.create_index(
        "uq_repair_cases_open_device",
        "repair_cases",
        ["device_id"],
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_table(
        "repair_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("jpeg", sa.LargeBinary(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["users.id"], name=op.f("fk_repair_photos_added_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["repair_cases.id"], name=op.f("fk_repair_photos_case_id_repair_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_photos")),
    )
    op.create_index(op.f("ix_repair_photos_case_id"), "repair_photos", ["case_id"])
    # The tablets faulty already get their case.
    op.execute(
        "INSERT INTO repair_cases (device_id, school_id, opened_at, fault, under_warranty, "
        "warranty_claim, repairer, repairer_ref) "
        "SELECT id, school_id, updated_at, '', false, false, '', '' FROM devices "
        "WHERE status = 'faulty'"
    )


def downgrade():
    op.drop_index(op.f("ix_repair_photos_case_id"), table_name="repair_photos")
    op.drop_table("repair_photos")
    op.drop_index("uq_repair_cases_open_device", table_name="repair_cases")
    op.drop_index(op.f("ix_repair_cases_device_id_id"), table_name="repair_cases")
    op.drop_index(op.f("ix_repair_cases_closed_at_opened_at"), table_name="repair_cases")
    op.drop_table("repair_cases")
    op.execute("DELETE FROM alert_notes WHERE kind IN ('warranty_ending', 'repairs_open')")
    _alert_kinds(ALERTS_BEFORE)
    op.execute(
        "DELETE FROM device_events "
        "WHERE type IN ('back_from_repair', 'replacement_for', 'replaced_by')"
    )
    _event_types(TYPES_AFTER, TYPES_BEFORE, EVENT_TYPES)
