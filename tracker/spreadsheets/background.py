"""Checking and importing large files outside the request, with progress others can see.

A 100,000-row workbook takes longer than a web request may wait, so the upload page
starts the work in a thread and the batch page follows it. Progress goes to a small file
beside the upload, which every server process can read; the outcome goes to the batch.
"""

import logging
import threading
from pathlib import Path

from flask import Flask, current_app

from tracker.auth.models import User
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.spreadsheets.models import ImportBatch
from tracker.spreadsheets.readers import UnusableFile
from tracker.spreadsheets.services import import_file
from tracker.transaction import transaction

log = logging.getLogger(__name__)


def progress_path(upload: Path) -> Path:
    return upload.with_suffix(".progress")


def rows_done(upload: Path) -> int:
    try:
        return int(progress_path(upload).read_text() or 0)
    except (OSError, ValueError):
        return 0


def run_batch(app: Flask, batch_id: int, upload: Path, *, commit: bool) -> None:
    """Check (or import) the stored upload of `batch_id`; record the outcome on the batch."""
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        actor = db.session.get(User, batch.user_id) if batch.user_id else None
        done = 0
        marker = progress_path(upload)

        def progress(rows: int) -> None:
            nonlocal done
            done += rows
            marker.write_text(str(done))

        try:
            report = import_file(
                batch.kind,
                upload,
                batch.filename,
                commit=commit,
                actor=actor,
                donation_id=batch.donation_id,
                batch=batch,
                progress=progress,
                options=batch.options,
            )
            if report.committed:
                upload.unlink(missing_ok=True)
        except (UnusableFile, ValidationFailed) as error:
            _fail(batch_id, str(error))
        except Exception:
            log.exception("import batch %s failed", batch_id)
            _fail(
                batch_id,
                _(
                    "The import stopped on an unexpected error; nothing was written. "
                    "Try again, or send the file to your administrator."
                ),
            )
        finally:
            marker.unlink(missing_ok=True)
            db.session.remove()


def _fail(batch_id: int, message: str) -> None:
    db.session.rollback()
    with transaction():
        batch = db.session.get(ImportBatch, batch_id)
        batch.state, batch.failure = "failed", message


def start(batch: ImportBatch, upload: Path, *, commit: bool) -> None:
    """Run the batch in a thread, or right here when the app is set to (tests, CLI)."""
    app = current_app._get_current_object()  # noqa: SLF001  (the thread needs the real app)
    batch_id = batch.id
    if not app.config.get("IMPORTS_IN_BACKGROUND", True):
        # The import has its own session: this one must not hold the write lock meanwhile.
        with transaction():
            pass
        run_batch(app, batch_id, upload, commit=commit)
        return
    thread = threading.Thread(
        target=run_batch,
        args=(app, batch_id, upload),
        kwargs={"commit": commit},
        name=f"import-{batch_id}",
        daemon=True,
    )
    thread.start()
