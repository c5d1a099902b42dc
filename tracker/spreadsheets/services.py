"""Running an import end to end: the one place both the web upload and the CLI go through."""

from collections.abc import Callable
from pathlib import Path

from tracker.auth.models import User
from tracker.extensions import db
from tracker.spreadsheets.import_devices import DeviceImporter
from tracker.spreadsheets.import_manifest import ManifestImporter
from tracker.spreadsheets.import_schools import SchoolImporter
from tracker.spreadsheets.importers import ImportReport, RowImporter, record_batch, run_import
from tracker.spreadsheets.models import ImportBatch
from tracker.transaction import transaction


def make_importer(
    kind: str, *, actor: User | None, donation_id: int | None, filename: str
) -> RowImporter:
    if kind == "devices":
        return DeviceImporter(donation_id=donation_id, actor=actor, filename=filename)
    if kind == "schools":
        return SchoolImporter()
    if kind == "manifest":
        return ManifestImporter(actor=actor)
    raise ValueError(f"unknown import kind {kind!r}")


def import_file(
    kind: str,
    path: Path,
    filename: str,
    *,
    commit: bool,
    actor: User | None,
    donation_id: int | None = None,
    batch: ImportBatch | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import (or preview) one file and record it as an ImportBatch.

    This is an import's transaction boundary, so it commits: the rows and their batch
    together when every row is good; otherwise the rows are rolled back and only the
    batch, with its problems, is kept. UnusableFile and ValidationFailed (no header)
    propagate with nothing written.
    """
    importer = make_importer(kind, actor=actor, donation_id=donation_id, filename=filename)
    try:
        report = run_import(importer, path, filename, commit=commit, progress=progress)
    except BaseException:
        db.session.rollback()
        raise
    if not report.committed:
        db.session.rollback()
        if batch is not None:
            batch = db.session.merge(batch)
    with transaction():
        record_batch(
            report, user_id=actor.id if actor else None, donation_id=donation_id, batch=batch
        )
    return report
