"""Label sheets: choose devices and a label stock, download the PDF or a test page."""

import io

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from tracker.auth.permissions import requires
from tracker.database import as_id
from tracker.devices.queries import DeviceFilters, count_filtered
from tracker.devices.views import device_filters_from_request
from tracker.errors import ValidationFailed
from tracker.i18n import gettext as _
from tracker.jobs.services import Output, Progress, job_kind, start_from_request
from tracker.labels import services
from tracker.labels.forms import LabelOptionsForm
from tracker.labels.sheets import LAYOUTS, render_labels, render_test_page

bp = Blueprint("labels", __name__, url_prefix="/labels")


def _selection() -> tuple[list[int], DeviceFilters]:
    ids = [n for n in map(as_id, request.args.getlist("device")) if n is not None][:5000]
    filters, _school_code, _unknown = device_filters_from_request()
    return ids, filters


def _options() -> LabelOptionsForm:
    form = LabelOptionsForm(formdata=request.values)
    if not form.validate():
        raise ValidationFailed(
            " ".join(
                f"{form[name].label.text}: {' '.join(errors)}"
                for name, errors in form.errors.items()
            )
        )
    return form


def _pdf(content: bytes, filename: str):
    response = make_response(content)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/")
@requires("labels.print")
def index():
    ids, filters = _selection()
    form = LabelOptionsForm(formdata=request.args if "layout" in request.args else None)
    chosen = len(ids) if ids else count_filtered(filters)
    return render_template(
        "labels/index.html", form=form, ids=ids, filters=filters, chosen=chosen, layouts=LAYOUTS
    )


@bp.route("/sheet.pdf", methods=["POST"])
@requires("labels.print")
def sheet():
    """Queue the sheet (a worker draws it, any size); its page follows it."""
    _options()
    job = start_from_request("labels.sheet", user=current_user, title="labels.pdf")
    return redirect(url_for("jobs.detail", job_id=job.id))


@job_kind("labels.sheet")
def sheet_job(params: dict, progress: Progress) -> Output:
    ids, filters = _selection()
    form = _options()
    layout = services.choose_layout(form.layout.data)
    labels = services.labels_for(filters, ids)
    if not labels:
        raise ValidationFailed(_("No device is chosen: there is nothing to print."))
    progress.expect(len(labels))
    content = render_labels(
        labels,
        layout,
        start=form.start.data or 1,
        offset_x=float(form.offset_x.data or 0),
        offset_y=float(form.offset_y.data or 0),
    )
    return Output(f"labels-{layout.name}-{len(labels)}.pdf", "application/pdf", io.BytesIO(content))


@bp.route("/test-page.pdf")
@requires("labels.print")
def test_page():
    form = _options()
    layout = services.choose_layout(form.layout.data)
    content = render_test_page(
        layout, offset_x=float(form.offset_x.data or 0), offset_y=float(form.offset_y.data or 0)
    )
    return _pdf(content, f"test-page-{layout.name}.pdf")
