"""The queue that hands jobs to workers: huey, on the database the deployment has.

Why huey (3.5): it is the one maintained queue with a storage for each of our databases
that needs no other server. On SQLite, its SQLite storage keeps the queue in a file of its
own beside the app's database (`queue.sqlite`), so a job's heartbeat and progress are
written while an import holds the app database's write lock; the demo's one command starts
a worker thread inside the web process. On PostgreSQL, its PostgreSQL storage (psycopg 3,
our driver) keeps the queue in `huey_*` tables of the app's database: workers on several
machines take jobs with `FOR UPDATE SKIP LOCKED` and wake on `LISTEN/NOTIFY`, with no
polling. Procrastinate and pgqueuer are PostgreSQL only (the SQLite default would need a
second runner); RQ and Dramatiq need Redis. huey deletes a task when a worker takes it, so
what was taken is followed here, in the `jobs` table, with a heartbeat (services.py, which
registers its steps with `worker_hook`).

Modes (TRACKER_JOBS_MODE): `embedded`, the SQLite default, a worker thread in each web
process; `workers`, the PostgreSQL default, separate `tracker worker` processes;
`immediate`, the job runs in the process that starts it (tests, the command line).
"""

import logging
import os
import socket
import threading
import time
from pathlib import Path

import psycopg
from flask import Flask, current_app
from huey import Huey, crontab
from huey.consumer import Consumer
from huey.storage import PostgresStorage, SqliteStorage
from sqlalchemy.engine import make_url

from tracker.backup import when_restoring

log = logging.getLogger(__name__)
MODES = ("embedded", "workers", "immediate")
KEY = "tracker.queue"


# Work other features hand to the workers besides jobs (the outbox's sending), and work
# they run on a schedule (a daily digest): registered at import, added to each app's queue.
TASKS: dict = {}
PERIODIC: dict = {}


def background_task(name: str):
    """Register `work()` (run in an app context) as a task of every app's queue."""

    def register(work):
        TASKS[name] = work
        return work

    return register


# What the jobs' own service does on the queue's behalf (run a job, beat, reclaim the dead,
# forget old files): it registers itself here, so this module never imports it back.
WORKER_HOOKS: dict = {}


def worker_hook(name: str):
    """Register the jobs service's `name` step, which the queue calls by that name."""

    def register(work):
        WORKER_HOOKS[name] = work
        return work

    return register


def periodic(name: str, **when):
    """Register `work()` to run on a schedule (huey's crontab: minute=, hour=, in UTC)."""

    def register(work):
        PERIODIC[name] = (when, work)
        return work

    return register


def run_task(name: str) -> None:
    """Hand `name` to a worker (in immediate mode: run it now, here)."""
    _handed(lambda: queue().tracker_tasks[name](), name)


def _handed(hand, what) -> None:
    """Hand work to the queue. What it is about was committed already: if the queue cannot
    be reached even on a fresh connection, it is logged, not an error page saying nothing
    was saved; the keeper sends a job no worker took again (JOBS_RESEND_SECONDS), and the
    outbox's minute sends what is due."""
    if current_app.config["JOBS_MODE"] == "immediate":
        hand()
        return
    try:
        hand()
    except Exception:  # noqa: BLE001  (committed already: sent again later, see above)
        log.warning("the queue could not be reached for %s; it goes later", what, exc_info=True)


def default_mode(database_url: str) -> str:
    return "workers" if make_url(database_url).get_backend_name() == "postgresql" else "embedded"


class _CheckedPostgresStorage(PostgresStorage):
    """huey's PostgreSQL storage, whose kept connection is checked before each use (one
    round trip) and made anew when the server dropped it: after a database restart the
    first job started is queued like any other, not an error."""

    @property
    def conn(self):
        kept = self._conn
        if kept is not None and not (kept.closed or kept.broken):
            try:
                kept.execute("select 1")
            except psycopg.Error:
                self._close_quiet(kept)
                self._conn = None
        return super().conn


def _storage(app: Flask) -> dict:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return {"storage_class": _CheckedPostgresStorage, "dsn": dsn, "read_timeout": 1}
    folder = Path(url.database).parent if url.database else Path(app.instance_path)
    path = app.config.get("JOBS_QUEUE_FILE") or str(
        folder / f"{Path(url.database or 'tracker').stem}-queue.sqlite"
    )
    return {"storage_class": SqliteStorage, "filename": path, "timeout": 5}


def queue(app: Flask | None = None) -> Huey:
    """The app's queue, made on first use."""
    app = app or current_app._get_current_object()  # noqa: SLF001
    huey = app.extensions.get(KEY)
    if huey is None:
        huey = app.extensions[KEY] = _make_queue(app)
    return huey


def _make_queue(app: Flask) -> Huey:
    immediate = app.config["JOBS_MODE"] == "immediate"
    huey = Huey("tracker", results=False, immediate=immediate, **_storage(app))

    @huey.task(name="run_job")
    def run_job(job_id: int) -> None:
        with app.app_context():
            WORKER_HOOKS["run_job"](job_id, worker_name())

    @huey.periodic_task(crontab(minute="*/10"), name="forget_old_files")
    def forget_old_files() -> None:
        with app.app_context():
            WORKER_HOOKS["forget_old_files"]()

    def in_app(work):
        def run():
            with app.app_context():
                work()

        return run

    huey.tracker_tasks = {
        name: huey.task(name=name)(in_app(work)) for name, work in sorted(TASKS.items())
    }
    for name, (when, work) in sorted(PERIODIC.items()):
        huey.periodic_task(crontab(**when), name=name)(in_app(work))
    huey.tracker_run_job = run_job
    return huey


def send(job_id: int) -> None:
    """Hand the job to a worker (in immediate mode: run it now, here)."""
    # In embedded mode the web process's worker takes it (started by its first request,
    # tracker/jobs/views.py); a command line queues it for that worker.
    _handed(lambda: queue().tracker_run_job(job_id), f"job {job_id}")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


class _QuietConsumer(Consumer):
    """A consumer inside a web process: the web server owns the process's signals."""

    def _set_signal_handlers(self):
        pass


def start_embedded(app: Flask) -> None:
    """Start this web process's worker thread and keeper, once."""
    if app.extensions.get("tracker.embedded_worker"):
        return
    with _EMBEDDED_LOCK:
        if app.extensions.get("tracker.embedded_worker"):
            return
        consumer = _QuietConsumer(queue(app), workers=1, **CONSUMER_OPTIONS)
        consumer.start()
        start_keeper(app, "web")
        app.extensions["tracker.embedded_worker"] = consumer


def stop_embedded(app: Flask) -> None:
    """Stop this process's worker thread and keeper (tests; a server stops with its process)."""
    consumer = app.extensions.pop("tracker.embedded_worker", None)
    app.extensions.setdefault("tracker.keeper_stop", threading.Event()).set()
    if consumer is not None:
        consumer.stop(graceful=True)


_EMBEDDED_LOCK = threading.Lock()
# Poll an idle SQLite queue at most a second apart (PostgreSQL is woken by NOTIFY).
CONSUMER_OPTIONS = {"initial_delay": 0.1, "backoff": 1.15, "max_delay": 1.0, "periodic": True}


ALIVE_INDEX = "tracker.alive"


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def note_alive(app: Flask, what: str) -> None:
    """This process (a web server, a worker) is running: `tracker restore` asks."""
    huey = queue(app)
    huey.put(f"alive:{_me()}", {"at": time.time(), "what": what})
    index = huey.get(ALIVE_INDEX, peek=True) or []
    if _me() not in index:
        huey.put(ALIVE_INDEX, [*index[-200:], _me()])


def alive_processes(app: Flask, within: float) -> list[tuple[str, str, float]]:
    """The web servers and workers that beat in the last `within` seconds: (which, what,
    seconds ago)."""
    huey = queue(app)
    now, found = time.time(), []
    for process in huey.get(ALIVE_INDEX, peek=True) or []:
        beat = huey.get(f"alive:{process}", peek=True)
        if beat and now - beat["at"] <= within:
            found.append((process, beat["what"], now - beat["at"]))
    return found


@when_restoring
def _running_processes() -> list[str]:
    """What a restore would cut off: each process that beat lately, in words."""
    app = current_app._get_current_object()  # noqa: SLF001
    within = 3 * float(app.config["JOBS_HEARTBEAT_SECONDS"]) + 1
    return [
        f"{what} {process} ({ago:.0f} s ago)" for process, what, ago in alive_processes(app, within)
    ]


def start_keeper(app: Flask, what: str = "worker") -> threading.Thread:
    """The thread that beats for this process and its running jobs and reclaims dead ones."""

    def keep() -> None:
        every = float(app.config["JOBS_HEARTBEAT_SECONDS"])
        stop = app.extensions.setdefault("tracker.keeper_stop", threading.Event())
        try:
            note_alive(app, what)
        except Exception:  # noqa: BLE001  (the next beat tries again)
            log.warning("the job keeper could not say it is alive", exc_info=True)
        while not stop.wait(every):
            try:
                with app.app_context():
                    note_alive(app, what)
                    WORKER_HOOKS["beat"]()
                    WORKER_HOOKS["reclaim_dead_jobs"]()
            except Exception:  # noqa: BLE001  (the next beat tries again)
                log.warning("the job keeper's turn failed", exc_info=True)

    thread = threading.Thread(target=keep, name="job-keeper", daemon=True)
    thread.start()
    return thread


def run_worker(app: Flask, workers: int) -> None:
    """`tracker worker`: take jobs until stopped (SIGINT or SIGTERM finish the current
    job first; SIGKILL leaves it to another worker's keeper)."""
    huey = queue(app)
    consumer = huey.create_consumer(workers=workers, graceful_signal="TERM", **CONSUMER_OPTIONS)
    start_keeper(app)
    consumer.run()
