"""The depots' page: each depot in reach with its stock, and a form to add one."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from tracker.auth.permissions import can, requires
from tracker.devices import depots
from tracker.devices.states import STATUS_LABELS
from tracker.forms import Form
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.schools.reach import my_reach
from tracker.schools.services import regions_and_provinces
from tracker.web import run_service, template_helpers

bp = Blueprint("depots", __name__, url_prefix="/depots")
template_helpers(depot_label=depots.depot_label)


class DepotForm(Form):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=30)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    region = StringField(
        _l("Region"),
        validators=[DataRequired(), Length(max=100)],
        render_kw={"list": "depot-regions", "autocomplete": "off"},
    )
    province = StringField(
        _l("Province (optional)"),
        validators=[Length(max=100)],
        render_kw={"list": "depot-provinces", "autocomplete": "off"},
    )
    address = TextAreaField(_l("Address"), validators=[Length(max=300)])


@bp.route("/", methods=["GET", "POST"])
@requires("depots.read")
def index():
    reach = my_reach()
    form = DepotForm()
    if form.validate_on_submit() and can(current_user, "depots.manage"):
        depot = run_service(
            form,
            lambda: depots.create_depot(
                code=form.code.data,
                name=form.name.data,
                region=form.region.data,
                province=form.province.data or "",
                address=form.address.data or "",
                actor=current_user,
            ),
        )
        if depot:
            flash(_("Depot %(code)s added.", code=depot.code), "success")
            return redirect(url_for("depots.index"))
    status = 400 if form.errors else 200
    return render_template(
        "devices/depots.html",
        depots=depots.depots_in(reach),
        stock=depots.stock_by_depot(reach),
        states=STATUS_LABELS,
        form=form,
        regions=regions_and_provinces(reach),
    ), status
