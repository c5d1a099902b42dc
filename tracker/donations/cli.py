"""`tracker donations add|list|invite|open-figures` (and `send-letters`, added by the
reports)."""

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker.cli_support import command_transaction
from tracker.donations import donors, services
from tracker.i18n import gettext as _


@click.group("donations", help="Record and list donations (grant agreements).")
def donations_cli():
    pass


@donations_cli.command("add")
@click.argument("reference")
@click.option("--donor", required=True, help="Donor name; created when new.")
@click.option(
    "--date",
    "received_on",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Date of the agreement, YYYY-MM-DD.",
)
@click.option("--quantity", required=True, type=click.IntRange(min=0), help="Tablets promised.")
@click.option("--title", default="")
@click.option("--notes", default="")
@with_appcontext
def add(reference, donor, received_on, quantity, title, notes):
    """Record donation REFERENCE."""
    with command_transaction():
        donation = services.create_donation(
            reference=reference,
            donor_name=donor,
            received_on=received_on.date(),
            quantity=quantity,
            title=title,
            notes=notes,
        )
    click.echo(
        _(
            "Recorded %(ref)s: %(n)s tablets from %(donor)s on %(day)s.",
            ref=donation.reference,
            n=donation.quantity_promised,
            donor=donation.donor.name,
            day=donation.received_on.isoformat(),
        )
    )


@donations_cli.command("list")
@with_appcontext
def list_donations():
    """Print every donation: reference, date, donor, promised and registered tablets."""
    rows = services.list_donations()
    if not rows:
        click.echo(_("No donations yet."))
        return
    click.echo(f"{'REFERENCE':24} {'DATE':10} {'PROMISED':>8} {'REGISTERED':>10}  DONOR")
    for donation, registered in rows:
        click.echo(
            f"{donation.reference:24} {donation.received_on.isoformat():10} "
            f"{donation.quantity_promised:>8} {registered:>10}  {donation.donor.name}"
        )


@donations_cli.command("invite")
@click.argument("reference")
@click.argument("email")
@click.option("--name", default="", help="The person's name.")
@click.option(
    "--language", default="fr", type=click.Choice(donors.LANGUAGES), help="Of the e-mail."
)
@with_appcontext
def invite(reference, email, name, language):
    """Invite EMAIL, one of the donor of donation REFERENCE's people, to read its
    donations: prints the one-time link (also sent by e-mail)."""
    with command_transaction():
        donation = services.find_donation(reference)
        user, link = donors.invite_contact(None, donation.id, email, name, language)
    click.echo(_("%(email)s is invited: the link went by e-mail.", email=user.email))
    click.echo(link)


@donations_cli.command("open-figures")
@click.argument("reference")
@click.option("--close", "close_", is_flag=True, help="Close them instead (the link ends).")
@with_appcontext
def open_figures(reference, close_):
    """Open (or close) the public figures of donation REFERENCE; prints the page's link."""
    with command_transaction():
        donation = services.find_donation(reference)
        donation = donors.set_open_figures(None, donation.id, open_=not close_)
        key = donation.public_key
    if key is None:
        click.echo(_("Its figures are closed: the link opens nothing."))
        return
    click.echo(_("Its figures are open: anyone with the link reads them."))
    click.echo(f"{current_app.config['BASE_URL']}/open/{key}")
