"""A job someone started (an import, an export, a label sheet) and the files jobs keep."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tracker.database import UTCDateTime, one_of, utcnow
from tracker.extensions import db

JOB_STATES = ("queued", "running", "done", "failed")


class StoredFile(db.Model):
    """A file every app server and worker can read: kept in the database, in chunks.

    The database is the one thing every server of a deployment already shares and backs
    up; a folder would need a shared file system or an object store beside it."""

    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    mimetype: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the file is forgotten (its chunks go with it).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class FileChunk(db.Model):
    __tablename__ = "file_chunks"

    file_id: Mapped[int] = mapped_column(
        sa.ForeignKey("stored_files.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)


class Job(db.Model):
    __tablename__ = "jobs"
    __table_args__ = (
        one_of("state", JOB_STATES, "state"),
        # One live job per key: an import batch is checked or committed by one job at a time.
        sa.Index(
            "uq_jobs_live_key",
            "key",
            unique=True,
            sqlite_where=sa.text("state IN ('queued', 'running')"),
            postgresql_where=sa.text("state IN ('queued', 'running')"),
        ),
        sa.Index("ix_jobs_user_id_id", "user_id", "id"),
        sa.Index(
            "ix_jobs_live",
            "state",
            sqlite_where=sa.text("state IN ('queued', 'running')"),
            postgresql_where=sa.text("state IN ('queued', 'running')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    # What the job is called in lists: the file it makes ("devices.xlsx"), the import's file.
    title: Mapped[str] = mapped_column(sa.String(255))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    key: Mapped[str | None] = mapped_column(sa.String(100))
    state: Mapped[str] = mapped_column(sa.String(20), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    worker: Mapped[str] = mapped_column(sa.String(100), default="")
    done: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    total: Mapped[int | None] = mapped_column(sa.BigInteger)
    failure: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    file_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stored_files.id", ondelete="SET NULL")
    )
