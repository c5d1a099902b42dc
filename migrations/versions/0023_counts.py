"""counts: each school's expected tablets fixed when a count opens, what was found where,
the unexpected ones; the device event counted; offline count scans in the sync record

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03

"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

TYPES_BEFORE = "'lent', 'loan_returned')"
TYPES_AFTER = "'lent', 'loan_returned', 'counted')"
EVENT_TYPES = [
    "registered", "tagged", "label_replaced", "reserved", "released", "packed",
    "unpacked", "dispatched", "recalled", "scanned", "delivered", "returned",
    "restocked", "reported_faulty", "repaired", "reported_lost", "found", "edited",
    "corrected_delivered", "corrected_refused", "lent", "loan_returned",
]  # fmt: skip


def _event_types(old: str, new: str, values: list[str]) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # device_events is edited in place, as in 0022: its CHECK's text is not in its rows.
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


def _sync_types(allowed: str) -> None:
    with op.batch_alter_table("sync_actions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sync_actions_type"), type_="check")
        batch_op.create_check_constraint(op.f("ck_sync_actions_type"), f"type IN ({allowed})")


def upgrade():
    _event_types(TYPES_BEFORE, TYPES_AFTER, [*EVENT_TYPES, "counted"])
    op.create_table(
        "counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("scope", sa.String(length=12), nullable=False),
        sa.Column("scope_value", sa.String(length=100), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("close_asked_by_id", sa.Integer(), nullable=True),
        sa.Column("close_asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("missing", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "scope IN ('school', 'province', 'region', 'programme')", name=op.f("ck_counts_scope")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'closing', 'closed')", name=op.f("ck_counts_status")
        ),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_counts_window")),
        sa.ForeignKeyConstraint(
            ["close_asked_by_id"], ["users.id"], name=op.f("fk_counts_close_asked_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["users.id"], name=op.f("fk_counts_closed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_id"], ["users.id"], name=op.f("fk_counts_opened_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counts")),
    )
    op.create_table(
        "count_lines",
        sa.Column("count_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("found_school_id", sa.Integer(), nullable=True),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("found_by_id", sa.Integer(), nullable=True),
        sa.Column("condition", sa.String(length=20), nullable=True),
        sa.CheckConstraint(
            "status IN ('expected', 'found', 'missing')", name=op.f("ck_count_lines_status")
        ),
        sa.ForeignKeyConstraint(
            ["count_id"], ["counts.id"], name=op.f("fk_count_lines_count_id_counts")
        ),
        sa.ForeignKeyConstraint(
            ["found_by_id"], ["users.id"], name=op.f("fk_count_lines_found_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["found_school_id"], ["schools.id"], name=op.f("fk_count_lines_found_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("count_id", "school_id", "device_id", name=op.f("pk_count_lines")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_count_lines_found_elsewhere",
        "count_lines",
        ["count_id", "found_school_id"],
        sqlite_where=sa.text("found_school_id IS NOT NULL"),
        postgresql_where=sa.text("found_school_id IS NOT NULL"),
    )
    op.create_table(
        "count_extras",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("count_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("found_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["count_id"], ["counts.id"], name=op.f("fk_count_extras_count_id_counts")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_count_extras_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["found_by_id"], ["users.id"], name=op.f("fk_count_extras_found_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_count_extras_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_count_extras")),
        sa.UniqueConstraint(
            "count_id", "school_id", "code", name=op.f("uq_count_extras_count_id_school_id_code")
        ),
    )
    op.create_index(
        op.f("ix_count_extras_count_id_school_id"), "count_extras", ["count_id", "school_id"]
    )
    with op.batch_alter_table("sync_actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("count_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_sync_actions_count_id_counts"), "counts", ["count_id"], ["id"]
        )
        batch_op.drop_constraint(op.f("ck_sync_actions_type"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_sync_actions_type"), "type IN ('scan', 'handover', 'report', 'count_scan')"
        )


def downgrade():
    op.execute("DELETE FROM sync_actions WHERE type = 'count_scan'")
    with op.batch_alter_table("sync_actions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sync_actions_type"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_sync_actions_type"), "type IN ('scan', 'handover', 'report')"
        )
        batch_op.drop_constraint(op.f("fk_sync_actions_count_id_counts"), type_="foreignkey")
        batch_op.drop_column("count_id")
    op.drop_index(op.f("ix_count_extras_count_id_school_id"), table_name="count_extras")
    op.drop_table("count_extras")
    op.drop_index("ix_count_lines_found_elsewhere", table_name="count_lines")
    op.drop_table("count_lines")
    op.drop_table("counts")
    op.execute("DELETE FROM device_events WHERE type = 'counted'")
    _event_types(TYPES_AFTER, TYPES_BEFORE, EVENT_TYPES)
