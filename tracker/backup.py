"""`tracker backup FILE` and `tracker restore FILE`: a consistent copy of a live SQLite
database, taken with SQLite's online backup API (writers may go on meanwhile), and putting
one back after checking it. On PostgreSQL, use pg_dump / pg_restore (see the README)."""

import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from tracker.extensions import db
from tracker.i18n import gettext as _

# Each answers what is running against the database now (a web server, a worker), in
# words: registered by the job queue, whose keepers beat for their processes.
_RUNNING: list[Callable[[], list[str]]] = []


def when_restoring(running: Callable[[], list[str]]) -> Callable[[], list[str]]:
    _RUNNING.append(running)
    return running


def sqlite_path() -> Path:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or not url.database:
        raise click.ClickException(
            _(
                "This database is not SQLite: use pg_dump to back it up and pg_restore to "
                "put it back (see the README)."
            )
        )
    return Path(url.database)


def check(path: Path) -> int:
    """Refuse anything that is not a sound tracker database; return its device count."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            (result,) = connection.execute("PRAGMA integrity_check").fetchone()
            if result != "ok":
                raise click.ClickException(_("%(file)s is damaged: %(why)s", file=path, why=result))
            connection.execute("SELECT count(*) FROM users").fetchone()
            return connection.execute("SELECT count(*) FROM devices").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise click.ClickException(
            _("%(file)s is not a tracker database (%(why)s).", file=path, why=error)
        ) from error


def copy(source: Path, target: Path) -> None:
    """Through SQLite's backup API in one step: one read of a consistent snapshot, which
    WAL lets others write beside. (Page by page, every write from another connection
    restarts the copy: with phones scanning all the time, a large database's backup never
    ended.) The copy is readable by its owner only (password and token hashes,
    signatures)."""
    if not target.exists():
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    os.chmod(target, 0o600)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        waited = int(current_app.config.get("SQLITE_BUSY_TIMEOUT", 5) * 1000)
        src.execute(f"PRAGMA busy_timeout={waited}")
        src.backup(dst)


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(file: Path):
    """Copy the live SQLite database to FILE, consistently, while the app runs."""
    live = sqlite_path()
    if file.exists():
        raise click.ClickException(_("%(file)s exists already.", file=file))
    copy(live, file)
    devices = check(file)
    click.echo(_("Backed up to %(file)s (%(n)s devices).", file=file, n=devices))


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the current database without asking.")
@click.option(
    "--force",
    is_flag=True,
    help="Restore even while the app or a worker runs (their work since FILE is lost).",
)
@with_appcontext
def restore_command(file: Path, yes: bool, force: bool):
    """Replace the SQLite database with the backup FILE, after checking FILE. Refused
    while the app or a worker is running: what they were told was saved since FILE was
    made would be thrown away silently (phones do not send again what was applied)."""
    live = sqlite_path()
    devices = check(file)
    running = [what for answer in _RUNNING for what in answer()]
    if running and not force:
        raise click.ClickException(
            _(
                "Still running: %(running)s. Stop the app and its workers, then restore; "
                "or give --force to restore anyway, losing everything written since "
                "%(file)s was made.",
                running=", ".join(running),
                file=file,
            )
        )
    if running:
        click.echo(
            _(
                "Restoring while %(running)s run: everything they wrote since %(file)s was "
                "made is lost, and phones will not send again what they were told was applied.",
                running=", ".join(running),
                file=file,
            ),
            err=True,
        )
    if not yes and not click.confirm(
        _("Replace %(live)s with %(file)s (%(n)s devices)?", live=live, file=file, n=devices)
    ):
        sys.exit(1)
    db.session.remove()
    db.engine.dispose()  # no connection of ours keeps the old file open
    copy(file, live)
    click.echo(_("Restored %(file)s (%(n)s devices).", file=file, n=check(live)))
