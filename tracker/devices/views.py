"""Device pages: the searchable list, detail with history, create/edit, state moves, /d/<token>."""

from functools import cache

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from tracker.auth.permissions import can, requires
from tracker.database import as_id
from tracker.devices import services
from tracker.devices.codes import resolve_code
from tracker.devices.depots import depot_label, depots_in
from tracker.devices.forms import DeviceForm, MoveForm, PickedForm, ReplaceLabelForm
from tracker.devices.identity import device_url
from tracker.devices.models import STATUSES, Device, DeviceEvent
from tracker.devices.queries import DeviceFilters, list_devices
from tracker.devices.states import (
    CONDITION_LABELS,
    EVENT_LABELS,
    STATUS_LABELS,
    event_note,
    moves_from,
)
from tracker.donations.forms import WarrantyForm, donation_choices
from tracker.donations.models import Donation
from tracker.extensions import db
from tracker.figures import figure, provides
from tracker.i18n import gettext as _
from tracker.i18n import ngettext
from tracker.qr import qr_png, qr_svg
from tracker.schools.models import School
from tracker.schools.reach import my_reach
from tracker.web import labeller, run_service, template_helpers, whole_number

bp = Blueprint("devices", __name__, url_prefix="/devices")
scan_bp = Blueprint("scan", __name__)
# Moves a coordinator makes from the device page; reservations, dispatch and delivery are
# made by plans and deliveries.
DESK_MOVES = (
    "released",
    "returned",
    "restocked",
    "reported_faulty",
    "repaired",
    "reported_lost",
    "found",
)
HISTORY_LIMIT = 200
# The words templates show for this feature's codes.
template_helpers(
    status_label=labeller(STATUS_LABELS),
    event_label=labeller(EVENT_LABELS),
    condition_label=labeller(CONDITION_LABELS),
    event_note=event_note,
)


def page_loads() -> tuple:
    """What a device's page shows beside the device itself, loaded in the same statement.
    (Built when asked: building it configures the mappers, which needs every model.)"""
    return (
        sa.orm.joinedload(Device.donation).joinedload(Donation.donor),
        sa.orm.joinedload(Device.school),
    )


def _int_arg(name: str) -> int | None:
    return request.args.get(name, type=whole_number)


def device_filters_from_request() -> tuple[DeviceFilters, str, bool]:
    """The device filters in the query string (shared by the list, labels and exports).

    Returns the filters, the school code typed, and whether that code matched no school.
    """
    school_id = _int_arg("school")
    school_code = request.args.get("school_code", "").strip().upper()[:30]
    unknown_school = False
    reach = my_reach()
    if school_code and school_id is None:
        school_id = db.session.scalar(
            sa.select(School.id).where(School.code == school_code, reach.school_rows_clause())
        )
        unknown_school = school_id is None
    elif school_id is not None and not reach.covers_school_id(school_id):
        unknown_school, school_id = True, None  # another office's school: as if unknown
    status = request.args.get("status", "")
    filters = DeviceFilters(
        reach=reach,
        q=request.args.get("q", "")[:200],
        status=status if status in STATUSES else "",
        donation_id=_int_arg("donation"),
        # An unknown code must match nothing, not everything.
        school_id=school_id or (-1 if unknown_school else None),
        depot_id=_int_arg("depot"),
        ids=tuple(picked_ids(request.args)[: services.MAX_SELECTION]),
    )
    return filters, school_code, unknown_school


def picked_ids(values) -> list[int]:
    """The tablets ticked on the list (`device=` in a form or an address)."""
    return [n for n in map(as_id, values.getlist("device")) if n is not None][:5000]


@bp.route("/")
@requires("devices.read")
def index():
    filters, school_code, unknown_school = device_filters_from_request()
    only_code = filters.q and not (filters.status or filters.donation_id or filters.school_id)
    if only_code:
        resolved = resolve_code(filters.q, filters.reach)
        if resolved.device is not None:
            return redirect(url_for("devices.detail", device_id=resolved.device.id))
        if resolved.replaced is not None:
            return render_template("devices/label_replaced.html", retired=resolved.replaced), 410
    page = list_devices(
        filters,
        sort=request.args.get("sort", "asset_tag"),
        after=request.args.get("after"),
        before=request.args.get("before"),
        page_size=current_app.config["PAGE_SIZE"],
    )
    donations = db.session.scalars(sa.select(Donation).order_by(Donation.reference)).all()
    school = db.session.get(School, filters.school_id) if filters.school_id else None
    return render_template(
        "devices/index.html",
        page=page,
        filters=filters,
        donations=donations,
        school=school,
        statuses=STATUSES,
        school_code=school_code,
        unknown_school=unknown_school,
        list_args=_list_args(filters, page.sort),
        picked=_picked_form() if can(current_user, "devices.write") else None,
    )


def _picked_form() -> PickedForm:
    form = PickedForm(formdata=None)
    form.event.choices = [SelectChoice(event, EVENT_LABELS[event]) for event in DESK_MOVES]
    return form


def _list_args(filters: DeviceFilters, sort: str) -> dict:
    """The query string that reproduces this list (for pages and label links), empties left out."""
    args = {
        "q": filters.q,
        "status": filters.status,
        "donation": filters.donation_id,
        "school": filters.school_id,
        "sort": sort if sort != "asset_tag" else None,
    }
    return {key: value for key, value in args.items() if value}


# The page's statements, built once per worker (building one costs more than SQLite takes
# to answer it) and sent with the request's values.
@cache
def _by_code() -> sa.Select:
    return sa.select(Device).where(Device.qr_token == sa.bindparam("code")).options(*page_loads())


@cache
def _history() -> sa.Select:
    return (
        sa.select(DeviceEvent)
        .where(DeviceEvent.device_id == sa.bindparam("device_id"))
        .options(sa.orm.joinedload(DeviceEvent.actor), sa.orm.joinedload(DeviceEvent.school))
        .order_by(DeviceEvent.id.desc())
        .limit(HISTORY_LIMIT)
    )


def _device_page(device: Device, move_form: MoveForm | None = None, status: int = 200):
    events = db.session.scalars(_history(), {"device_id": device.id}).all()
    if move_form is None and can(current_user, "devices.write"):
        move_form = MoveForm(formdata=None)
    if move_form is not None:
        move_form.event.choices = [SelectChoice("", _("Choose an action…"))] + [
            SelectChoice(event, EVENT_LABELS[event])
            for event in moves_from(device.status)
            if event in DESK_MOVES
        ]
        move_form.version.data = device.version
    replace_form = ReplaceLabelForm(formdata=None) if can(current_user, "devices.write") else None
    # Its repair cases (tracker.repairs), for who follows them.
    cases = figure("repair_cases_of", device.id) if can(current_user, "repairs.read") else []
    return render_template(
        "devices/detail.html",
        device=device,
        events=events,
        move_form=move_form,
        replace_form=replace_form,
        cases=cases,
        # A reserved tablet found faulty before it left can be swapped for another.
        swappable=device.status == "reserved" and device.allocation_id is not None,
        history_limit=HISTORY_LIMIT,
    ), status


@bp.route("/<int:device_id>")
@requires("devices.read")
def detail(device_id: int):
    return _device_page(services.get_device(device_id, *page_loads()))


@bp.route("/picked", methods=["POST"])
@requires("devices.write")
def picked():
    """What the list's ticked tablets get: one move for all of them, their labels, or
    their workbook."""
    form = PickedForm()
    form.event.choices = [SelectChoice(event, EVENT_LABELS[event]) for event in DESK_MOVES]
    ids = picked_ids(request.form)
    back = request.form.get("back", "")
    back = back if back.startswith("/devices/") else url_for("devices.index")
    if not form.validate_on_submit():
        flash(_("Choose what to do with the ticked tablets."), "error")
        return redirect(back)
    if form.labels.data:
        return redirect(url_for("labels.index", device=ids))
    if form.workbook.data:
        # 307: the browser sends this same POST (its CSRF token) on, and the export queues.
        return redirect(url_for("exports.devices", device=ids), code=307)
    note = (form.note.data or "").strip()
    moved = run_service(
        None, lambda: services.move_selection(ids, form.event.data, current_user, note)
    )
    if moved is not None:
        flash(
            ngettext(
                "%(num)s tablet: %(action)s.",
                "%(num)s tablets: %(action)s.",
                len(moved),
                action=EVENT_LABELS[form.event.data],
            ),
            "success",
        )
    return redirect(back)


@bp.route("/<int:device_id>/move", methods=["POST"])
@requires("devices.write")
def move(device_id: int):
    device = services.get_device(device_id)
    form = MoveForm()
    form.event.choices = [SelectChoice(event) for event in DESK_MOVES]
    if not form.validate_on_submit():
        return _device_page(device, form, 400)

    def apply():
        return services.move_device(
            device,
            form.event.data,
            current_user,
            expected_version=form.version.data,
            note=(form.note.data or "").strip(),
        )

    if run_service(form, apply):
        flash(
            _("%(tag)s: %(action)s.", tag=device.asset_tag, action=EVENT_LABELS[form.event.data]),
            "success",
        )
        return redirect(url_for("devices.detail", device_id=device.id))
    return _device_page(db.session.get(Device, device_id), form, 409)


def _donation_choices(form: DeviceForm) -> None:
    form.donation_id.choices = donation_choices()


@bp.route("/new", methods=["GET", "POST"])
@requires("devices.write")
def create():
    form = DeviceForm()
    _donation_choices(form)
    form.depot_id.choices = [(depot.id, depot_label(depot)) for depot in depots_in(my_reach())]
    if not form.is_submitted() and (donation_id := _int_arg("donation")):
        form.donation_id.data = donation_id
    if form.validate_on_submit():
        device = run_service(
            form,
            lambda: services.register_device(
                donation_id=form.donation_id.data,
                serial=form.serial.data,
                imei=form.imei.data,
                model=form.model.data or "",
                condition=form.condition.data,
                notes=form.notes.data or "",
                actor=current_user,
                depot_id=form.depot_id.data or None,
                **form.donor_fields(),
            ),
        )
        if device:
            flash(_("Registered %(tag)s.", tag=device.asset_tag), "success")
            return redirect(url_for("devices.detail", device_id=device.id))
    return render_template("devices/form.html", form=form, device=None)


@bp.route("/<int:device_id>/edit", methods=["GET", "POST"])
@requires("devices.write")
def edit(device_id: int):
    device = services.get_device(device_id)
    form = DeviceForm(obj=device)
    _donation_choices(form)
    if not form.is_submitted():
        form.imei.data = device.imei or ""
        form.imei2.data = device.imei2 or ""
        form.version.data = device.version
    if form.validate_on_submit():
        version = as_id(form.version.data or "") or -1
        saved = run_service(
            form,
            lambda: services.update_device(
                device.id,
                expected_version=version,
                actor=current_user,
                donation_id=form.donation_id.data,
                serial=form.serial.data,
                imei=form.imei.data,
                model=form.model.data,
                condition=form.condition.data,
                notes=form.notes.data,
                **form.donor_fields(),
            ),
        )
        if saved:
            flash(_("%(tag)s saved.", tag=saved.asset_tag), "success")
            return redirect(url_for("devices.detail", device_id=device.id))
    return render_template("devices/form.html", form=form, device=device)


@bp.route("/<int:device_id>/qr.<any(svg, png):kind>")
@requires("devices.read")
def qr_image(device_id: int, kind: str):
    """The device's QR code as SVG (for print) or PNG, cached until its label is replaced."""
    device = services.get_device(device_id)
    payload = device_url(device.qr_token)
    content = qr_svg(payload) if kind == "svg" else qr_png(payload)
    response = make_response(content)
    response.headers["Content-Type"] = "image/svg+xml" if kind == "svg" else "image/png"
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.add_etag()
    return response.make_conditional(request)


@bp.route("/<int:device_id>/replace-label", methods=["POST"])
@requires("devices.write")
def replace_label(device_id: int):
    """Give the device a new QR code; the old label then answers "this label was replaced"."""
    form = ReplaceLabelForm()
    if form.validate_on_submit() and run_service(
        None, lambda: services.replace_label(device_id, current_user, form.note.data or "")
    ):
        flash(_("New QR code made. Print the new label and stick it over the old one."), "success")
    return redirect(url_for("devices.detail", device_id=device_id))


@scan_bp.route("/d/<token>")
@requires("devices.read")
def landing(token: str):
    """What a tablet's QR code opens: that device's page, after sign-in."""
    token = token[:64]
    device = db.session.scalar(_by_code(), {"code": token})
    if device is not None and my_reach().covers_device(device.school_id, device.depot_id):
        return _device_page(device)
    retired = resolve_code(token, my_reach()).replaced
    if retired is not None:
        return render_template("devices/label_replaced.html", retired=retired), 410
    message = _("This code is not registered in the tracker.")
    return render_template("error.html", message=message, code=404), 404


provides("models_of_donation")(services.models_of)


@bp.route("/warranty/<int:donation_id>", methods=["POST"])
@requires("devices.write")
def set_warranty(donation_id: int):
    """The warranty's end for one model of a donation, from its page."""
    form = WarrantyForm()
    form.model.choices = [SelectChoice(m, m) for m, _n in services.models_of(donation_id)]
    if form.validate_on_submit():
        changed = run_service(
            None,
            lambda: services.set_warranty(
                current_user,
                donation_id,
                form.model.data,
                form.until.data,
                every=form.every.data,
            ),
        )
        if changed is not None:
            flash(
                _(
                    "Warranty until %(day)s for %(n)s tablets.",
                    day=form.until.data.strftime("%d/%m/%Y"),
                    n=changed,
                ),
                "success",
            )
    else:
        flash(
            " ".join(sum(form.errors.values(), [])) or _("Give the day the warranty ends."), "error"
        )
    return redirect(url_for("donations.detail", donation_id=donation_id) + "#warranty")
