"""Jobs: the queue, its workers, and the files they leave in each reader's downloads.

The first tests run jobs where they start (as the whole suite does); the last ones start
real `tracker worker` processes and web servers, kill a worker with SIGKILL in the middle
of an import, and follow one job from one server to the end through another.
"""

import io
import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
import requests
import sqlalchemy as sa

from conftest import PASSWORD, download, login, text_of
from tracker.database import utcnow
from tracker.devices.models import Device, DeviceEvent
from tracker.extensions import db
from tracker.i18n import said
from tracker.jobs import services
from tracker.jobs.models import FileChunk, Job, StoredFile
from tracker.jobs.queue import queue
from tracker.spreadsheets.models import ImportBatch

TRACKER = str(Path(sys.executable).with_name("tracker"))
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def test_an_export_waits_in_my_downloads_for_its_owner_only(client, create_user, create_device):
    create_device()
    owner = create_user("coordinator")
    login(client, owner)
    started = client.post("/exports/devices.xlsx")
    job_page = started.headers["Location"]
    assert re.fullmatch(r"/jobs/\d+", job_page)
    page = client.get(job_page)
    assert "Ready." in text_of(page)
    link = re.search(r'href="(/downloads/\d+)" data-testid="download"', page.get_data(as_text=True))
    workbook = client.get(link.group(1))
    assert workbook.headers["Content-Disposition"] == "attachment; filename=devices.xlsx"
    assert workbook.headers["Cache-Control"] == "no-store"
    assert openpyxl.load_workbook(io.BytesIO(workbook.data)).active.max_row == 2
    listed = text_of(client.get("/downloads/"))
    assert "devices.xlsx" in listed and "KB" in listed and "kept until" in listed
    status = client.get(f"{job_page}.json").get_json()
    assert status["state"] == "done" and status["percent"] == 100 and status["text"] == "Ready."

    client.post("/logout")
    login(client, create_user("coordinator"))
    assert client.get(job_page).status_code == 404
    assert client.get(f"{job_page}.json").status_code == 404
    assert client.get(link.group(1)).status_code == 404
    assert client.post(f"{link.group(1)}/delete").status_code == 404
    assert "Nothing yet" in text_of(client.get("/downloads/"))

    client.post("/logout")
    login(client, owner)
    client.post(f"{link.group(1)}/delete")
    assert client.get(link.group(1)).status_code == 404
    assert db.session.query(FileChunk).count() == 0


def test_a_file_is_forgotten_after_its_days(app, client, create_user, create_device):
    create_device()
    login(client, create_user("manager"))
    download(client, "/exports/devices.xlsx")
    stored = db.session.scalars(sa.select(StoredFile)).one()
    assert stored.expires_at - utcnow() > timedelta(days=app.config["DOWNLOADS_KEEP_DAYS"] - 1)
    stored.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert client.get(f"/downloads/{stored.id}").status_code == 404
    assert services.forget_old_files() == 1
    assert db.session.query(FileChunk).count() == 0
    assert db.session.scalars(sa.select(Job)).one().file_id is None


def test_a_failed_job_says_why_leaves_no_file_and_runs_again(client, create_user, create_device):
    login(client, create_user("coordinator"))
    page = client.post("/labels/sheet.pdf", data={"status": "lost"}, follow_redirects=True)
    assert "No device is chosen: there is nothing to print." in text_of(page)
    job = db.session.scalars(sa.select(Job)).one()
    assert job.state == "failed" and job.file_id is None
    # The same choices again, once a tablet matches them: a sheet this time.
    device = create_device()
    device.status = "lost"
    db.session.commit()
    again = client.post(f"/jobs/{job.id}/again", follow_redirects=True)
    assert "Ready." in text_of(again) and 'data-testid="download"' in again.get_data(as_text=True)
    assert db.session.query(Job).count() == 2


def _running_job(user, *, attempts: int, silent_for: float) -> Job:
    job = Job(
        kind="exports.devices",
        title="devices.xlsx",
        params={"query": ""},
        user_id=user.id,
        state="running",
        attempts=attempts,
        worker="gone:1:Worker-1",
        started_at=utcnow() - timedelta(seconds=silent_for),
    )
    db.session.add(job)
    db.session.commit()
    return job


def test_a_job_whose_worker_fell_silent_is_sent_again_then_given_up(
    app, create_user, create_device
):
    """No heartbeat for JOBS_STALE_SECONDS: sent again while attempts remain (and here, run
    at once); on the last attempt, failed with a sentence for its reader."""
    create_device()
    user = create_user("coordinator")
    stale = app.config["JOBS_STALE_SECONDS"]
    alive = _running_job(user, attempts=1, silent_for=stale / 2)
    dead = _running_job(user, attempts=1, silent_for=stale + 5)
    last = _running_job(user, attempts=app.config["JOBS_ATTEMPTS"], silent_for=stale + 5)
    assert services.reclaim_dead_jobs() == 2
    db.session.expire_all()
    assert alive.state == "running"
    assert (dead.state, dead.attempts) == ("done", 2) and dead.file_id is not None
    assert last.state == "failed"
    assert "stopped 3 times; nothing was written" in said(last.failure)


def test_an_import_commit_sent_twice_imports_once(client, signed_in, create_donation, tmp_path):
    donation = create_donation()
    signed_in("coordinator")
    path = tmp_path / "devices.csv"
    path.write_text("Serial number\n" + "".join(f"TWICE{n:04d}\n" for n in range(30)))
    with path.open("rb") as handle:
        client.post(
            "/imports/",
            data={"kind": "devices", "donation_id": str(donation.id), "file": (handle, "d.csv")},
            content_type="multipart/form-data",
        )
    batch = db.session.scalars(sa.select(ImportBatch)).one()
    client.post(f"/imports/{batch.id}/commit")
    # The same commit again, as a worker would run it after its first one died unseen.
    services.start_job(
        "imports.commit", {"batch_id": batch.id}, user=None, title="again", key="again"
    )
    assert db.session.query(Device).count() == 30
    assert db.session.query(DeviceEvent).count() == 30
    assert [j.state for j in db.session.scalars(sa.select(Job).order_by(Job.id))] == ["done"] * 3


def test_one_live_job_per_import_batch(app, create_user):
    user = create_user("coordinator")
    app.config["JOBS_MODE"] = "workers"  # nothing takes the jobs: they stay queued
    first = services.start_job("exports.devices", {}, user=user, title="a", key="import:7")
    second = services.start_job("exports.devices", {}, user=user, title="b", key="import:7")
    assert first.id == second.id and db.session.query(Job).count() == 1


# --- real workers ------------------------------------------------------------------------


def _environment(database_url: str, folder: Path) -> dict:
    return {
        **os.environ,
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_INSTANCE_PATH": str(folder),
        "TRACKER_SECRET_KEY": "jobs-test-secret",
        "TRACKER_JOBS_MODE": "workers",
        "TRACKER_JOBS_HEARTBEAT_SECONDS": "0.5",
        "TRACKER_JOBS_STALE_SECONDS": "3",
        "TRACKER_JOBS_RESEND_SECONDS": "5",
        "TRACKER_DEFAULT_LOCALE": "en",
    }


def _worker(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        [TRACKER, "worker", "--threads", "1"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _until(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.expire_all()
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {seconds} s")


@pytest.fixture
def real_queue(app):
    """The test app's queue as the workers see it (not run in place); emptied first."""
    app.config.update(JOBS_MODE="workers", JOBS_STALE_SECONDS=3)
    queue(app).flush()
    return queue(app)


def test_a_worker_killed_in_the_middle_of_an_import_leaves_it_to_another_once(
    app, client, signed_in, create_donation, database_url, real_queue, tmp_path
):
    """SIGKILL in the middle of a 50,000-row commit: nothing of it is written; another
    worker's keeper finds the job silent, sends it again, and the second worker imports
    every row, once."""
    donation = create_donation()
    signed_in("coordinator")
    rows = 50_000
    path = tmp_path / "devices.csv"
    path.write_text("Serial number,Model\n" + "".join(f"K{n:06d},T10\n" for n in range(rows)))
    env = _environment(database_url, tmp_path / "instance")
    log = tmp_path / "workers.log"
    first = _worker(env, log)
    second = None
    try:
        with path.open("rb") as handle:
            client.post(
                "/imports/",
                data={
                    "kind": "devices",
                    "donation_id": str(donation.id),
                    "file": (handle, "k.csv"),
                },
                content_type="multipart/form-data",
            )
        batch = db.session.scalars(sa.select(ImportBatch)).one()
        _until(lambda: db.session.get(ImportBatch, batch.id).state == "done", 180, "the check")
        assert db.session.get(ImportBatch, batch.id).rows_new == rows
        client.post(f"/imports/{batch.id}/commit")
        commit = db.session.scalars(sa.select(Job).where(Job.kind == "imports.commit")).one()

        def in_the_middle():
            job = db.session.get(Job, commit.id)
            done, total = services.live_progress(job)
            return job.state == "running" and total and rows // 10 <= done < rows

        _until(in_the_middle, 120, "the commit under way")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert db.session.query(Device).count() == 0  # nothing half-written
        second = _worker(env, log)
        _until(lambda: db.session.get(Job, commit.id).state == "done", 240, "the second run")
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(30)
    job = db.session.get(Job, commit.id)
    assert job.attempts == 2, log.read_text()[-2000:]
    assert db.session.get(ImportBatch, batch.id).committed
    assert db.session.query(Device).count() == rows
    assert db.session.query(DeviceEvent).count() == rows  # one registration each: once
    assert "Imported. Every row above is in the tracker." in text_of(
        client.get(f"/imports/{batch.id}")
    )


def _serve(env: dict, port: int, log: Path) -> subprocess.Popen:
    server = subprocess.Popen(  # noqa: S603
        [
            GUNICORN,
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            # each server its own control socket (gunicorn 23+ has one per master)
            "--control-socket",
            str(log.parent / f"gunicorn-{port}.ctl"),
            "tracker:create_app()",
        ],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
            return server
        except requests.RequestException:
            time.sleep(0.2)
    server.kill()
    server.wait(10)
    raise AssertionError(f"server on {port} did not start: {log.read_text()[-2000:]}")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_job_started_through_one_server_is_followed_to_its_file_through_another(
    app, create_user, create_device, database_url, real_queue, tmp_path
):
    if not database_url.startswith("postgresql"):
        pytest.skip("several servers share a PostgreSQL database; SQLite is one machine's")
    for _ in range(3):
        create_device()
    user = create_user("manager")
    db.session.commit()
    log = tmp_path / "servers.log"
    processes = []
    try:
        ports = []
        for name in ("web-a", "web-b"):
            ports.append(_free_port())
            processes.append(_serve(_environment(database_url, tmp_path / name), ports[-1], log))
        for name in ("worker-a", "worker-b"):
            processes.append(_worker(_environment(database_url, tmp_path / name), log))
        a, b = (f"http://127.0.0.1:{port}" for port in ports)
        browser = requests.Session()
        form = browser.get(f"{a}/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        signed = browser.post(
            f"{a}/login",
            data={"email": user.email, "password": PASSWORD, "csrf_token": token},
            allow_redirects=False,
        )
        assert signed.status_code == 302, signed.text[:500]
        page = browser.get(f"{a}/devices/").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        started = browser.post(
            f"{a}/exports/devices.xlsx", data={"csrf_token": token}, allow_redirects=False
        )
        job_page = started.headers["Location"]
        assert re.fullmatch(r"/jobs/\d+", job_page), started.text[:500]

        def finished():
            status = browser.get(f"{b}{job_page}.json").json()
            return status if status["state"] in ("done", "failed") else None

        status = _until(finished, 60, "the export")
        assert status["state"] == "done", status
        workbook = browser.get(f"{b}{status['download']}")
        assert openpyxl.load_workbook(io.BytesIO(workbook.content)).active.max_row == 4
        worker_pids = {str(process.pid) for process in processes[2:]}
        job = db.session.get(Job, int(job_page.rsplit("/", 1)[1]))
        assert job.worker.split(":")[1] in worker_pids
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(30)


def test_the_command_line_pings_the_queue_and_a_worker_needs_a_queue(runner):
    answer = runner.invoke(args=["jobs", "ping", "--count", "5"])
    assert answer.exit_code == 0, answer.output
    assert re.fullmatch(r"5 jobs in [\d.]+ s: \d+ jobs/s\n", answer.output)
    assert db.session.query(Job).filter_by(kind="jobs.ping", state="done").count() == 5
    refused = runner.invoke(args=["worker"])
    assert refused.exit_code == 1 and "immediate" in refused.output
