"""The pages of moves between depots: the list with a form to start one, and a move's page
where it is packed, sent and received by scans."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from tracker.auth.permissions import requires
from tracker.deliveries import moves
from tracker.devices.depots import depot_label, depots_in
from tracker.extensions import db
from tracker.forms import Form
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.schools.reach import my_reach
from tracker.web import labeller, run_service, template_helpers

bp = Blueprint("moves", __name__, url_prefix="/moves")

MOVE_STATUS_LABELS = {
    "packing": _l("Being packed"),
    "on_the_way": _l("On the way"),
    "received": _l("Received"),
    "cancelled": _l("Cancelled"),
}
template_helpers(move_status_label=labeller(MOVE_STATUS_LABELS))


class MoveForm(Form):
    from_depot_id = SelectField(_l("From the depot"), coerce=int, validate_choice=False)
    to_depot_id = SelectField(_l("To the depot"), coerce=int, validate_choice=False)
    notes = TextAreaField(_l("Notes"), validators=[Length(max=2000)])


class ScanForm(Form):
    code = StringField(
        _l("Scan or type: asset tag, serial, IMEI"),
        validators=[DataRequired(), Length(max=300)],
        render_kw={"autocomplete": "off", "autocapitalize": "off", "enterkeyhint": "go"},
    )


class ActionForm(Form):
    pass


@bp.route("/", methods=["GET", "POST"])
@requires("moves.read")
def index():
    reach = my_reach()
    form = MoveForm()
    choices = [(depot.id, depot_label(depot)) for depot in depots_in(reach)]
    form.from_depot_id.choices = form.to_depot_id.choices = choices
    if form.validate_on_submit():
        move = run_service(
            form,
            lambda: moves.create_move(
                from_depot_id=form.from_depot_id.data,
                to_depot_id=form.to_depot_id.data,
                actor=current_user,
                notes=form.notes.data or "",
            ),
        )
        if move:
            flash(_("Move %(ref)s started: scan its tablets.", ref=move.reference), "success")
            return redirect(url_for("moves.detail", move_id=move.id))
    which = "done" if request.args.get("list") == "done" else "open"
    page = db.paginate(moves.moves(reach, which), per_page=50, max_per_page=50, error_out=False)
    return render_template(
        "deliveries/moves.html", form=form, page=page, which=which, depots=len(choices)
    ), (400 if form.errors else 200)


def _page(move, scan=None, status=200):
    return render_template(
        "deliveries/move.html",
        move=move,
        scan=scan or ScanForm(formdata=None),
        action=ActionForm(formdata=None),
        received=sum(1 for item in move.items if item.received_at is not None),
        receiving=moves.may_receive(move, current_user),
        sending=moves.may_send(move, current_user),
        packing=moves.packing(move),
        on_the_way=moves.on_the_way(move),
    ), status


@bp.route("/<int:move_id>")
@requires("moves.read")
def detail(move_id: int):
    return _page(moves.move_for(current_user, move_id))


@bp.route("/<int:move_id>/scan", methods=["POST"])
@requires("moves.read")
def scan(move_id: int):
    """A scan at either end: packing at the first depot, receiving at the second."""
    move = moves.move_for(current_user, move_id)
    form = ScanForm()
    if form.validate_on_submit():
        packing = move.status == "packing"
        act = moves.pack if packing else moves.receive
        device = run_service(form, lambda: act(move.id, form.code.data, current_user))
        if device:
            tag = device.asset_tag
            flash(_("%(tag)s packed.", tag=tag) if packing else _("%(tag)s received.", tag=tag))
            return redirect(url_for("moves.detail", move_id=move.id) + "#scan")
    db.session.rollback()
    return _page(moves.move_for(current_user, move_id), form, 400)


def _act(move_id: int, action, done: str):
    if run_service(None, lambda: action(move_id, current_user)) is not None:
        flash(done, "success")
    return redirect(url_for("moves.detail", move_id=move_id))


@bp.route("/<int:move_id>/send", methods=["POST"])
@requires("moves.send")
def send(move_id: int):
    return _act(move_id, moves.send, _("The move is on the way."))


@bp.route("/<int:move_id>/close", methods=["POST"])
@requires("moves.receive")
def close(move_id: int):
    return _act(move_id, moves.close_missing, _("The move is closed."))


@bp.route("/<int:move_id>/cancel", methods=["POST"])
@requires("moves.create")
def cancel(move_id: int):
    return _act(move_id, moves.cancel, _("The move is cancelled."))


@bp.route("/<int:move_id>/items/<int:device_id>/unpack", methods=["POST"])
@requires("moves.pack")
def unpack(move_id: int, device_id: int):
    return _act(
        move_id,
        lambda one, actor: moves.unpack(one, device_id, actor) or True,
        _("Taken out of the move."),
    )
