"""`tracker demo`: bring the database to the latest schema and load the demonstration data."""

import click
from flask.cli import with_appcontext
from flask_migrate import upgrade

from tracker.cli_support import command_transaction
from tracker.demo.loader import DEMO_USERS, PASSWORD, load_demo
from tracker.i18n import gettext as _


@click.command("demo")
@with_appcontext
def demo_command():
    """Load the demonstration data set (safe to run again: nothing is duplicated)."""
    upgrade()
    with command_transaction():
        summary = load_demo()
    if summary.created:
        added = ", ".join(f"{n} {what}" for what, n in sorted(summary.created.items()))
        click.echo(_("Demo data added: %(added)s.", added=added))
    else:
        click.echo(_("Demo data already present; nothing added."))
    click.echo(_("Sign in with any of these (password: %(password)s):", password=PASSWORD))
    for email, role, _name in DEMO_USERS:
        click.echo(f"  {email:26} {role}")
