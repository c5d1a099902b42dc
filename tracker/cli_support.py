"""Shared pieces for CLI commands: one transaction per command, refusals as clean errors."""

from contextlib import contextmanager

import click

from tracker.errors import DomainError
from tracker.transaction import transaction


@contextmanager
def command_transaction():
    """Commit once when the block succeeds; roll back and exit 1 with the reason when refused."""
    try:
        with transaction():
            yield
    except DomainError as error:
        raise click.ClickException(str(error)) from error
