"""Running an import end to end: the one place both the web upload and the CLI go through."""

from collections.abc import Callable
from pathlib import Path

from tracker.auth.models import User
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.spreadsheets.import_devices import DeviceImporter
from tracker.spreadsheets.import_manifest import ManifestImporter
from tracker.spreadsheets.import_schools import SchoolImporter
from tracker.spreadsheets.importers import ImportReport, RowImporter, record_batch, run_import
from tracker.spreadsheets.models import ImportBatch
from tracker.transaction import transaction


def make_importer(
    kind: str,
    *,
    actor: User | None,
    donation_id: int | None,
    filename: str,
    options: dict | None = None,
) -> RowImporter:
    """The importer of `kind`. `options` are what the coordinator chose at the commit
    (schools: {"pupils_per_tablet": 10} sets needs from enrolment)."""
    options = options or {}
    if kind == "devices":
        return DeviceImporter(donation_id=donation_id, actor=actor, filename=filename)
    if kind == "schools":
        return SchoolImporter(pupils_per_tablet=options.get("pupils_per_tablet"))
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
    options: dict | None = None,
) -> ImportReport:
    """Import (or preview) one file and record it as an ImportBatch.

    This is an import's transaction boundary, so it commits: the rows and their batch
    together when every row is good; otherwise the rows are rolled back and only the
    batch, with its problems, is kept. UnusableFile and ValidationFailed (no header)
    propagate with nothing written.
    """
    importer = make_importer(
        kind, actor=actor, donation_id=donation_id, filename=filename, options=options
    )
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
        recorded = record_batch(
            report, user_id=actor.id if actor else None, donation_id=donation_id, batch=batch
        )
        recorded.options = options or {}
    return report


def offers_needs_from_pupils(batch: ImportBatch) -> bool:
    """A school list with pupils and no need column: its commit may set needs from them."""
    return any(w.get("code") == "no_need" and w.get("enrolment") for w in batch.warnings)


def import_options(batch: ImportBatch, *, needs: str, pupils_per_tablet) -> dict:
    """What the coordinator chose for a previewed school list without needs: keep the
    tracker's needs ("keep"), or set them from enrolment ("enrolment", one tablet for every
    `pupils_per_tablet` pupils). Refuses a choice the file's warnings do not offer."""
    if needs == "keep" or not needs:
        return {}
    if needs != "enrolment" or not offers_needs_from_pupils(batch):
        raise ValidationFailed(_("This file offers no such choice."), field="needs")
    if not isinstance(pupils_per_tablet, int) or not 1 <= pupils_per_tablet <= 1000:
        raise ValidationFailed(
            _("Give the number of pupils per tablet, from 1 to 1,000."),
            field="pupils_per_tablet",
        )
    return {"pupils_per_tablet": pupils_per_tablet}
