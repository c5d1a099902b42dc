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


@click.group("jobs", help="The job queue: what workers take.")
def jobs_cli():
    pass


@jobs_cli.command("ping")
@click.option("--count", default=100, show_default=True, help="Empty jobs to send.")
@with_appcontext
def ping_command(count: int):
    """Send empty jobs through the queue and wait for the workers: jobs per second."""
    from tracker.errors import DomainError
    from tracker.jobs.services import ping

    try:
        seconds = ping(count)
    except DomainError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{count} jobs in {seconds:.2f} s: {count / seconds:.0f} jobs/s")
