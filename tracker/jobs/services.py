"""Jobs: what may be started, who follows it, and how a dead worker's job is taken back.

huey hands a job's id to a worker and forgets it; this module keeps the job: its state
(queued, running, done, failed), its progress, the file it made, and a heartbeat. A worker
claims a job with a conditional update, so a job sent twice runs once. While it runs, the
worker's keeper thread writes a heartbeat every few seconds into the queue's own store
(not the app's database, which an SQLite import holds locked for its whole transaction).
Any keeper that finds a running job silent for longer than JOBS_STALE_SECONDS sends it
again, up to JOBS_ATTEMPTS times, then marks it failed with a sentence for its reader.
An import stays all or nothing and is committed once: its batch is the job's key and its
commit checks the batch under a row lock (spreadsheets/jobs.py).
"""

import contextlib
import contextvars
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_login import login_user

from tracker.auth.models import User
from tracker.database import utcnow
from tracker.errors import DomainError, NotFound
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import kept_text, said
from tracker.jobs import files, queue
from tracker.jobs.models import Job, StoredFile
from tracker.read_only import JOB_CONTEXT
from tracker.transaction import transaction

log = logging.getLogger(__name__)
LIVE_STATES = ("queued", "running")


@dataclass(frozen=True)
class Output:
    """What a job made: a file for its reader's downloads."""

    name: str
    mimetype: str
    content: BinaryIO


@dataclass(frozen=True)
class JobKind:
    name: str
    run: Callable[[dict, "Progress"], Output | None]
    # Called in the transaction that marks the job failed (an import's batch says so too).
    on_failure: Callable[[dict, str], None] | None = None
    # The page that follows the job's result, as (endpoint, values), when it is not a file.
    follow: Callable[[dict], tuple[str, dict]] | None = None


KINDS: dict[str, JobKind] = {}


def job_kind(name: str, *, on_failure=None, follow=None):
    """Register what a job of kind `name` does: `run(params, progress)`."""

    def register(run):
        KINDS[name] = JobKind(name, run, on_failure, follow)
        return run

    return register


@job_kind("jobs.ping")
def _ping(params: dict, progress: "Progress") -> None:
    """Nothing: `tracker jobs ping` measures the queue's own round trip with it."""


def ping(count: int, *, timeout: float = 300.0) -> float:
    """Queue `count` empty jobs and wait until every one is done; the seconds it took."""
    jobs = [Job(kind="jobs.ping", title="ping", params={}) for _ in range(count)]
    started = time.perf_counter()
    with transaction():
        db.session.add_all(jobs)
        db.session.flush()
        ids = [job.id for job in jobs]
    for job_id in ids:
        queue.send(job_id)
    deadline = time.monotonic() + timeout
    pending = (
        sa.select(sa.func.count()).select_from(Job).where(Job.id.in_(ids), Job.state != "done")
    )
    while db.session.scalar(pending):
        db.session.rollback()  # a fresh snapshot next time
        if time.monotonic() > deadline:
            raise DomainError(_("No worker took the jobs; is `tracker worker` running?"))
        time.sleep(0.02)
    return time.perf_counter() - started


# --- progress --------------------------------------------------------------------------


class Progress:
    """Rows done of a total, published to the queue's store at most twice a second."""

    def __init__(
        self, job_id: int | None, *, on_change: Callable[["Progress"], None] | None = None
    ):
        self.job_id = job_id
        self.done = 0
        self.total: int | None = None
        self._published = 0.0
        self._on_change = on_change

    def expect(self, total: int) -> None:
        self.total = total
        self.publish()

    def advance(self, rows: int = 1) -> None:
        self.done += rows
        if self._on_change is not None:
            self._on_change(self)
        if time.monotonic() - self._published > 0.5:
            self.publish()

    def publish(self) -> None:
        self._published = time.monotonic()
        if self.job_id is not None:
            queue.queue().put(_beat_key(self.job_id), self.snapshot())

    def snapshot(self) -> dict:
        return {"done": self.done, "total": self.total, "at": time.time()}


_current: contextvars.ContextVar[Progress | None] = contextvars.ContextVar(
    "tracker_job_progress", default=None
)


def expect(total: int) -> None:
    """The running job (if any) will do `total` rows: for code deep inside a job."""
    progress = _current.get()
    if progress is not None:
        progress.expect(total)


def advance(rows: int) -> None:
    """The running job (if any) did `rows` more."""
    progress = _current.get()
    if progress is not None:
        progress.advance(rows)


@contextlib.contextmanager
def progress_on_terminal(label: str, total: int | None = None):
    """The command line runs a job's work in its own process, with its progress as a bar
    on the terminal (stderr) once the work knows its total."""
    import sys

    import click

    shown = {"bar": None, "done": 0}

    def changed(progress: "Progress") -> None:
        if shown["bar"] is None and progress.total:
            shown["bar"] = click.progressbar(length=progress.total, label=label, file=sys.stderr)
            shown["bar"].__enter__()
        if shown["bar"] is not None:
            shown["bar"].update(progress.done - shown["done"])
            shown["done"] = progress.done

    progress = Progress(None, on_change=changed)
    progress.total = total
    token = _current.set(progress)
    try:
        yield progress
    finally:
        _current.reset(token)
        if shown["bar"] is not None:
            shown["bar"].__exit__(None, None, None)


def _beat_key(job_id: int) -> str:
    return f"job:{job_id}"


# --- starting and following ------------------------------------------------------------


def start_job(
    kind: str, params: dict, *, user: User | None, title: str, key: str | None = None
) -> Job:
    """Queue a job of `kind` (committed before it is sent); a live job with the same `key`
    is returned instead of a second one."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    if key is not None:
        live = live_job(key)
        if live is not None:
            return live
    job = Job(
        kind=kind, title=title[:255], params=params, key=key, user_id=user.id if user else None
    )
    try:
        with transaction():
            db.session.add(job)
            db.session.flush()
            job_id = job.id
    except sa.exc.IntegrityError:
        live = live_job(key) if key else None
        if live is None:
            raise
        return live
    # Nothing read here after the commit: in immediate mode the job runs now, in a session
    # of its own, and on SQLite this one must not hold the write lock meanwhile.
    queue.send(job_id)
    return job


def run_in_place(kind: str, params: dict, *, user: User | None, title: str) -> Job:
    """Make a job and run it in this process now, with no worker (the demo's download)."""
    job = Job(kind=kind, title=title[:255], params=params, user_id=user.id if user else None)
    with transaction():
        db.session.add(job)
        db.session.flush()
        job_id = job.id
    with current_app.app_context():  # a session of its own, as in a worker
        run_job(job_id, "here")
    return db.session.get(Job, job_id)


def live_job(key: str) -> Job | None:
    return db.session.scalar(sa.select(Job).where(Job.key == key, Job.state.in_(LIVE_STATES)))


def start_from_request(kind: str, *, user: User, title: str, **params) -> Job:
    """Queue a job with the choices of the request that asks for it (its query and form,
    without the CSRF token); the job reads them as its own request's arguments."""
    from urllib.parse import urlencode

    from flask import request

    chosen = [(k, v) for k, v in request.values.items(multi=True) if k != "csrf_token"]
    return start_job(kind, {"query": urlencode(chosen), **params}, user=user, title=title)


def start_again(user: User, job_id: int) -> Job:
    """The reader's ended export, report or label sheet, queued again with the same
    choices (an import is started again from its batch's page)."""
    job = job_for(user, job_id)
    if job.state in LIVE_STATES or follow_page(job) is not None:
        raise DomainError(_("This job cannot be started again from here."))
    return start_job(job.kind, dict(job.params), user=user, title=job.title)


def job_for(user: User, job_id: int) -> Job:
    """The reader's own job; another's is not found."""
    job = db.session.get(Job, job_id)
    if job is None or job.user_id != user.id:
        raise NotFound(_("No such job."))
    return job


def live_progress(job: Job) -> tuple[int, int | None]:
    """(done, total) as the worker last said, or as the job ended."""
    if job.state == "running":
        record = queue.queue().get(_beat_key(job.id), peek=True)
        if record:
            return record["done"], record["total"]
    return job.done, job.total


def job_status(job: Job) -> dict:
    """What a reader sees of a job, for its page and its JSON."""
    done, total = live_progress(job)
    percent = None
    seconds_left = None
    if total:
        percent = min(100, int(100 * done / total))
        if job.state == "running" and job.started_at and 0 < done < total:
            spent = (utcnow() - job.started_at).total_seconds()
            seconds_left = int(spent / done * (total - done)) + 1
    if job.state == "done":
        percent = 100
    return {
        "id": job.id,
        "state": job.state,
        "done": done,
        "total": total,
        "percent": percent,
        "seconds_left": seconds_left,
        "failure": said(job.failure) if job.state == "failed" else "",
        "file_id": job.file_id,
    }


def follow_page(job: Job) -> tuple[str, dict] | None:
    kind = KINDS.get(job.kind)
    return kind.follow(job.params) if kind and kind.follow else None


def my_downloads(user: User, limit: int = 50) -> list[tuple[Job, StoredFile | None]]:
    """The reader's jobs that make files, newest first, each with its file while kept."""
    rows = db.session.execute(
        sa.select(Job, StoredFile)
        .outerjoin(StoredFile, StoredFile.id == Job.file_id)
        .where(Job.user_id == user.id, Job.kind.in_(_file_kinds()))
        .order_by(Job.id.desc())
        .limit(limit)
    ).all()
    return [(job, stored) for job, stored in rows]


def _file_kinds() -> list[str]:
    return [name for name, kind in KINDS.items() if kind.follow is None]


def download_for(user: User, file_id: int) -> StoredFile:
    stored = db.session.get(StoredFile, file_id)
    if stored is None or stored.user_id != user.id or stored.expires_at < utcnow():
        raise NotFound(_("This file is no longer kept; start it again."))
    return stored


def forget_download(user: User, file_id: int) -> None:
    stored = download_for(user, file_id)
    db.session.execute(sa.update(Job).where(Job.file_id == stored.id).values(file_id=None))
    files.forget_file(stored.id)


# --- running, in a worker --------------------------------------------------------------

_running: dict[int, Progress] = {}


@queue.worker_hook("run_job")
def run_job(job_id: int, worker: str) -> None:
    """Claim the job and run it; nothing if another worker has it or it has ended. Run in
    an app context of its own (its own session, removed when the context ends)."""
    try:
        with transaction():
            # One statement claims it and reads what the job needs.
            claimed = db.session.execute(
                sa.update(Job)
                .where(Job.id == job_id, Job.state == "queued")
                .values(
                    state="running", attempts=Job.attempts + 1, worker=worker, started_at=utcnow()
                )
                .returning(Job.kind, Job.params, Job.user_id)
            ).one_or_none()
    except sa.exc.OperationalError:
        log.warning("job %s not claimed now (database busy); it is sent again later", job_id)
        return
    if claimed is None:
        return
    # Its heartbeat: the keeper's (every JOBS_HEARTBEAT_SECONDS); until the first, the
    # claim's time stands for it.
    progress = Progress(job_id)
    _running[job_id] = progress
    token = _current.set(progress)
    try:
        run_as(job_id, claimed, progress)
    finally:
        _current.reset(token)
        _running.pop(job_id, None)


@contextlib.contextmanager
def work_context(user: User | None = None, query: str = ""):
    """A request context for work done outside a request (a job, a scheduled message): the
    configured base URL for its links, `user` signed in (their language, their rights)."""
    app = current_app._get_current_object()  # noqa: SLF001
    with app.test_request_context(
        "/",
        base_url=app.config["BASE_URL"],
        query_string=query,
        environ_overrides={JOB_CONTEXT: True},
    ):
        if user is not None:
            login_user(user)
        yield


def run_as(job_id: int, claimed, progress: Progress) -> None:
    """Run the job as the user who started it (their language, their rights), with links
    from the configured base URL, and record how it ended."""
    user = db.session.get(User, claimed.user_id) if claimed.user_id else None
    kind = KINDS[claimed.kind]
    params = dict(claimed.params)
    # The choices made on the page that started it (filters, options) are its query.
    with work_context(user, params.get("query", "")):
        try:
            output = kind.run(params, progress)
        except DomainError as error:
            db.session.rollback()
            _fail(job_id, str(error))
        except Exception:
            log.exception("job %s (%s) failed", job_id, claimed.kind)
            db.session.rollback()
            _fail(
                job_id,
                _(
                    "It stopped on an unexpected error; nothing was written. Try again, "
                    "or tell your administrator."
                ),
            )
        else:
            _finish(job_id, output, progress, claimed.user_id)


def _finish(job_id: int, output: Output | None, progress: Progress, user_id) -> None:
    done = {
        "state": "done",
        "finished_at": utcnow(),
        "done": progress.done,
        "total": progress.total or progress.done,
    }
    with transaction():
        if output is not None:
            output.content.seek(0)
            stored = files.store_file(
                output.content,
                name=output.name,
                mimetype=output.mimetype,
                user_id=user_id,
                keep_days=current_app.config["DOWNLOADS_KEEP_DAYS"],
            )
            done["file_id"] = stored.id
            output.content.close()
        db.session.execute(sa.update(Job).where(Job.id == job_id).values(**done))


def _fail(job_id: int, message: str) -> None:
    with transaction():
        job = db.session.get(Job, job_id, populate_existing=True)
        job.state, job.failure, job.finished_at = "failed", kept_text(message, 10_000), utcnow()
        kind = KINDS.get(job.kind)
        if kind and kind.on_failure:
            kind.on_failure(dict(job.params), message)


def run_here(kind: str, params: dict, *, user: User | None = None, on_change=None) -> Output | None:
    """Run a job's work in this process, with no queue and no job row (the command line,
    with a progress bar on the terminal)."""
    progress = Progress(None, on_change=on_change)
    token = _current.set(progress)
    try:
        return KINDS[kind].run(params, progress)
    finally:
        _current.reset(token)


# --- the keeper: heartbeats and dead workers -------------------------------------------


@queue.worker_hook("beat")
def beat() -> None:
    """Say this process's running jobs are alive."""
    for progress in list(_running.values()):
        progress.publish()


@queue.worker_hook("reclaim_dead_jobs")
def reclaim_dead_jobs() -> int:
    """Send again the jobs whose worker fell silent (or mark them failed after the last
    attempt), and the queued jobs no worker took; the number acted on."""
    config = current_app.config
    stale, attempts = float(config["JOBS_STALE_SECONDS"]), int(config["JOBS_ATTEMPTS"])
    resend_after = timedelta(seconds=float(config["JOBS_RESEND_SECONDS"]))
    huey = queue.queue()
    now, wall = utcnow(), time.time()
    acted, resend = 0, []
    live = db.session.scalars(
        sa.select(Job).where(Job.state.in_(LIVE_STATES)).order_by(Job.id).limit(500)
    ).all()
    for job in live:
        if job.state == "queued":
            if job.queued_at < now - resend_after:
                resend.append((job.id, job.attempts))
            continue
        record = huey.get(_beat_key(job.id), peek=True)
        last = record["at"] if record else (job.started_at or job.queued_at).timestamp()
        if wall - last <= stale:
            continue
        acted += 1
        if job.attempts < attempts:
            with transaction():
                moved = db.session.execute(
                    sa.update(Job)
                    .where(Job.id == job.id, Job.state == "running", Job.attempts == job.attempts)
                    .values(state="queued", worker="", queued_at=now)
                ).rowcount
            if moved:
                log.warning("job %s: its worker fell silent; sent again", job.id)
                queue.send(job.id)
        else:
            _fail(
                job.id,
                _(
                    "The worker running it stopped %(n)s times; nothing was written. "
                    "Start it again.",
                    n=job.attempts,
                ),
            )
    for job_id, seen_attempts in resend:
        with transaction():
            moved = db.session.execute(
                sa.update(Job)
                .where(Job.id == job_id, Job.state == "queued", Job.attempts == seen_attempts)
                .values(queued_at=now)
            ).rowcount
        if moved:
            acted += 1
            queue.send(job_id)
    return acted


@queue.worker_hook("forget_old_files")
def forget_old_files() -> int:
    """Files past their day, and the record of jobs ended long ago."""
    with transaction():
        forgotten = files.forget_expired()
        cutoff = utcnow() - timedelta(days=float(current_app.config["JOBS_KEEP_DAYS"]))
        db.session.execute(
            sa.delete(Job).where(Job.state.in_(("done", "failed")), Job.finished_at < cutoff)
        )
    return forgotten
