"""The `tracker` console script: Flask's CLI bound to the app factory.

`tracker run`, `tracker db upgrade` (Flask-Migrate), and every feature's command group.
"""

import sys

import click
from flask.cli import FlaskGroup

from tracker.database import disk_full, free_wal
from tracker.extensions import db
from tracker.i18n import gettext as _

DISK_FULL = 3  # the exit code of a command stopped by a full disk (1: refused, 2: bad file)


def _create_app():
    from tracker import create_app

    return create_app()


def main() -> None:
    cli = FlaskGroup(create_app=_create_app, help="Tablet distribution tracker.")
    try:
        cli.main(prog_name="tracker")
    except Exception as error:
        if not disk_full(error):
            raise
        _after_full_disk()
        click.echo(_full_disk_sentence(), err=True)
        sys.exit(DISK_FULL)


def _after_full_disk() -> None:
    """Give back the write-ahead log's space, so the database works once space is freed."""
    app = _create_app()
    with app.app_context():
        free_wal(db.engine)


def _full_disk_sentence() -> str:
    app = _create_app()
    with app.test_request_context():
        return _("The server's disk is full; nothing was saved. Free some space and run it again.")
