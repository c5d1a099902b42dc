"""Donation pages: list, detail with device counts, create and edit; the donor's people
and the donation's open figures (the national office's)."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from tracker.auth.permissions import can, requires
from tracker.donations import donors, services
from tracker.donations.forms import DonationForm, InviteDonorForm, WarrantyForm
from tracker.figures import figure
from tracker.i18n import gettext as _
from tracker.web import run_service

bp = Blueprint("donations", __name__, url_prefix="/donations")


@bp.route("/")
@requires("donations.read")
def index():
    reach = figure("reader_reach")
    return render_template(
        "donations/index.html", rows=services.list_donations(reach), whole=reach.whole
    )


@bp.route("/<int:donation_id>")
@requires("donations.read")
def detail(donation_id: int):
    return _detail(donation_id)


def _detail(donation_id: int, invite_form=None, new_link: str = "", status: int = 200):
    donation = services.get_donation(donation_id)
    # (A regional office counts its own tablets of the donation: tracker.schools.reach.)
    reach = figure("reader_reach")
    counts = figure("tablets_by_state", donation_id=donation.id, reach=reach)
    warranty = None
    if can(current_user, "devices.write"):
        warranty = WarrantyForm(formdata=None)
        warranty.model.choices = [
            SelectChoice(model, f"{model or '—'} ({n})")
            for model, n in figure("models_of_donation", donation.id, reach)
        ]
    may_invite = reach.whole and can(current_user, "donors.invite")
    contacts = donors.contacts_of(donation.donor_id) if may_invite else []
    return render_template(
        "donations/detail.html",
        donation=donation,
        counts=counts,
        registered=sum(counts.values()),
        warranty=warranty,
        whole=reach.whole,
        contacts=contacts,
        pending=donors.pending_ids(contacts),
        # (The e-mail's language: the inviter's own, to start with.)
        invite_form=(invite_form or InviteDonorForm(language=str(get_locale())))
        if may_invite
        else None,
        new_link=new_link,
        open_link=(
            f"{current_app.config['BASE_URL']}{url_for('open.page', key=donation.public_key)}"
            if donation.public_key
            else ""
        ),
    ), status


@bp.route("/<int:donation_id>/contacts", methods=["POST"])
@requires("donors.invite")
def invite_contact(donation_id: int):
    """Invite one of the donor's people: the one-time link goes by e-mail and is shown here
    once, to be passed on by hand where e-mail does not reach."""
    services.require_national_office()
    form = InviteDonorForm()
    if form.validate_on_submit():
        done = run_service(
            form,
            lambda: donors.invite_contact(
                current_user, donation_id, form.email.data, form.name.data, form.language.data
            ),
        )
        if done:
            user, link = done
            flash(_("%(email)s is invited: the link went by e-mail.", email=user.email), "success")
            return _detail(donation_id, new_link=link)
    return _detail(donation_id, invite_form=form, status=400)


@bp.route("/<int:donation_id>/contacts/<int:user_id>/remove", methods=["POST"])
@requires("donors.invite")
def remove_contact(donation_id: int, user_id: int):
    services.require_national_office()
    user = run_service(None, lambda: donors.remove_contact(current_user, donation_id, user_id))
    if user is not None:
        flash(_("%(email)s no longer reads this donor's donations.", email=user.email), "success")
    return redirect(url_for("donations.detail", donation_id=donation_id))


@bp.route("/<int:donation_id>/open-figures", methods=["POST"])
@requires("donors.open_figures")
def open_figures(donation_id: int):
    """Open the donation's public figures (a new link), or close them (the link ends)."""
    services.require_national_office()
    wanted = request.form.get("open") == "1"
    done = run_service(
        None, lambda: donors.set_open_figures(current_user, donation_id, open_=wanted)
    )
    if done is not None:
        flash(
            _("Its figures are open: anyone with the link reads them.")
            if wanted
            else _("Its figures are closed: the link opens nothing."),
            "success",
        )
    return redirect(url_for("donations.detail", donation_id=donation_id))


def _save(form, donation_id=None):
    values = dict(
        reference=form.reference.data,
        donor_name=form.donor.data,
        received_on=form.received_on.data,
        quantity=form.quantity.data,
        title=form.title.data,
        notes=form.notes.data,
    )
    if donation_id is None:
        return run_service(form, lambda: services.create_donation(**values))
    return run_service(form, lambda: services.update_donation(donation_id, **values))


@bp.route("/new", methods=["GET", "POST"])
@requires("donations.write")
def create():
    services.require_national_office()
    form = DonationForm()
    if form.validate_on_submit() and (donation := _save(form)):
        flash(_("Donation %(ref)s recorded.", ref=donation.reference), "success")
        return redirect(url_for("donations.detail", donation_id=donation.id))
    return render_template("donations/form.html", form=form, donation=None)


@bp.route("/<int:donation_id>/edit", methods=["GET", "POST"])
@requires("donations.write")
def edit(donation_id: int):
    services.require_national_office()
    donation = services.get_donation(donation_id)
    form = DonationForm(obj=donation)
    if not form.is_submitted():
        form.donor.data = donation.donor.name
        form.quantity.data = donation.quantity_promised
    if form.validate_on_submit() and _save(form, donation.id):
        flash(_("Donation %(ref)s saved.", ref=donation.reference), "success")
        return redirect(url_for("donations.detail", donation_id=donation.id))
    return render_template("donations/form.html", form=form, donation=donation)
