"""Running an import end to end: the one place both the web upload and the CLI go through."""

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from tracker.auth.models import User
from tracker.errors import ValidationFailed, ValidationProblems
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.schools.models import School
from tracker.schools.reach import reach_of, reachable
from tracker.spreadsheets.import_devices import DeviceImporter
from tracker.spreadsheets.import_manifest import ManifestImporter
from tracker.spreadsheets.import_schools import SchoolImporter
from tracker.spreadsheets.importers import ImportReport, RowImporter, record_batch, run_import
from tracker.spreadsheets.models import ColumnChoice, ImportBatch
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
        importer = DeviceImporter(donation_id=donation_id, actor=actor, filename=filename)
    elif kind == "schools":
        importer = SchoolImporter(
            pupils_per_tablet=options.get("pupils_per_tablet"), reach=reach_of(actor)
        )
    elif kind == "manifest":
        importer = ManifestImporter(actor=actor)
    else:
        raise ValueError(f"unknown import kind {kind!r}")
    if options.get("columns") is not None:
        importer.chosen = options["columns"]
    if kind == "devices" and options.get("places"):
        importer.chosen_places = {
            place: int(school_id) for place, school_id in options["places"].items()
        }
    return importer


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
        # The column choices this check applied: the commit applies exactly these.
        recorded.options = {
            **(options or {}),
            "columns": report.columns_chosen,
            "remembered": report.remembered,
        }
    return report


def offers_needs_from_pupils(batch: ImportBatch) -> bool:
    """A school list with pupils and no need column: its commit may set needs from them."""
    return any(w.get("code") == "no_need" and w.get("enrolment") for w in batch.warnings)


def import_options(batch: ImportBatch, *, needs: str, pupils_per_tablet) -> dict:
    """What the coordinator chose for a previewed school list without needs: keep the
    tracker's needs ("keep"), or set them from enrolment ("enrolment", one tablet for every
    `pupils_per_tablet` pupils). Refuses a choice the file's warnings do not offer. What the
    user said of the file's columns stays."""
    kept = batch.options or {}
    columns = {key: kept[key] for key in ("columns", "remembered", "places") if key in kept}
    if needs == "keep" or not needs:
        return columns
    if needs != "enrolment" or not offers_needs_from_pupils(batch):
        raise ValidationFailed(_("This file offers no such choice."), field="needs")
    if not isinstance(pupils_per_tablet, int) or not 1 <= pupils_per_tablet <= 1000:
        raise ValidationFailed(
            _("Give the number of pupils per tablet, from 1 to 1,000."),
            field="pupils_per_tablet",
        )
    return {**columns, "pupils_per_tablet": pupils_per_tablet}


def column_fields(kind: str) -> list[tuple[str, str]]:
    """The fields a file of `kind` may hold, as (key, label) for the user to choose from."""
    importer = make_importer(kind, actor=None, donation_id=None, filename="")
    return [(column.key, str(column.label)) for column in importer.columns]


def _may_check_again(batch: ImportBatch) -> None:
    """A previewed file can be checked again with what the user said of it while it is not
    being read and not imported."""
    if batch.state == "running":
        raise ValidationFailed(_("This file is still being read; wait for it to finish."))
    if batch.committed:
        raise ValidationFailed(_("This file was already imported."))


def choose_columns(batch: ImportBatch, chosen: dict[str, str], *, actor: User | None) -> dict:
    """What the user says the file's unrecognised columns hold ({header: field key, or ""
    to ignore it}): checked (a field the file has, once), kept for the next file with the
    same headers, and the batch's options for its check again. Nothing is imported."""
    _may_check_again(batch)
    keys = dict(column_fields(batch.kind))
    unknown = set(batch.unknown_columns)
    problems = []
    clean = {}
    # A field the file already has (by name, or as chosen before) is not offered again.
    taken = {key: header for header, key in (batch.columns_read or {}).items()}
    for header, key in chosen.items():
        if header not in unknown:
            continue
        if key and key not in keys:
            problems.append(ValidationFailed(_("“%(header)s”: choose a field.", header=header)))
            continue
        clean[header] = key
    for header, key in clean.items():
        if key and key in taken:
            problems.append(
                ValidationFailed(
                    _(
                        "“%(first)s” and “%(second)s” cannot both be the %(field)s.",
                        first=taken[key],
                        second=header,
                        field=keys[key],
                    )
                )
            )
        taken.setdefault(key, header)
    if problems:
        raise problems[0] if len(problems) == 1 else ValidationProblems(problems)
    earlier = {
        header: key
        for header, key in ((batch.options or {}).get("columns") or {}).items()
        if header in (batch.columns_read or {}) or header not in unknown
    }
    earlier.update(clean)
    if batch.header_digest:
        kept = db.session.scalar(
            sa.select(ColumnChoice).where(
                ColumnChoice.kind == batch.kind, ColumnChoice.headers == batch.header_digest
            )
        )
        if kept is None:
            kept = ColumnChoice(kind=batch.kind, headers=batch.header_digest)
            db.session.add(kept)
        kept.choices = earlier
        kept.chosen_by_id = actor.id if actor else None
    batch.options = {**(batch.options or {}), "columns": earlier, "remembered": False}
    batch.state = "running"
    db.session.flush()
    return earlier


def accept_closest(batch: ImportBatch, places: list[str]) -> dict:
    """The places of a previewed opening balance the user says are the closest school the
    preview offered: kept in the batch's options (its check again and its commit read them
    so); nothing is imported. A place the preview did not offer is refused."""
    _may_check_again(batch)
    offered = {
        place["place"]: place["closest_code"]
        for place in (batch.places or {}).get("unmatched", [])
        if place.get("closest_code")
    }
    chosen = [place for place in places if place in offered]
    if not chosen:
        raise ValidationFailed(_("Tick the places to read as their closest school."))
    codes = {offered[place] for place in chosen}
    ids = dict(
        db.session.execute(sa.select(School.code, School.id).where(School.code.in_(codes))).all()
    )
    accepted = dict((batch.options or {}).get("places") or {})
    accepted.update({place: ids[offered[place]] for place in chosen if offered[place] in ids})
    batch.options = {**(batch.options or {}), "places": accepted}
    batch.state = "running"
    db.session.flush()
    return accepted


def batches_clause(reach):
    """Imports in reach: every one for the whole programme's people, one's own otherwise (a
    file's rows name schools of anywhere)."""
    if reach.whole:
        return sa.true()
    return ImportBatch.user_id == reach.person


def _batch_reached(reach, batch_id: int) -> bool:
    found = sa.select(ImportBatch.id).where(ImportBatch.id == batch_id, batches_clause(reach))
    return db.session.scalar(found) is not None


reachable("batch_id", _batch_reached, lambda id_: _("No import with number %(id)s.", id=id_))
