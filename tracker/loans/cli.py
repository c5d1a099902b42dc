"""`tracker loans overdue|erase-expired`."""

import click
from flask.cli import with_appcontext

from tracker.cli_support import command_transaction
from tracker.extensions import db
from tracker.loans import services
from tracker.schools.models import School


@click.group("loans", help="Loans of tablets to pupils and teachers.")
def loans_cli():
    pass


@loans_cli.command("overdue")
@with_appcontext
def overdue():
    """The schools with loans past their day, the oldest first (counts, never names)."""
    rows = db.session.execute(services.overdue_by_school().order_by("since")).all()
    if not rows:
        click.echo("No loan is overdue.")
    for school_id, loans, since in rows:
        school = db.session.get(School, school_id)
        click.echo(f"{school.code}\t{school.name_fr}\t{loans}\tsince {since.isoformat()}")


@loans_cli.command("erase-expired")
@with_appcontext
def erase_expired():
    """Erase borrowers' names, codes, guardians and signatures once LOAN_RETENTION_YEARS have
    passed since their last return (also run every night by the worker)."""
    with command_transaction():
        erased = services.erase_expired()
    click.echo(f"{erased} borrower(s) erased; their loans are kept, anonymised.")
