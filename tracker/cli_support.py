"""Shared pieces for CLI commands: one transaction per command, refusals as clean errors."""

from contextlib import contextmanager

import click

from tracker.errors import DomainError
from tracker.extensions import db


@contextmanager
def command_transaction():
    """Commit once when the block succeeds; roll back and exit 1 with the reason when refused."""
    try:
        yield
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    except BaseException:
        db.session.rollback()
        raise
