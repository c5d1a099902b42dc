"""`tracker export donor-report REFERENCE FILE [--pdf FILE]`: the donor report from the
command line (a command of the export group, added by the reports); `tracker donations
send-letters`: this month's letters to the donors' people, now."""

from pathlib import Path

import click
from flask.cli import with_appcontext

from tracker.donations.cli import donations_cli
from tracker.donations.services import find_donation
from tracker.errors import DomainError
from tracker.i18n import gettext as _
from tracker.reports.donor import donor_pdf, donor_workbook
from tracker.reports.donor_mail import send_donor_letters
from tracker.spreadsheets.cli import _xlsx_path, export_cli


@export_cli.command("donor-report")
@click.argument("reference")
@click.argument("file")
@click.option("--pdf", "pdf_file", help="Also write the PDF summary to this file.")
@with_appcontext
def export_donor_report_command(reference, file, pdf_file):
    """The donor report of donation REFERENCE: where each tablet went, with the proofs."""
    try:
        donation = find_donation(reference)
    except DomainError as error:
        raise click.ClickException(str(error)) from error
    path = _xlsx_path(file)
    data = donor_workbook(path, donation.id)
    if pdf_file:
        Path(pdf_file).write_bytes(donor_pdf(donation.id))
    click.echo(
        _(
            "Wrote %(path)s: %(n)s tablets, %(delivered)s delivered to %(schools)s schools.",
            path=path,
            n=data.registered,
            delivered=data.delivered,
            schools=data.schools_reached,
        )
    )


@donations_cli.command("send-letters")
@with_appcontext
def send_letters_command():
    """Queue this month's letters to each donor's people now (each donation's figures, its
    PDF report, the link to the live page), even if they were sent already."""
    queued = send_donor_letters(force=True)
    click.echo(_("Letters queued: %(n)s.", n=queued))
