"""Configuration, the SQLite settings, security headers and packaging."""

import os
import re
import stat
import zipfile

import pytest
import sqlalchemy as sa

from tracker.config import load_config
from tracker.extensions import db


def test_secret_key_is_generated_once_owner_only(tmp_path, monkeypatch):
    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    first = load_config(tmp_path)["SECRET_KEY"]
    second = load_config(tmp_path)["SECRET_KEY"]
    assert first == second and len(first) >= 40
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600


def test_environment_sets_database_and_base_url(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_DATABASE_URL", "postgresql://u@db/tracker")
    monkeypatch.setenv("TRACKER_BASE_URL", "https://tablets.example.org/")
    config = load_config(tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/tracker"
    assert config["BASE_URL"] == "https://tablets.example.org"
    assert config["SESSION_COOKIE_SECURE"] is True


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    assert load_config(tmp_path)["SQLALCHEMY_DATABASE_URI"] == (
        f"sqlite:///{tmp_path / 'tracker.sqlite'}"
    )


def test_sqlite_runs_with_foreign_keys_wal_and_busy_timeout(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite settings")
    with db.engine.connect() as connection:
        pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("foreign_keys") == 1
        assert pragma("journal_mode") == "wal"
        assert pragma("busy_timeout") == 5000


def test_foreign_keys_are_enforced(app):
    from tracker.devices.models import Device

    db.session.add(Device(asset_tag="T-1", qr_token="x" * 22, serial="S1", donation_id=999))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_pages_send_security_headers(client):
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # Nothing from elsewhere (a CDN): every script, style and link is this app's own.
    # (Searching for "cdn" in the text failed now and then: it is in some CSRF tokens.)
    html = response.get_data(as_text=True)
    assert re.findall(r'(?:src|href)="[^"]*', html)
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', html)


def test_wheel_carries_templates_static_files_and_migrations(tmp_path):
    from hatchling.builders.wheel import WheelBuilder

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    [wheel] = list(WheelBuilder(root).build(directory=str(tmp_path), versions=["standard"]))
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "tracker/templates/base.html",
        "tracker/static/css/app.css",
        "tracker/static/vendor/pico/pico.min.css",
        "tracker/migrations/env.py",
        "tracker/migrations/versions/0001_initial_schema.py",
    ):
        assert expected in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "tracker = tracker.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def _probe_routes(app):
    """Two signed-in routes that report how their request talks to the database."""
    from flask import jsonify

    from tracker.web import roles_required

    @roles_required("admin", "coordinator", "manager", "field")
    def how():
        options = db.session.connection().get_execution_options()
        return jsonify(isolation=options.get("isolation_level"))

    @roles_required("admin", "coordinator", "manager", "field")
    def careless():
        from flask_login import current_user

        current_user.name = "changed by a GET"
        db.session.commit()
        return "written"

    app.add_url_rule("/_probe/how", "probe_how", how, methods=["GET", "POST"])
    app.add_url_rule("/_probe/careless", "probe_careless", careless)


def test_pages_that_only_read_skip_the_transaction_on_postgresql(app, create_user):
    """No BEGIN and no ROLLBACK for a GET on PostgreSQL (two round trips fewer a page);
    a POST keeps its transaction, and SQLite keeps its own local ones."""
    from conftest import login

    _probe_routes(app)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    login(client, create_user("manager"))
    read = client.get("/_probe/how").get_json()["isolation"]
    write = client.post("/_probe/how").get_json()["isolation"]
    assert read == ("AUTOCOMMIT" if db.engine.dialect.name == "postgresql" else None)
    assert write is None


def test_a_get_that_writes_is_refused(app, create_user):
    """A GET changes nothing: a view that tries is stopped before anything is written."""
    from conftest import login

    _probe_routes(app)
    user = create_user("manager")
    client = app.test_client()
    login(client, user)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    answer = client.get("/_probe/careless")
    assert answer.status_code == 500
    db.session.expire_all()
    assert user.name != "changed by a GET"


def test_sqlite_writers_take_turns_and_give_the_turn_back(app, create_user):
    """A write waits while another holds the writers' turn, goes as soon as it is free, and
    frees it when done (SQLite's own wait would sleep up to 100 ms a try)."""
    import fcntl
    import threading

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's writers")
    user = create_user("manager")
    turn = f"{db.engine.url.database}.writers"
    held = os.open(turn, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(held, fcntl.LOCK_EX)
    answered = threading.Event()

    email = user.email

    def wrong_password():  # a write: the failed sign-in is recorded
        with app.app_context():
            app.test_client().post("/login", data={"email": email, "password": "wrong"})
        answered.set()

    writer = threading.Thread(target=wrong_password)
    writer.start()
    try:
        assert not answered.wait(0.5), "the write did not wait for its turn"
    finally:
        os.close(held)
    assert answered.wait(10)
    writer.join()
    again = os.open(turn, os.O_RDWR)
    try:
        fcntl.flock(again, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again: raises if still held
    finally:
        os.close(again)
