"""Donation pages: list, detail with device counts, create and edit."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from tracker.auth.permissions import can, requires
from tracker.donations import services
from tracker.donations.forms import DonationForm, WarrantyForm
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
    return render_template(
        "donations/detail.html",
        donation=donation,
        counts=counts,
        registered=sum(counts.values()),
        warranty=warranty,
        whole=reach.whole,
    )


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
