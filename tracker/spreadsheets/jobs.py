"""Checking and importing an uploaded file as a job, which any worker can take.

The upload is kept in the database (tracker/jobs/files.py), so the worker need not be on
the machine that took it. The batch is the job's key: one live job per batch, and the
commit takes the batch's row lock and stops if the batch is already committed, so a job
sent again after its worker died never imports twice. The rows and the batch's
"committed" are written in one transaction: a worker killed in the middle leaves nothing.
"""

import tempfile
from pathlib import Path

import sqlalchemy as sa
from flask import request
from flask_login import current_user

from tracker.allocations.services import get_plan
from tracker.auth.models import User
from tracker.dashboard.history import HistoryFilter
from tracker.deliveries.services import delivery_for
from tracker.devices.queries import count_all_devices
from tracker.devices.views import device_filters_from_request
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import kept_text
from tracker.jobs import files
from tracker.jobs.services import Output, Progress, job_kind, start_job
from tracker.schools.reach import my_reach
from tracker.spreadsheets.allocations import export_allocations
from tracker.spreadsheets.exports import export_devices, export_history, export_schools
from tracker.spreadsheets.manifest import export_manifest, manifest_deliveries
from tracker.spreadsheets.models import ImportBatch
from tracker.spreadsheets.readers import UnusableFile, estimate_rows, sniff
from tracker.spreadsheets.services import import_file
from tracker.transaction import transaction
from tracker.web import whole_number


def _follow(params: dict) -> tuple[str, dict]:
    return "imports.detail", {"batch_id": params["batch_id"]}


def _check_failed(params: dict, message: str) -> None:
    batch = db.session.get(ImportBatch, params["batch_id"])
    if batch is not None:
        batch.state, batch.failure = "failed", kept_text(message, 10_000)


def _commit_failed(params: dict, message: str) -> None:
    """The check still holds: the batch can be committed again."""
    batch = db.session.get(ImportBatch, params["batch_id"])
    if batch is not None and not batch.committed:
        batch.state, batch.failure = "done", kept_text(message, 10_000)


@job_kind("imports.check", on_failure=_check_failed, follow=_follow)
def check(params: dict, progress: Progress) -> None:
    _run(params["batch_id"], progress, commit=False)


@job_kind("imports.commit", on_failure=_commit_failed, follow=_follow)
def commit(params: dict, progress: Progress) -> None:
    _run(params["batch_id"], progress, commit=True)


def _run(batch_id: int, progress: Progress, *, commit: bool) -> None:
    query = sa.select(ImportBatch).where(ImportBatch.id == batch_id)
    if commit:
        # Held until the import's one transaction ends: a second run waits, then sees it.
        query = query.with_for_update().execution_options(populate_existing=True)
    batch = db.session.scalar(query)
    if batch is None or (commit and batch.committed):
        db.session.rollback()
        return
    if batch.upload_file_id is None:
        raise ValidationFailed(_("The uploaded file is no longer kept; upload it again."))
    actor = db.session.get(User, batch.user_id) if batch.user_id else None
    with tempfile.TemporaryDirectory(prefix="tracker-import-") as folder:
        path = Path(folder) / f"upload{Path(batch.filename).suffix.lower()[:10]}"
        files.copy_to(batch.upload_file_id, path)
        try:
            if commit:
                progress.expect(batch.rows_read)
            else:
                progress.expect(estimate_rows(path, sniff(path, batch.filename)) or 0)
            report = import_file(
                batch.kind,
                path,
                batch.filename,
                commit=commit,
                actor=actor,
                donation_id=batch.donation_id,
                batch=batch,
                progress=progress.advance,
                options=batch.options,
            )
        except UnusableFile as error:
            raise ValidationFailed(str(error)) from error
    if report.committed:
        with transaction():
            batch = db.session.get(ImportBatch, batch_id)
            upload, batch.upload_file_id = batch.upload_file_id, None
            batch.failure = ""
            files.forget_file(upload)


def start_batch(batch: ImportBatch, *, commit: bool, user: User | None):
    """Queue the check (or the commit) of a batch whose upload is kept."""
    return start_job(
        "imports.commit" if commit else "imports.check",
        {"batch_id": batch.id},
        user=user,
        title=batch.filename,
        key=f"import:{batch.id}",
    )


# --- exports ---------------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(write, name: str) -> Output:
    """Run `write(file)` into a temporary file (in memory while small) for the downloads."""
    # Closed by the job once stored (jobs/services.py `_finish`).
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    write(out)
    return Output(name, XLSX, out)


@job_kind("exports.devices")
def devices(params: dict, progress: Progress) -> Output:
    filters, _code, _unknown = device_filters_from_request()
    progress.expect(count_all_devices(filters.conditions()))
    return workbook(lambda out: export_devices(out, filters), "devices.xlsx")


@job_kind("exports.schools")
def schools(params: dict, progress: Progress) -> Output:
    args = request.args
    return workbook(
        lambda out: export_schools(
            out,
            args.get("q", "")[:200],
            args.get("region", "")[:100],
            args.get("province", "")[:100],
            my_reach(),
        ),
        "schools.xlsx",
    )


@job_kind("exports.history")
def history(params: dict, progress: Progress) -> Output:
    device_id = request.args.get("device", type=whole_number)
    chosen = HistoryFilter.from_args(request.args, my_reach())
    return workbook(
        lambda out: export_history(out, device_id, history_filter=chosen), "history.xlsx"
    )


@job_kind("exports.allocations")
def allocations(params: dict, progress: Progress) -> Output:
    plan = get_plan(params["plan_id"])
    return workbook(
        lambda out: export_allocations(out, plan_id=plan.id), f"allocations-plan-{plan.id}.xlsx"
    )


@job_kind("exports.manifest")
def manifest(params: dict, progress: Progress) -> Output:
    """One delivery's manifest, or every delivery under way of the agent who asks."""
    if params.get("delivery_id") is not None:
        delivery = delivery_for(current_user, params["delivery_id"], whole=True)
        deliveries, name = [delivery], f"{delivery.reference}-manifest.xlsx"
    else:
        deliveries, name = manifest_deliveries(agent=current_user), "manifest.xlsx"
        if not deliveries:
            raise ValidationFailed(_("You have no delivery under way."))
    return workbook(lambda out: export_manifest(out, deliveries), name)
