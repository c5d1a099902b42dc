"""Files kept in the database, so every app server and worker reads the same ones.

A download made by a worker on one machine is served by a web server on another; an upload
taken by one web server is read by a worker anywhere. Files are written in 1 MB chunks, so
neither side holds a large file in one value, and a download streams chunk by chunk.
"""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa

from tracker.database import utcnow
from tracker.extensions import db
from tracker.jobs.models import FileChunk, StoredFile

CHUNK = 1024 * 1024


def store_file(
    source: BinaryIO, *, name: str, mimetype: str, user_id: int | None, keep_days: float
) -> StoredFile:
    """Keep what `source` holds; the caller's transaction commits it."""
    stored = StoredFile(
        name=name[:255],
        mimetype=mimetype,
        user_id=user_id,
        expires_at=utcnow() + timedelta(days=keep_days),
    )
    db.session.add(stored)
    db.session.flush()
    size = number = 0
    while chunk := source.read(CHUNK):
        db.session.execute(
            sa.insert(FileChunk).values(file_id=stored.id, number=number, data=chunk)
        )
        size += len(chunk)
        number += 1
    stored.size = size
    return stored


def chunks(file_id: int) -> Iterator[bytes]:
    """The file's bytes, one chunk per query, so a large download holds one chunk at a time."""
    number = 0
    while True:
        data = db.session.scalar(
            sa.select(FileChunk.data).where(
                FileChunk.file_id == file_id, FileChunk.number == number
            )
        )
        if data is None:
            return
        yield bytes(data)
        number += 1


def copy_to(file_id: int, path: Path) -> None:
    with path.open("wb") as out:
        for chunk in chunks(file_id):
            out.write(chunk)


def forget_file(file_id: int) -> None:
    db.session.execute(sa.delete(FileChunk).where(FileChunk.file_id == file_id))
    db.session.execute(sa.delete(StoredFile).where(StoredFile.id == file_id))


def forget_expired(now=None) -> int:
    """Forget every file past its day; the number forgotten."""
    now = now or utcnow()
    ids = db.session.scalars(
        sa.select(StoredFile.id).where(StoredFile.expires_at < now).limit(1000)
    ).all()
    for file_id in ids:
        forget_file(file_id)
    return len(ids)
