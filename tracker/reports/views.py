"""The donor report's downloads: a workbook and a PDF summary for one donation, made by a
worker (a national donation's workbook takes minutes) and kept in the reader's downloads."""

import io
import tempfile

from flask import Blueprint, redirect, url_for
from flask_login import current_user

from tracker.auth.permissions import Forbidden, requires
from tracker.counts.services import get_count
from tracker.donations import services
from tracker.i18n import gettext as _
from tracker.jobs.services import Output, Progress, job_kind, start_from_request
from tracker.reports.counts import count_pdf, count_workbook
from tracker.reports.donor import donor_pdf, donor_workbook
from tracker.schools.reach import my_reach

bp = Blueprint("reports", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/donations/<int:donation_id>/report.<any(xlsx, pdf):kind>", methods=["POST"])
@requires("reports.read")
def donor_report(donation_id: int, kind: str):
    """The donor report: where every tablet of the donation went, and the proofs (the whole
    programme's: a regional office reads its part on the donation's page)."""
    if not my_reach().whole:
        raise Forbidden(
            _("The donor report covers the whole programme: the national office makes it.")
        )
    donation = services.get_donation(donation_id)
    job = start_from_request(
        "reports.donor",
        user=current_user,
        title=f"donor-report-{donation.reference}.{kind}",
        donation_id=donation.id,
        file_kind=kind,
    )
    return redirect(url_for("jobs.detail", job_id=job.id))


@job_kind("reports.donor")
def donor_report_job(params: dict, progress: Progress) -> Output:
    donation = services.get_donation(params["donation_id"])
    name = f"donor-report-{donation.reference}.{params['file_kind']}"
    # The donor's own copy (asked from the donor's page) names no one.
    people = params.get("people", True)
    if params["file_kind"] == "pdf":
        return Output(name, "application/pdf", io.BytesIO(donor_pdf(donation.id, people=people)))
    # Closed by the job once stored.
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    donor_workbook(out, donation.id, people=people)
    return Output(name, XLSX, out)


@bp.route("/counts/<int:count_id>/report.<any(xlsx, pdf):kind>", methods=["POST"])
@requires("counts.report")
def count_report(count_id: int, kind: str):
    """A count's report: each school's figures, what was not found, what was unexpected."""
    count = get_count(count_id)
    job = start_from_request(
        "reports.count",
        user=current_user,
        title=f"count-{count.id}.{kind}",
        count_id=count.id,
        file_kind=kind,
    )
    return redirect(url_for("jobs.detail", job_id=job.id))


@job_kind("reports.count")
def count_report_job(params: dict, progress: Progress) -> Output:
    count = get_count(params["count_id"])
    name = f"count-{count.id}.{params['file_kind']}"
    if params["file_kind"] == "pdf":
        return Output(name, "application/pdf", io.BytesIO(count_pdf(count.id)))
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    count_workbook(out, count.id)
    return Output(name, XLSX, out)
