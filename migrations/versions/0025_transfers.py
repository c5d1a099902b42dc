"""transfers: tablets moved from a school with a surplus to one with unmet need, approved
by two people and carried by a delivery that starts at a school; the event transferred_out

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03

"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

TYPES_BEFORE = "'back_from_repair', 'replacement_for', 'replaced_by')"
TYPES_AFTER = "'back_from_repair', 'replacement_for', 'replaced_by', 'transferred_out')"
EVENT_TYPES = [
    "registered", "tagged", "label_replaced", "reserved", "released", "packed",
    "unpacked", "dispatched", "recalled", "scanned", "delivered", "returned",
    "restocked", "reported_faulty", "repaired", "reported_lost", "found", "edited",
    "corrected_delivered", "corrected_refused", "lent", "loan_returned", "counted",
    "back_from_repair", "replacement_for", "replaced_by",
]  # fmt: skip


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


def upgrade():
    _event_types(TYPES_BEFORE, TYPES_AFTER, [*EVENT_TYPES, "transferred_out"])
    op.create_table(
        "transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_school_id", sa.Integer(), nullable=False),
        sa.Column("to_school_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=10), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('proposed', 'submitted', 'approved', 'on_the_way', 'cancelled')",
            name=op.f("ck_transfers_status"),
        ),
        sa.CheckConstraint("reason IN ('surplus', 'by_hand')", name=op.f("ck_transfers_reason")),
        sa.CheckConstraint("from_school_id <> to_school_id", name=op.f("ck_transfers_two_schools")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_transfers_quantity")),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["users.id"], name=op.f("fk_transfers_approved_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_transfers_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"], ["deliveries.id"], name=op.f("fk_transfers_delivery_id_deliveries")
        ),
        sa.ForeignKeyConstraint(
            ["from_school_id"], ["schools.id"], name=op.f("fk_transfers_from_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"], ["users.id"], name=op.f("fk_transfers_submitted_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["to_school_id"], ["schools.id"], name=op.f("fk_transfers_to_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_transfers_delivery_id")),
    )
    op.create_index(op.f("ix_transfers_from_school_id"), "transfers", ["from_school_id"])
    op.create_index(op.f("ix_transfers_to_school_id"), "transfers", ["to_school_id"])
    op.create_index(op.f("ix_transfers_status_id"), "transfers", ["status", "id"])


def downgrade():
    op.drop_index(op.f("ix_transfers_status_id"), table_name="transfers")
    op.drop_index(op.f("ix_transfers_to_school_id"), table_name="transfers")
    op.drop_index(op.f("ix_transfers_from_school_id"), table_name="transfers")
    op.drop_table("transfers")
    op.execute("DELETE FROM device_events WHERE type = 'transferred_out'")
    _event_types(TYPES_AFTER, TYPES_BEFORE, EVENT_TYPES)
