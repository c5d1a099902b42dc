"""`tracker import devices|schools|manifest FILE [--dry-run]` and `tracker export ... FILE.xlsx`."""

import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from tracker.devices.models import STATUSES
from tracker.devices.queries import DeviceFilters, count_all_devices
from tracker.donations.services import find_donation
from tracker.errors import DomainError, ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.jobs.services import progress_on_terminal
from tracker.spreadsheets.exports import export_devices, export_history, export_schools
from tracker.spreadsheets.importers import report_lines, warning_text
from tracker.spreadsheets.readers import UnusableFile, estimate_rows, sniff
from tracker.spreadsheets.services import import_file

PROGRESS_FROM = 5000  # rows; smaller files finish before a bar would help


@click.group(
    "import",
    help="Import devices, schools or filled delivery manifests from .xlsx, .ods, .xls or .csv.",
)
def import_cli():
    pass


def _run(
    kind: str, path: Path, dry_run: bool, donation_id: int | None, options: dict | None = None
) -> None:
    try:
        estimate = estimate_rows(path, sniff(path, path.name)) or 0
    except UnusableFile as error:
        click.echo(_("Error: %(file)s: %(error)s", file=path.name, error=error), err=True)
        sys.exit(2)
    try:
        if estimate >= PROGRESS_FROM:
            with click.progressbar(
                length=estimate, label=_("Reading rows"), file=sys.stderr
            ) as bar:
                report = import_file(
                    kind,
                    path,
                    path.name,
                    commit=not dry_run,
                    actor=None,
                    donation_id=donation_id,
                    progress=bar.update,
                    options=options,
                )
        else:
            report = import_file(
                kind,
                path,
                path.name,
                commit=not dry_run,
                actor=None,
                donation_id=donation_id,
                options=options,
            )
    except (UnusableFile, ValidationFailed) as error:
        click.echo(_("Error: %(file)s: %(error)s", file=path.name, error=error), err=True)
        sys.exit(2)
    for line in report_lines(report):
        click.echo(line)
    for warning in report.warnings:
        if not (options and warning.get("code") == "no_need"):
            click.echo(_("Warning: %(text)s", text=warning_text(warning)), err=True)
    if not report.ok:
        for problem in report.problems:
            click.echo(str(problem), err=True)
        hidden = report.problem_count - len(report.problems)
        if hidden:
            click.echo(_("... and %(n)s more problems.", n=hidden), err=True)
        click.echo(
            _(
                "%(summary)s Nothing was imported: correct the rows above and import the "
                "file again.",
                summary=report.summary(),
            ),
            err=True,
        )
        sys.exit(1)
    if dry_run:
        click.echo(
            _(
                "Preview of %(file)s: %(summary)s Nothing was written (--dry-run).",
                file=path.name,
                summary=report.summary(),
            )
        )
    elif report.new + report.updated == 0:
        click.echo(
            _(
                "%(summary)s Nothing to change: every row is already in the tracker.",
                summary=report.summary(),
            )
        )
    else:
        click.echo(_("Imported %(file)s: %(summary)s", file=path.name, summary=report.summary()))


@import_cli.command("devices")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--donation",
    "reference",
    help="Donation the devices belong to (or give a Donation column in the file).",
)
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@with_appcontext
def import_devices(file, reference, dry_run):
    """Register the devices listed in FILE."""
    donation_id = None
    if reference:
        try:
            donation_id = find_donation(reference).id
        except DomainError as error:
            raise click.ClickException(str(error)) from error
    _run("devices", file, dry_run, donation_id)


@import_cli.command("manifest")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@with_appcontext
def import_manifest(file, dry_run):
    """Record the hand-overs written in a filled delivery manifest FILE."""
    _run("manifest", file, dry_run, None)


@import_cli.command("schools")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.option(
    "--need-from-enrolment",
    "pupils_per_tablet",
    type=click.IntRange(1, 1000),
    help="A list without a need column: set each school's need to one tablet for every N "
    "pupils (rounded up).",
)
@with_appcontext
def import_schools(file, dry_run, pupils_per_tablet):
    """Add the schools listed in FILE; rows whose code exists update that school."""
    options = {"pupils_per_tablet": pupils_per_tablet} if pupils_per_tablet else None
    _run("schools", file, dry_run, None, options)


@click.group("export", help="Write spreadsheets (.xlsx) for managers, donors and ministries.")
def export_cli():
    pass


def _xlsx_path(value: str) -> Path:
    path = Path(value)
    if path.suffix.lower() != ".xlsx":
        raise click.BadParameter("the file name must end in .xlsx")
    return path


@export_cli.command("devices")
@click.argument("file")
@click.option("--donation", "reference", help="Only this donation's devices.")
@click.option(
    "--state", "--status", "state", type=click.Choice(STATUSES), help="Only devices in this state."
)
@with_appcontext
def export_devices_command(file, reference, state):
    """Every device (or those of a donation or state) with its school and state."""
    path = _xlsx_path(file)
    filters = DeviceFilters(status=state or "")
    if reference:
        try:
            filters.donation_id = find_donation(reference).id
        except DomainError as error:
            raise click.ClickException(str(error)) from error
    with progress_on_terminal(_("Writing rows"), count_all_devices(filters.conditions())):
        count = export_devices(path, filters)
    click.echo(_("Wrote %(n)s devices to %(path)s.", n=count, path=path))


@export_cli.command("schools")
@click.argument("file")
@click.option("--region", default="", help="Only this region's schools.")
@with_appcontext
def export_schools_command(file, region):
    """Every school with its need and its tablets by state."""
    path = _xlsx_path(file)
    count = export_schools(path, region=region)
    click.echo(_("Wrote %(n)s schools to %(path)s.", n=count, path=path))


@export_cli.command("history")
@click.argument("file")
@with_appcontext
def export_history_command(file):
    """The whole device history: every event with its time, actor and note."""
    path = _xlsx_path(file)
    with progress_on_terminal(_("Writing rows")):
        count = export_history(path)
    click.echo(_("Wrote %(n)s events to %(path)s.", n=count, path=path))


@export_cli.command("allocations")
@click.argument("file")
@click.option(
    "--plan", "plan_id", type=int, help="Only this plan (its id); default: every approved plan."
)
@with_appcontext
def export_allocations_command(file, plan_id):
    """The allocation spreadsheet: by school, by region, and every reserved tablet."""
    from tracker.allocations.services import get_plan
    from tracker.spreadsheets.allocations import export_allocations

    path = _xlsx_path(file)
    if plan_id is not None:
        try:
            get_plan(plan_id)
        except DomainError as error:
            raise click.ClickException(str(error)) from error
    with progress_on_terminal(_("Writing rows")):
        total = export_allocations(path, plan_id=plan_id)
    click.echo(
        _(
            "Wrote %(path)s: %(schools)s schools, %(allocated)s tablets allocated, "
            "%(delivered)s delivered.",
            path=path,
            schools=total["schools"],
            allocated=total["allocated"],
            delivered=total["delivered"],
        )
    )


@export_cli.command("manifest")
@click.argument("file")
@click.option("--delivery", "delivery_ref", help="One delivery (DEL-00012 or 12).")
@click.option("--agent", "agent_email", help="Every delivery under way of this field agent.")
@with_appcontext
def export_manifest_command(file, delivery_ref, agent_email):
    """A manifest to fill in on paper or in Excel: one row per tablet to hand over."""
    from tracker.auth.models import User
    from tracker.spreadsheets.manifest import export_manifest, manifest_deliveries, parse_reference

    if bool(delivery_ref) == bool(agent_email):
        raise click.UsageError(_("Give --delivery or --agent."))
    if delivery_ref:
        delivery_id = parse_reference(delivery_ref)
        deliveries = manifest_deliveries(delivery_id=delivery_id) if delivery_id else []
    else:
        agent = db.session.scalar(sa.select(User).where(User.email == agent_email.lower()))
        if agent is None:
            raise click.ClickException(_("No user %(email)s.", email=agent_email))
        deliveries = manifest_deliveries(agent=agent)
    if not deliveries:
        raise click.ClickException(_("No delivery to put in the manifest."))
    path = _xlsx_path(file)
    count = export_manifest(path, deliveries)
    click.echo(
        _(
            "Wrote %(n)s tablets of %(k)s deliveries to %(path)s.",
            n=count,
            k=len(deliveries),
            path=path,
        )
    )
