"""The donor's own pages, read only: their donations, and what each became (progress,
reach, regions and the map, hand-overs, alerts), with the donor report made on demand. The
national office opens the same page to see what the donor sees."""

from flask import Blueprint, current_app, jsonify, redirect, render_template, send_file, url_for
from flask_login import current_user

from tracker.auth.permissions import requires
from tracker.deliveries import documents
from tracker.deliveries.receipts import PROOFS
from tracker.donations import donors
from tracker.jobs.services import start_from_request
from tracker.reports import (
    donor_mail,  # noqa: F401  (registers the monthly letters)
    donor_view,
)
from tracker.web import labeller, template_helpers

bp = Blueprint("donors", __name__, url_prefix="/donor")
template_helpers(proof_label=labeller(PROOFS))


@bp.route("/")
@requires("donor.home")
def home():
    """A donor's donations, each with its headline figures."""
    return render_template(
        "donors/home.html",
        donor=donors.donor_of(current_user),
        rows=donor_view.donations_summary(current_user.donor_id),
    )


@bp.route("/donations/<int:donation_id>")
@requires("donors.view")
def donation(donation_id: int):
    found = donors.donation_for(current_user, donation_id)
    return render_template(
        "donors/donation.html",
        view=donor_view.donor_view(found),
        tiles=current_app.config.get("MAP_TILES", ""),
    )


@bp.route("/donations/<int:donation_id>/schools.json")
@requires("donors.view")
def school_points(donation_id: int):
    """The schools the donation reached, for its map (one statement)."""
    found = donors.donation_for(current_user, donation_id)
    return jsonify(schools=donor_view.school_points(found.id))


@bp.route("/donations/<int:donation_id>/proofs/<int:hand_over>.pdf")
@requires("donors.view")
def proof(donation_id: int, hand_over: int):
    """A hand-over's proof of delivery as the donor reads it: their tablets, when, to which
    school, how it was confirmed; no one named, no signature, no photo. (Checked against
    the donation, not an office's reach: the parameter is not a `delivery_id`.)"""
    found = donors.donation_for(current_user, donation_id)
    delivery = donor_view.hand_over_of(found.id, hand_over)
    data = documents.receipt(delivery, donation_id=found.id)
    return send_file(
        documents.as_file(data),
        mimetype="application/pdf",
        download_name=f"{delivery.reference}-{found.reference}.pdf",
    )


@bp.route("/donations/<int:donation_id>/report.<any(xlsx, pdf):kind>", methods=["POST"])
@requires("donors.view")
def report(donation_id: int, kind: str):
    """The donor's copy of the donor report (no one named), made by a worker in the reader's
    language, kept in their downloads."""
    found = donors.donation_for(current_user, donation_id)
    job = start_from_request(
        "reports.donor",
        user=current_user,
        title=f"donor-report-{found.reference}.{kind}",
        donation_id=found.id,
        file_kind=kind,
        people=False,  # the donor's own copy: no one named (reports/donor.py)
    )
    return redirect(url_for("jobs.detail", job_id=job.id))
