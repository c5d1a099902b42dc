"""Which part of the programme each person works in: the page an admin of the whole
programme gives it on (tracker.schools.reach holds the rule)."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import TextAreaField

from tracker.auth.permissions import requires
from tracker.auth.services import get_user
from tracker.forms import Form
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.schools import areas as given_areas
from tracker.web import run_service

bp = Blueprint("offices", __name__, url_prefix="/admin/users")


class AreasForm(Form):
    areas = TextAreaField(
        _l("Regions or provinces (one per line; empty: the whole programme)"),
        render_kw={"rows": 4, "dir": "auto"},
    )


@bp.route("/<int:user_id>/areas", methods=["GET", "POST"])
@requires("users.manage")
def areas(user_id: int):
    user = get_user(user_id)
    form = AreasForm()
    if not form.is_submitted():
        form.areas.data = given_areas.areas_text(user.areas or [])
    if form.validate_on_submit():
        saved = run_service(
            form,
            lambda: given_areas.set_areas(
                user.id, given_areas.parse_areas(form.areas.data), current_user
            ),
        )
        if saved:
            flash(_("%(email)s's part of the programme saved.", email=saved.email), "success")
            return redirect(url_for("admin.user_edit", user_id=saved.id))
    status = 400 if form.errors else 200
    return render_template(
        "auth/areas.html", form=form, user=user, known=given_areas.known_areas()
    ), status
