"""`tracker users create|list`."""

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from tracker.auth import services
from tracker.auth.models import ROLES, User
from tracker.cli_support import command_transaction
from tracker.i18n import gettext as _


@click.group("users", help="Manage the people who may sign in.")
def users_cli():
    pass


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", default="")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for when not given.",
)
@with_appcontext
def create(email, role, name, password):
    """Add a user who can sign in with EMAIL."""
    with command_transaction():
        user = services.create_user(email, role, password, name)
    click.echo(_("Created %(email)s (%(role)s).", email=user.email, role=user.role))


@users_cli.command("list")
@with_appcontext
def list_users():
    """Print every user with role and status."""
    from tracker.extensions import db

    for user in db.session.scalars(sa.select(User).order_by(User.email)):
        state = "active" if user.active else "disabled"
        click.echo(f"{user.email:40} {user.role:12} {state}")


@users_cli.command("token")
@click.argument("email")
@click.option("--label", default="", help="What the token is for (a phone, an integration).")
@with_appcontext
def token(email, label):
    """Make an API token for EMAIL and print it once (only its hash is kept)."""
    from tracker.auth.tokens import create_token
    from tracker.extensions import db

    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active:
        raise click.ClickException(_("No active user %(email)s.", email=email))
    with command_transaction():
        _record, secret = create_token(user, label)
    click.echo(secret)
    click.echo(
        _("Keep it now: it is not shown again. Send it as 'Authorization: Bearer <token>'."),
        err=True,
    )
