"""A record of every uploaded spreadsheet, previewed or committed."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.database import UTCDateTime, one_of, utcnow
from tracker.extensions import db

IMPORT_KINDS = ("devices", "schools", "manifest")
BATCH_STATES = ("running", "done", "failed")


class ImportBatch(db.Model):
    __tablename__ = "import_batches"
    __table_args__ = (
        one_of("kind", IMPORT_KINDS, "kind"),
        one_of("state", BATCH_STATES, "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    filename: Mapped[str] = mapped_column(sa.String(255))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    donation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("donations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    rows_read: Mapped[int] = mapped_column(default=0)
    rows_accepted: Mapped[int] = mapped_column(default=0)
    rows_new: Mapped[int] = mapped_column(default=0, server_default="0")
    rows_updated: Mapped[int] = mapped_column(default=0, server_default="0")
    rows_unchanged: Mapped[int] = mapped_column(default=0, server_default="0")
    rows_rejected: Mapped[int] = mapped_column(default=0)
    committed: Mapped[bool] = mapped_column(default=False)
    # Large files are checked and imported in the background; the page follows `state`.
    state: Mapped[str] = mapped_column(sa.String(20), default="done", server_default="done")
    failure: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    errors: Mapped[list] = mapped_column(sa.JSON, default=list)

    header_row: Mapped[int] = mapped_column(default=0, server_default="0")
    problem_count: Mapped[int] = mapped_column(default=0, server_default="0")
    unknown_columns: Mapped[list] = mapped_column(sa.JSON, default=list, server_default="[]")
    # Totals lines under the table, skipped (not data): shown in the preview.
    skipped_rows: Mapped[list] = mapped_column(sa.JSON, default=list, server_default="[]")
    # What the preview warns of without refusing a row ({"code": "lost_text", "column": ...},
    # {"code": "no_need", ...}), and what the coordinator chose at the commit.
    warnings: Mapped[list] = mapped_column(sa.JSON, default=list, server_default="[]")
    options: Mapped[dict] = mapped_column(sa.JSON, default=dict, server_default="{}")
    # An opening balance's places: how many tablets go to each school and the places no
    # school matched ({"placed": [[code, count], ...], "schools": n, "unmatched": [...]}).
    places: Mapped[dict] = mapped_column(sa.JSON, default=dict, server_default="{}")
    # Names the file's header row: what the user says its columns hold is kept under it.
    header_digest: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    # Which column each field was read from ({header as written: field key}).
    columns_read: Mapped[dict] = mapped_column(sa.JSON, default=dict, server_default="{}")
    # The uploaded file, kept where every server and worker reads it, until its commit.
    upload_file_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stored_files.id", ondelete="SET NULL")
    )

    user = relationship("User")
    donation = relationship("Donation")


class ColumnChoice(db.Model):
    """What a user said a file's unrecognised columns hold, kept for the next file with the
    same headers (`headers`: the file's headers, folded and sorted, joined)."""

    __tablename__ = "import_column_choices"
    __table_args__ = (sa.UniqueConstraint("kind", "headers"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    headers: Mapped[str] = mapped_column(sa.String(64))  # a digest of the header row
    # {"header as written": "field key", or "" for ignore}
    choices: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    chosen_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
