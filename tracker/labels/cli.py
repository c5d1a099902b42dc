"""`tracker labels FILE.pdf [--donation REF] [--state STATE] [--school CODE] [--layout NAME]`."""

from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from tracker.devices.models import STATUSES
from tracker.devices.queries import DeviceFilters
from tracker.donations.services import find_donation
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.jobs.services import progress_on_terminal
from tracker.labels import services
from tracker.labels.sheets import LAYOUTS, render_labels, render_test_page
from tracker.schools.models import School


@click.command("labels")
@click.argument("output", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--donation", "reference", help="Only this donation's devices (its reference).")
@click.option(
    "--state", "--status", "state", type=click.Choice(STATUSES), help="Only devices in this state."
)
@click.option("--school", "school_code", help="Only devices reserved for or at this school.")
@click.option("--layout", type=click.Choice(list(LAYOUTS)), default="a4-3x7", show_default=True)
@click.option(
    "--start",
    type=click.IntRange(1, 200),
    default=1,
    show_default=True,
    help="First free label on a partly used sheet.",
)
@click.option(
    "--offset-x",
    type=click.FloatRange(-20, 20),
    default=0.0,
    help="Shift right in mm (negative: left) for a printer that prints off-centre.",
)
@click.option(
    "--offset-y",
    type=click.FloatRange(-20, 20),
    default=0.0,
    help="Shift down in mm (negative: up).",
)
@click.option("--test-page", is_flag=True, help="Only the label outlines, to check alignment.")
@with_appcontext
def labels_command(
    output, reference, state, school_code, layout, start, offset_x, offset_y, test_page
):
    """Write a printable sheet of QR labels to OUTPUT (a PDF)."""
    chosen = LAYOUTS[layout]
    if test_page:
        output.write_bytes(render_test_page(chosen, offset_x=offset_x, offset_y=offset_y))
        click.echo(
            _("Wrote a test page for %(stock)s to %(path)s.", stock=chosen.title, path=output)
        )
        return
    try:
        filters = DeviceFilters(status=state or "")
        if reference:
            filters.donation_id = find_donation(reference).id
        if school_code:
            school_id = db.session.scalar(
                sa.select(School.id).where(School.code == school_code.strip().upper())
            )
            if school_id is None:
                raise click.ClickException(_("No school has the code %(code)s.", code=school_code))
            filters.school_id = school_id
        labels = services.labels_for(filters)
    except DomainError as error:
        raise click.ClickException(str(error)) from error
    if not labels:
        raise click.ClickException(_("No device matches: nothing to print."))
    with progress_on_terminal(_("Drawing labels"), len(labels)):
        content = render_labels(labels, chosen, start=start, offset_x=offset_x, offset_y=offset_y)
    output.write_bytes(content)
    pages = -(-(start - 1 + len(labels)) // chosen.per_page)
    click.echo(
        _(
            "Wrote %(n)s labels on %(pages)s page(s) (%(stock)s) to %(path)s.",
            n=len(labels),
            pages=pages,
            stock=chosen.title,
            path=output,
        )
    )
