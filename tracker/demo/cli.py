"""`tracker demo`: bring the database to the latest schema and load the demonstration data."""

import click
from flask.cli import with_appcontext
from flask_migrate import upgrade

from tracker.cli_support import command_transaction
from tracker.demo.loader import (
    DEMO_USERS,
    DONOR,
    DONOR_USER,
    OFFICE_USERS,
    PASSWORD,
    first_download,
    load_demo,
)
from tracker.i18n import gettext as _
from tracker.i18n import ngettext
from tracker.timezone import local_today


def counted(what: str, n: int) -> str:
    """What the demo added, in the operator's language and its plural forms."""
    if what == "counts":
        return ngettext("%(num)s count", "%(num)s counts", n)
    if what == "deliveries":
        return ngettext("%(num)s delivery", "%(num)s deliveries", n)
    if what == "devices":
        return ngettext("%(num)s device", "%(num)s devices", n)
    if what == "donations":
        return ngettext("%(num)s donation", "%(num)s donations", n)
    if what == "plans":
        return ngettext("%(num)s plan", "%(num)s plans", n)
    if what == "repairs":
        return ngettext("%(num)s repair", "%(num)s repairs", n)
    if what == "schools":
        return ngettext("%(num)s school", "%(num)s schools", n)
    if what == "borrowers":
        return ngettext("%(num)s borrower", "%(num)s borrowers", n)
    if what == "loans":
        return ngettext("%(num)s loan", "%(num)s loans", n)
    if what == "depots":
        return ngettext("%(num)s depot", "%(num)s depots", n)
    if what == "depot moves":
        return ngettext("%(num)s move between depots", "%(num)s moves between depots", n)
    if what == "transfers":
        return ngettext("%(num)s transfer", "%(num)s transfers", n)
    if what == "users":
        return ngettext("%(num)s user", "%(num)s users", n)
    return f"{n} {what}"


@click.command("demo")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Tell the founding donation as a programme moving in: its tablets already at their "
    "schools since this day (YYYY-MM-DD), loaded as an opening balance, with what followed.",
)
@with_appcontext
def demo_command(as_of):
    """Load the demonstration data set (safe to run again: nothing is duplicated)."""
    if as_of is not None and as_of.date() > local_today():
        raise click.BadParameter(_("The day is after today."), param_hint="--as-of")
    upgrade()
    with command_transaction():
        summary = load_demo(as_of=as_of.date() if as_of else None)
    if summary.created:
        first_download()
    if summary.created:
        added = ", ".join(counted(what, n) for what, n in sorted(summary.created.items()))
        click.echo(_("Demo data added: %(added)s.", added=added))
    else:
        click.echo(_("Demo data already present; nothing added."))
    click.echo(_("Sign in with any of these (password: %(password)s):", password=PASSWORD))
    for email, role, _name in DEMO_USERS:
        click.echo(f"  {email:32} {role}")
    for email, role, _name, region in OFFICE_USERS:
        click.echo(f"  {email:32} {role} · {region}")
    click.echo(f"  {DONOR_USER[0]:32} donor · {DONOR}")
