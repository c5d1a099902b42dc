"""`tracker users create|list`."""

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from tracker.auth import services
from tracker.auth.models import ROLES, User
from tracker.cli_support import command_transaction


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
    click.echo(f"Created {user.email} ({user.role}).")


@users_cli.command("list")
@with_appcontext
def list_users():
    """Print every user with role and status."""
    from tracker.extensions import db

    for user in db.session.scalars(sa.select(User).order_by(User.email)):
        state = "active" if user.active else "disabled"
        click.echo(f"{user.email:40} {user.role:12} {state}")
