"""Import pages (upload, preview, problems, commit, templates) and spreadsheet downloads."""

import io
import os
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user

from tracker.allocations.services import get_plan
from tracker.auth.permissions import requires
from tracker.dashboard.history import HistoryFilter
from tracker.deliveries.services import delivery_for
from tracker.devices.views import device_filters_from_request
from tracker.donations.forms import donation_choices
from tracker.errors import DomainError, ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.read_only import needs_transaction
from tracker.spreadsheets import background
from tracker.spreadsheets.allocations import export_allocations
from tracker.spreadsheets.exports import export_devices, export_history, export_schools
from tracker.spreadsheets.forms import KIND_LABELS, ImportForm
from tracker.spreadsheets.importers import warning_text
from tracker.spreadsheets.manifest import export_manifest, manifest_deliveries
from tracker.spreadsheets.models import ImportBatch
from tracker.spreadsheets.readers import UnusableFile, sniff
from tracker.spreadsheets.services import import_options, offers_needs_from_pupils
from tracker.spreadsheets.workbooks import problems_workbook, template_workbook
from tracker.transaction import transaction
from tracker.web import labeller, template_helpers, whole_number

# The words templates show for this feature's codes.
template_helpers(import_kind_label=labeller(KIND_LABELS), import_warning=warning_text)

imports_bp = Blueprint("imports", __name__, url_prefix="/imports")
exports_bp = Blueprint("exports", __name__, url_prefix="/exports")
# Workbooks downloaded from another feature's page, at that page's address.
workbooks_bp = Blueprint("workbooks", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KEEP_UPLOADS = 2 * 24 * 3600  # seconds an uploaded file waits for its commit


def upload_dir() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def upload_path(batch_id: int) -> Path:
    return upload_dir() / f"{batch_id}.upload"


def _forget_old_uploads() -> None:
    cutoff = time.time() - KEEP_UPLOADS
    for path in upload_dir().glob("*.upload"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


@imports_bp.route("/", methods=["GET", "POST"])
@requires("imports.run")
def index():
    form = ImportForm()
    form.donation_id.choices = donation_choices(_("Choose…"))
    if form.validate_on_submit():
        donation_id = form.donation_id.data or None
        if form.kind.data == "devices" and donation_id is None:
            form.donation_id.errors = [_("Choose the donation the devices belong to.")]
        else:
            batch = _preview(form, donation_id)
            if batch is not None:
                return redirect(url_for("imports.detail", batch_id=batch.id))
    recent = db.session.scalars(
        sa.select(ImportBatch)
        .options(sa.orm.joinedload(ImportBatch.user))
        .order_by(ImportBatch.id.desc())
        .limit(20)
    ).all()
    status = 400 if form.errors else 200
    return render_template("imports/index.html", form=form, recent=recent), status


def _preview(form: ImportForm, donation_id: int | None):
    """Store the upload, refuse an unusable file at once, and start checking it."""
    _forget_old_uploads()
    upload = form.file.data
    handle, temporary = tempfile.mkstemp(dir=upload_dir(), suffix=".part")
    os.close(handle)
    temporary = Path(temporary)
    try:
        upload.save(temporary)
        sniff(temporary, upload.filename or "")
    except UnusableFile as error:
        temporary.unlink(missing_ok=True)
        form.file.errors = [str(error)]
        return None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    batch = ImportBatch(
        kind=form.kind.data,
        filename=(upload.filename or "upload")[:255],
        user_id=current_user.id,
        donation_id=donation_id,
        state="running",
    )
    with transaction():
        db.session.add(batch)
    stored = upload_path(batch.id)
    temporary.replace(stored)
    background.start(batch, stored, commit=False)
    return batch


def _batch(batch_id: int) -> ImportBatch:
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None:
        abort(404)
    return batch


@imports_bp.route("/<int:batch_id>")
@requires("imports.run")
def detail(batch_id: int):
    batch = _batch(batch_id)
    stored = upload_path(batch.id)
    return render_template(
        "imports/detail.html",
        batch=batch,
        file_kept=stored.exists(),
        rows_done=background.rows_done(stored),
        needs_choice=offers_needs_from_pupils(batch),
    )


@imports_bp.route("/<int:batch_id>/commit", methods=["POST"])
@requires("imports.run")
def commit(batch_id: int):
    batch = _batch(batch_id)
    stored = upload_path(batch.id)
    if batch.state == "running":
        flash(_("This file is still being read; wait for it to finish."), "info")
    elif batch.committed:
        flash(_("This file was already imported."), "info")
    elif batch.rows_rejected or batch.state == "failed":
        flash(_("This file has problems; correct them and upload it again."), "error")
    elif not stored.exists():
        flash(_("The uploaded file is no longer kept; upload it again."), "error")
    else:
        try:
            options = import_options(
                batch,
                needs=request.form.get("needs", "keep"),
                pupils_per_tablet=request.form.get("pupils_per_tablet", type=whole_number),
            )
        except ValidationFailed as error:
            flash(str(error), "error")
            return redirect(url_for("imports.detail", batch_id=batch_id))
        with transaction():
            batch.state = "running"
            batch.options = options
        background.start(batch, stored, commit=True)
    return redirect(url_for("imports.detail", batch_id=batch_id))


@imports_bp.route("/<int:batch_id>/problems.xlsx")
@requires("imports.run")
def problems(batch_id: int):
    batch = _batch(batch_id)
    stored = upload_path(batch.id)
    if not stored.exists():
        flash(_("The uploaded file is no longer kept; upload it again."), "error")
        return redirect(url_for("imports.detail", batch_id=batch_id))
    buffer = io.BytesIO()
    problems_workbook(stored, batch.header_row, batch.errors, buffer)
    buffer.seek(0)
    name = Path(batch.filename).stem
    return send_file(
        buffer, mimetype=XLSX, as_attachment=True, download_name=f"{name}-problems.xlsx"
    )


@imports_bp.route("/templates/<any(devices, schools):kind>.xlsx")
@requires("imports.run")
def template(kind: str):
    buffer = io.BytesIO()
    template_workbook(kind, buffer)
    buffer.seek(0)
    return send_file(
        buffer, mimetype=XLSX, as_attachment=True, download_name=f"tracker-{kind}-template.xlsx"
    )


def _download(write, name: str):
    buffer = io.BytesIO()
    write(buffer)
    buffer.seek(0)
    response = send_file(buffer, mimetype=XLSX, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response


@exports_bp.route("/devices.xlsx")
@requires("exports.read")
@needs_transaction
def devices():
    filters, _code, _unknown = device_filters_from_request()
    return _download(lambda out: export_devices(out, filters), "devices.xlsx")


@exports_bp.route("/schools.xlsx")
@requires("exports.read")
@needs_transaction
def schools():
    args = request.args
    return _download(
        lambda out: export_schools(
            out,
            args.get("q", "")[:200],
            args.get("region", "")[:100],
            args.get("province", "")[:100],
        ),
        "schools.xlsx",
    )


@exports_bp.route("/history.xlsx")
@requires("exports.read")
@needs_transaction
def history():
    device_id = request.args.get("device", type=whole_number)
    chosen = HistoryFilter.from_args(request.args)
    return _download(
        lambda out: export_history(out, device_id, history_filter=chosen),
        "history.xlsx",
    )


@workbooks_bp.route("/plans/<int:plan_id>/allocations.xlsx")
@requires("exports.read")
@needs_transaction
def plan_allocations(plan_id: int):
    """A plan's allocation workbook: by school, by region, and its devices."""
    plan = get_plan(plan_id)
    buffer = io.BytesIO()
    export_allocations(buffer, plan_id=plan.id)
    buffer.seek(0)
    return send_file(
        buffer, mimetype=XLSX, as_attachment=True, download_name=f"allocations-plan-{plan.id}.xlsx"
    )


@workbooks_bp.route("/deliveries/<int:delivery_id>/manifest.xlsx")
@requires("exports.own")
def delivery_manifest(delivery_id: int):
    """One delivery's manifest for a team on paper (received yes/no, reasons, hand-over)."""
    try:
        delivery = delivery_for(current_user, delivery_id, whole=True)
    except DomainError:
        abort(404)
    return _manifest_file([delivery], f"{delivery.reference}-manifest.xlsx")


@workbooks_bp.route("/deliveries/mine/manifest.xlsx")
@requires("exports.own")
def my_manifest():
    """All of the signed-in agent's deliveries still under way, for a day on paper."""
    deliveries = manifest_deliveries(agent=current_user)
    if not deliveries:
        flash(_("You have no delivery under way."), "error")
        return redirect(url_for("deliveries.index"))
    return _manifest_file(deliveries, "manifest.xlsx")


def _manifest_file(deliveries, name: str):
    return _download(lambda out: export_manifest(out, deliveries), name)
