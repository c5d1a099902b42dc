"""The donor report's downloads: a workbook and a PDF summary for one donation."""

import io
import tempfile
from pathlib import Path

from flask import Blueprint, send_file

from tracker.auth.permissions import requires
from tracker.donations import services
from tracker.reports.donor import donor_pdf, donor_workbook

bp = Blueprint("reports", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/donations/<int:donation_id>/report.<any(xlsx, pdf):kind>")
@requires("reports.read")
def donor_report(donation_id: int, kind: str):
    """The donor report: where every tablet of the donation went, and the proofs."""
    donation = services.get_donation(donation_id)
    name = f"donor-report-{donation.reference}.{kind}"
    if kind == "pdf":
        data = donor_pdf(donation.id)
        return send_file(io.BytesIO(data), mimetype="application/pdf", download_name=name)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        donor_workbook(path, donation.id)
        data = path.read_bytes()
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=name)
