"""Label sheets: choose devices and a label stock, download the PDF or a test page."""

from flask import Blueprint, make_response, render_template, request

from tracker.auth.permissions import requires
from tracker.devices.queries import DeviceFilters, count_devices
from tracker.devices.views import device_filters_from_request
from tracker.errors import ValidationFailed
from tracker.i18n import gettext as _
from tracker.labels import services
from tracker.labels.forms import LabelOptionsForm
from tracker.labels.sheets import LAYOUTS, render_labels, render_test_page

bp = Blueprint("labels", __name__, url_prefix="/labels")


def _selection() -> tuple[list[int], DeviceFilters]:
    ids = [int(value) for value in request.args.getlist("device") if value.isdigit()][:5000]
    filters, _school_code, _unknown = device_filters_from_request()
    return ids, filters


def _options() -> LabelOptionsForm:
    form = LabelOptionsForm(formdata=request.args)
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
    chosen = len(ids) if ids else count_devices(filters.conditions())
    return render_template(
        "labels/index.html", form=form, ids=ids, filters=filters, chosen=chosen, layouts=LAYOUTS
    )


@bp.route("/sheet.pdf")
@requires("labels.print")
def sheet():
    ids, filters = _selection()
    form = _options()
    layout = services.choose_layout(form.layout.data)
    labels = services.labels_for(filters, ids)
    if not labels:
        raise ValidationFailed(_("No device is chosen: there is nothing to print."))
    content = render_labels(
        labels,
        layout,
        start=form.start.data or 1,
        offset_x=float(form.offset_x.data or 0),
        offset_y=float(form.offset_y.data or 0),
    )
    return _pdf(content, f"labels-{layout.name}-{len(labels)}.pdf")


@bp.route("/test-page.pdf")
@requires("labels.print")
def test_page():
    form = _options()
    layout = services.choose_layout(form.layout.data)
    content = render_test_page(
        layout, offset_x=float(form.offset_x.data or 0), offset_y=float(form.offset_y.data or 0)
    )
    return _pdf(content, f"test-page-{layout.name}.pdf")
