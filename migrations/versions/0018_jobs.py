"""jobs, stored_files and file_chunks: the job queue's record and the files jobs keep

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02

"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

LIVE = "state IN ('queued', 'running')"


def upgrade():
    op.create_table(
        "stored_files",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("mimetype", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_stored_files_user_id_users", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stored_files"),
    )
    op.create_index("ix_stored_files_expires_at", "stored_files", ["expires_at"])
    op.create_table(
        "file_chunks",
        sa.Column(
            "file_id",
            sa.Integer(),
            sa.ForeignKey(
                "stored_files.id", name="fk_file_chunks_file_id_stored_files", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("number", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("file_id", "number", name="pk_file_chunks"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_jobs_user_id_users", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("key", sa.String(100), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(100), nullable=False),
        sa.Column("done", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=True),
        sa.Column("failure", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "file_id",
            sa.Integer(),
            sa.ForeignKey(
                "stored_files.id", name="fk_jobs_file_id_stored_files", ondelete="SET NULL"
            ),
            nullable=True,
        ),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_jobs_state")
        ),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    op.create_index(
        "uq_jobs_live_key",
        "jobs",
        ["key"],
        unique=True,
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )
    op.create_index("ix_jobs_user_id_id", "jobs", ["user_id", "id"])
    op.create_index(
        "ix_jobs_live",
        "jobs",
        ["state"],
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )
    with op.batch_alter_table("import_batches") as batch:
        batch.add_column(sa.Column("upload_file_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_import_batches_upload_file_id_stored_files",
            "stored_files",
            ["upload_file_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("import_batches") as batch:
        batch.drop_constraint("fk_import_batches_upload_file_id_stored_files", type_="foreignkey")
        batch.drop_column("upload_file_id")
    op.drop_table("jobs")
    op.drop_table("file_chunks")
    op.drop_index("ix_stored_files_expires_at", table_name="stored_files")
    op.drop_table("stored_files")
