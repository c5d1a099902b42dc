"""The server's bad days: a full disk says so (page and command line) and leaves a database
that works once space is freed; a restore refuses to throw away what running processes
were told was saved; a database restart costs no user an error page."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from test_jobs import _environment, _until, _worker

from conftest import login, text_of
from tracker.extensions import db
from tracker.jobs.models import Job

TRACKER = str(Path(sys.executable).with_name("tracker"))


def _run(env, *args, timeout=300):
    return subprocess.run(  # noqa: S603
        [TRACKER, *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB disk of its own (tmpfs): root may mount one; elsewhere the test is skipped. (A
    new database's first upgrade writes some 3 MB of log before giving it back.)"""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(  # noqa: S603
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)],  # noqa: S607
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip("no small disk can be mounted here (needs root)")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], capture_output=True)  # noqa: S603, S607


def test_a_full_disk_says_so_and_the_database_works_once_space_is_freed(small_disk, tmp_path):
    env = {
        **os.environ,
        "TRACKER_DATABASE_URL": f"sqlite:///{small_disk / 'tracker.sqlite'}",
        "TRACKER_INSTANCE_PATH": str(tmp_path / "instance"),
        "TRACKER_SECRET_KEY": "disk-test",
        "TRACKER_JOBS_MODE": "immediate",
        "TRACKER_DEFAULT_LOCALE": "en",
    }
    assert _run(env, "db", "upgrade").returncode == 0
    added = _run(
        env, "donations", "add", "D-1", "--donor", "X", "--date", "2026-01-01", "--quantity", "9"
    )
    assert added.returncode == 0, added.stderr
    rows = 40_000
    big = tmp_path / "devices.csv"
    big.write_text(
        "Serial number,Model,Notes\n" + "".join(f"SN{n:07d},T10,{'x' * 60}\n" for n in range(rows))
    )
    full = _run(env, "import", "devices", str(big), "--donation", "D-1")
    assert full.returncode == 3, (full.returncode, full.stderr[-2000:])
    assert "disk is full; nothing was saved" in full.stderr
    assert "Traceback" not in full.stderr
    wal = small_disk / "tracker.sqlite-wal"
    assert not wal.exists() or wal.stat().st_size < 100_000  # given back
    # The database still answers, and nothing of the import was written.
    listed = _run(env, "donations", "list")
    assert listed.returncode == 0 and "D-1" in listed.stdout
    small = tmp_path / "few.csv"
    small.write_text("Serial number,Model\nOK0001,T10\n")
    assert _run(env, "import", "devices", str(small), "--donation", "D-1").returncode == 0


def test_a_full_disk_on_a_page_says_so_and_nothing_was_saved(app, client, create_user):
    from flask import Flask

    from tracker.database import disk_full

    app: Flask
    assert disk_full(sa.exc.OperationalError("INSERT", {}, Exception("database or disk is full")))

    @app.route("/__full")
    def _full():
        raise sa.exc.OperationalError("INSERT", {}, Exception("database or disk is full"))

    login(client, create_user("coordinator"))
    answer = client.get("/__full")
    assert answer.status_code == 507
    assert "The server's disk is full; nothing was saved." in text_of(answer)


def test_a_restore_is_refused_while_a_worker_runs_unless_forced(app, database_url, tmp_path):
    if not database_url.startswith("sqlite"):
        pytest.skip("restore is SQLite's (PostgreSQL: pg_restore)")
    env = {
        **_environment(database_url, tmp_path / "instance"),
        "TRACKER_JOBS_HEARTBEAT_SECONDS": "0.5",
    }
    backup = tmp_path / "copy.sqlite"
    made = _run(env, "backup", str(backup))
    assert made.returncode == 0, made.stderr
    worker = _worker(env, tmp_path / "worker.log")
    try:
        _until(
            lambda: "Still running" in _run(env, "restore", str(backup), "--yes").stderr,
            30,
            "the worker's heartbeat",
        )
        refused = _run(env, "restore", str(backup), "--yes")
        assert refused.returncode == 1 and "worker" in refused.stderr
        assert "--force" in refused.stderr
        forced = _run(env, "restore", str(backup), "--yes", "--force")
        assert forced.returncode == 0, forced.stderr
        assert "is lost" in forced.stderr
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
    time.sleep(3)  # the last beat is older than 3 beats and a second: nothing runs now
    assert _run(env, "restore", str(backup), "--yes").returncode == 0


def test_after_the_database_ends_the_queues_connection_a_job_starts_without_error(
    app, client, create_user, create_device, database_url
):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's connections (SQLite's queue is a file)")
    from tracker.jobs.queue import queue

    app.config["JOBS_MODE"] = "workers"  # no worker: the jobs wait in the queue
    huey = queue(app)
    huey.flush()
    create_device()
    login(client, create_user("coordinator"))
    assert client.post("/exports/devices.xlsx").status_code in (200, 302)
    backend = huey.storage.conn.info.backend_pid
    db.session.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    db.session.commit()
    answer = client.post("/exports/devices.xlsx")
    assert answer.status_code in (200, 302), text_of(answer)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 2
    assert huey.pending_count() == 2  # both queued, the second on a fresh connection
