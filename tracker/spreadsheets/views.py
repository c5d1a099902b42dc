"""Import pages (upload, preview, problems, commit, templates) and spreadsheet downloads."""

import io
import tempfile
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
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
from tracker.deliveries.services import delivery_for
from tracker.donations.forms import donation_choices
from tracker.errors import DomainError, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import school_name
from tracker.jobs.files import copy_to, store_file
from tracker.jobs.services import live_job, start_from_request
from tracker.loans.forms import ClassListForm
from tracker.schools.reach import my_reach
from tracker.schools.staff import school_in_reach
from tracker.spreadsheets.forms import KIND_LABELS, ImportForm
from tracker.spreadsheets.import_borrowers import BorrowerImporter, class_list_template
from tracker.spreadsheets.importers import run_import, warning_text
from tracker.spreadsheets.jobs import start_batch
from tracker.spreadsheets.manifest import manifest_deliveries
from tracker.spreadsheets.models import ImportBatch
from tracker.spreadsheets.opening import OPENING_LABELS
from tracker.spreadsheets.readers import UnusableFile, sniff
from tracker.spreadsheets.services import (
    accept_closest,
    batches_clause,
    choose_columns,
    column_fields,
    import_options,
    offers_needs_from_pupils,
)
from tracker.spreadsheets.workbooks import problems_workbook, template_workbook
from tracker.transaction import committed, transaction
from tracker.web import labeller, template_helpers, whole_number

# The words templates show for this feature's codes.
template_helpers(
    import_kind_label=labeller(KIND_LABELS),
    import_warning=warning_text,
    opening_state_label=labeller(OPENING_LABELS),
    name_as_read=lambda names: school_name(SimpleNamespace(name_fr=names[0], name_ar=names[1])),
)

imports_bp = Blueprint("imports", __name__, url_prefix="/imports")
exports_bp = Blueprint("exports", __name__, url_prefix="/exports")
# Workbooks downloaded from another feature's page, at that page's address.
workbooks_bp = Blueprint("workbooks", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KEEP_UPLOADS = 2  # days an uploaded file waits for its commit


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
        .where(batches_clause(my_reach()))
        .options(sa.orm.joinedload(ImportBatch.user))
        .order_by(ImportBatch.id.desc())
        .limit(20)
    ).all()
    status = 400 if form.errors else 200
    return render_template("imports/index.html", form=form, recent=recent), status


def _preview(form: ImportForm, donation_id: int | None):
    """Keep the upload where every worker reads it, refuse an unusable file at once, and
    queue its check."""
    upload = form.file.data
    with tempfile.NamedTemporaryFile(prefix="tracker-upload-") as temporary:
        upload.save(temporary)
        temporary.flush()
        try:
            sniff(Path(temporary.name), upload.filename or "")
        except UnusableFile as error:
            form.file.errors = [str(error)]
            return None
        temporary.seek(0)
        with transaction():
            stored = store_file(
                temporary,
                name=upload.filename or "upload",
                mimetype="application/octet-stream",
                user_id=current_user.id,
                keep_days=KEEP_UPLOADS,
            )
            batch = ImportBatch(
                kind=form.kind.data,
                filename=(upload.filename or "upload")[:255],
                user_id=current_user.id,
                donation_id=donation_id,
                state="running",
                upload_file_id=stored.id,
            )
            db.session.add(batch)
    start_batch(batch, commit=False, user=current_user)
    return batch


def _batch(batch_id: int) -> ImportBatch:
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None:
        raise NotFound(_("No import with number %(id)s.", id=batch_id))
    return batch


@imports_bp.route("/<int:batch_id>")
@requires("imports.run")
def detail(batch_id: int):
    batch = _batch(batch_id)
    job = live_job(f"import:{batch.id}")
    return render_template(
        "imports/detail.html",
        batch=batch,
        file_kept=batch.upload_file_id is not None,
        job=job,
        needs_choice=offers_needs_from_pupils(batch),
        **_columns(batch),
    )


def _columns(batch: ImportBatch) -> dict:
    """What the preview says of the file's columns: the fields offered for a column nobody
    recognised (not one the file already has), each field's words, the choices applied."""
    fields = column_fields(batch.kind)
    labels = dict(fields)
    chosen = (batch.options or {}).get("columns") or {}
    applied = {h: k for h, k in chosen.items() if k and h in (batch.columns_read or {})}
    return {
        "fields": sorted(fields, key=lambda field: field[1].casefold()),
        "field_labels": labels,
        "taken": set((batch.columns_read or {}).values()),
        "chosen": chosen,
        "remembered": ", ".join(f"{h} → {labels.get(k, k)}" for h, k in applied.items())
        if (batch.options or {}).get("remembered")
        else "",
    }


@imports_bp.route("/<int:batch_id>/commit", methods=["POST"])
@requires("imports.run")
def commit(batch_id: int):
    batch = _batch(batch_id)
    if batch.state == "running":
        flash(_("This file is still being read; wait for it to finish."), "info")
    elif batch.committed:
        flash(_("This file was already imported."), "info")
    elif batch.rows_rejected or batch.state == "failed":
        flash(_("This file has problems; correct them and upload it again."), "error")
    elif batch.upload_file_id is None:
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
        start_batch(batch, commit=True, user=current_user)
    return redirect(url_for("imports.detail", batch_id=batch_id))


@imports_bp.route("/<int:batch_id>/columns", methods=["POST"])
@requires("imports.run")
def columns(batch_id: int):
    """What the user says the file's unrecognised columns hold: the file is checked again
    with it, and it is remembered for the next file with the same headers."""
    batch = _batch(batch_id)
    chosen = {
        header: request.form.get(f"column-{index}", "")[:40]
        for index, header in enumerate(batch.unknown_columns)
        if f"column-{index}" in request.form
    }
    return _check_again(batch, lambda: choose_columns(batch, chosen, actor=current_user), "columns")


@imports_bp.route("/<int:batch_id>/closest", methods=["POST"])
@requires("imports.run")
def closest(batch_id: int):
    """The places the user says are the closest school the preview offered: the file is
    checked again reading them so (and imported so)."""
    batch = _batch(batch_id)
    places = request.form.getlist("place")[:500]
    return _check_again(batch, lambda: accept_closest(batch, places), "closest")


def _check_again(batch: ImportBatch, change, anchor: str):
    """Keep what the user said of a previewed file (`change`), then check it again (the
    check reads the upload, kept until the commit)."""
    back = url_for("imports.detail", batch_id=batch.id)
    if batch.upload_file_id is None:
        flash(_("The uploaded file is no longer kept; upload it again."), "error")
        return redirect(back)
    try:
        with transaction():
            change()
    except ValidationFailed as error:
        flash(str(error), "error")
        return redirect(f"{back}#{anchor}")
    start_batch(batch, commit=False, user=current_user)
    return redirect(back)


@imports_bp.route("/<int:batch_id>/problems.xlsx")
@requires("imports.run")
def problems(batch_id: int):
    batch = _batch(batch_id)
    if batch.upload_file_id is None:
        flash(_("The uploaded file is no longer kept; upload it again."), "error")
        return redirect(url_for("imports.detail", batch_id=batch_id))
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="tracker-problems-") as folder:
        stored = Path(folder) / f"upload{Path(batch.filename).suffix.lower()[:10]}"
        copy_to(batch.upload_file_id, stored)
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


def _started(job):
    """The page that follows a job just started (it shows the file when ready)."""
    return redirect(url_for("jobs.detail", job_id=job.id))


@exports_bp.route("/devices.xlsx", methods=["POST"])
@requires("exports.read")
def devices():
    return _started(start_from_request("exports.devices", user=current_user, title="devices.xlsx"))


@exports_bp.route("/schools.xlsx", methods=["POST"])
@requires("exports.read")
def schools():
    return _started(start_from_request("exports.schools", user=current_user, title="schools.xlsx"))


@exports_bp.route("/history.xlsx", methods=["POST"])
@requires("exports.read")
def history():
    return _started(start_from_request("exports.history", user=current_user, title="history.xlsx"))


@workbooks_bp.route("/plans/<int:plan_id>/allocations.xlsx", methods=["POST"])
@requires("exports.read")
def plan_allocations(plan_id: int):
    """A plan's allocation workbook: by school, by region, and its devices."""
    plan = get_plan(plan_id)
    job = start_from_request(
        "exports.allocations",
        user=current_user,
        title=f"allocations-plan-{plan.id}.xlsx",
        plan_id=plan.id,
    )
    return _started(job)


@workbooks_bp.route("/deliveries/<int:delivery_id>/manifest.xlsx", methods=["POST"])
@requires("exports.own")
def delivery_manifest(delivery_id: int):
    """One delivery's manifest for a team on paper (received yes/no, reasons, hand-over)."""
    try:
        delivery = delivery_for(current_user, delivery_id, lines=False)
    except DomainError:
        abort(404)
    job = start_from_request(
        "exports.manifest",
        user=current_user,
        title=f"{delivery.reference}-manifest.xlsx",
        delivery_id=delivery.id,
    )
    return _started(job)


@workbooks_bp.route("/deliveries/mine/manifest.xlsx", methods=["POST"])
@requires("exports.own")
def my_manifest():
    """All of the signed-in agent's deliveries still under way, for a day on paper."""
    if not manifest_deliveries(agent=current_user):
        flash(_("You have no delivery under way."), "error")
        return redirect(url_for("deliveries.index"))
    return _started(
        start_from_request("exports.manifest", user=current_user, title="manifest.xlsx")
    )


@workbooks_bp.route("/schools/<int:school_id>/borrowers/import", methods=["POST"])
@requires("borrowers.write")
def class_list(school_id: int):
    """A school's class list, read and checked whole, then written whole, or not at all: the
    problems are shown by row and column."""
    school = school_in_reach(current_user, school_id)
    form = ClassListForm()
    back = url_for("loans.borrowers", school_id=school.id)
    upload = form.file.data if form.validate_on_submit() else None
    if not upload or not upload.filename:
        flash(_("Choose the class list's file first."), "error")
        return redirect(back + "#class-list")
    with tempfile.NamedTemporaryFile(prefix="tracker-class-list-") as temporary:
        upload.save(temporary)
        temporary.flush()
        try:
            report = committed(
                lambda: run_import(
                    BorrowerImporter(school.id),
                    Path(temporary.name),
                    upload.filename,
                    commit=True,
                )
            )
        except (UnusableFile, DomainError) as error:
            flash(str(error), "error")
            return redirect(back + "#class-list")
    if report.committed:
        flash(report.summary(), "success")
        return redirect(back)
    return render_template("loans/class_list_problems.html", school=school, report=report), 422


@workbooks_bp.route("/schools/<int:school_id>/borrowers/class-list.xlsx")
@requires("borrowers.write")
def class_list_template_file(school_id: int):
    school_in_reach(current_user, school_id)
    return send_file(
        io.BytesIO(class_list_template()),
        mimetype=XLSX,
        as_attachment=True,
        download_name="class-list.xlsx",
    )
