"""`tracker worker`: a process that takes jobs from the queue."""

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("worker")
@click.option("--threads", default=2, show_default=True, help="Jobs run at once.")
@with_appcontext
def worker_command(threads: int):
    """Take jobs (imports, exports, reports, label sheets) until stopped."""
    from tracker.jobs.queue import run_worker

    app = current_app._get_current_object()  # noqa: SLF001
    if app.config["JOBS_MODE"] == "immediate":
        raise click.ClickException("TRACKER_JOBS_MODE is immediate: jobs run where they start.")
    where = app.config["SQLALCHEMY_DATABASE_URI"].split("@")[-1]  # no password printed
    click.echo(f"tracker worker: {threads} thread(s), queue beside {where}")
    run_worker(app, threads)
