"""Hardening: the bug classes asset trackers have been hit by, each proven absent here.
SECURITY.md lists every threat with the test that covers it (some live in other files)."""

import io
import sqlite3
import threading
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from conftest import (
    BASE_URL,
    PASSWORD,
    dispatched_delivery,
    login,
    make_app,
    signature_data_url,
    text_of,
)
from tracker.auth.models import User
from tracker.deliveries import handover, services
from tracker.deliveries.models import Delivery
from tracker.devices.models import Device, DeviceEvent
from tracker.errors import Conflict, DomainError, IllegalTransition, ValidationFailed
from tracker.extensions import db
from tracker.spreadsheets.models import ImportBatch
from tracker.spreadsheets.readers import UnusableFile, iter_rows, sniff

XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


# 1. Objects fetched by id or by scan are checked against who asks -------------------


def test_a_tampered_qr_url_reveals_nothing(client, create_user, create_device):
    device = create_device()
    login(client, create_user("field"))
    tampered = device.qr_token[:-1] + ("A" if device.qr_token[-1] != "A" else "B")
    response = client.get(f"/d/{tampered}")
    assert response.status_code == 404
    assert device.asset_tag not in response.text and device.serial not in response.text


def test_incremented_ids_of_another_agents_delivery_answer_404(client, delivery_setting):
    s = delivery_setting
    made = services.create_deliveries(
        s["plan"].id, actor=s["coordinator"], assigned_to_id=s["agent"].id, planned_on=None
    )
    db.session.commit()
    login(client, s["other_agent"])
    for delivery in made:
        for path in (f"/deliveries/{delivery.id}", f"/api/v1/deliveries/{delivery.id}"):
            response = client.get(path)
            assert response.status_code == 404
            assert delivery.school.name_fr not in response.text


# 2. Mass assignment ---------------------------------------------------------------------


def test_extra_form_fields_cannot_set_state_school_or_version(client, create_user, create_device):
    device = create_device()
    login(client, create_user("coordinator"))
    client.post(
        f"/devices/{device.id}/edit",
        data={
            "donation_id": device.donation_id,
            "serial": device.serial,
            "condition": "new",
            "model": "T10 bis",
            "version": str(device.version),
            "status": "delivered",
            "school_id": "1",
            "asset_tag": "TAB-99999",
            "qr_token": "chosen",
        },
    )
    db.session.expire_all()
    saved = db.session.get(Device, device.id)
    assert saved.model == "T10 bis"
    assert (saved.status, saved.school_id, saved.asset_tag) == ("in_stock", None, device.asset_tag)
    assert saved.qr_token == device.qr_token


def test_a_user_cannot_give_themself_a_role(client, create_user):
    user = create_user("field")
    login(client, user)
    client.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "password": "another long password",
            "confirm": "another long password",
            "role": "admin",
            "active": "y",
            "session_version": "1",
        },
    )
    db.session.expire_all()
    assert db.session.get(User, user.id).role == "field"
    assert client.get("/admin/users").status_code in (302, 403)


def test_extra_json_fields_in_a_sync_action_are_ignored(client, delivery_setting):
    from tracker.auth.tokens import create_token

    s = delivery_setting
    (delivery,) = services.create_deliveries(
        s["plan"].id,
        actor=s["coordinator"],
        assigned_to_id=s["agent"].id,
        planned_on=None,
        school_ids=[s["school_a"].id],
    )
    _record, secret = create_token(s["agent"])
    db.session.commit()
    action = {
        "id": "aaaaaaaa-0001",
        "type": "scan",
        "delivery_id": delivery.id,
        "code": s["b_devices"][0].asset_tag,
        "status": "delivered",
        "school_id": s["school_a"].id,
        "user_id": s["coordinator"].id,
    }
    answer = client.post(
        "/api/v1/sync", json={"actions": [action]}, headers={"Authorization": f"Bearer {secret}"}
    ).get_json()
    assert answer["results"][0]["status"] == "rejected"
    db.session.expire_all()
    device = db.session.get(Device, s["b_devices"][0].id)
    assert (device.status, device.school_id) == ("reserved", s["school_b"].id)


# 3. Stored XSS, security headers, cookies ----------------------------------------------


def test_hostile_names_render_escaped_everywhere(client, delivery_setting):
    s = delivery_setting
    school = s["school_a"]
    school.name_fr, school.name_ar = XSS, XSS
    s["a_devices"][0].model = XSS
    s["plan"].donation.donor.name = XSS
    db.session.commit()
    (delivery,) = services.create_deliveries(
        s["plan"].id,
        actor=s["coordinator"],
        assigned_to_id=s["agent"].id,
        planned_on=None,
        school_ids=[school.id],
    )
    db.session.commit()
    login(client, s["coordinator"])
    pages = [
        "/",
        "/schools/",
        f"/schools/{school.id}",
        f"/devices/{s['a_devices'][0].id}",
        "/devices/",
        f"/donations/{s['plan'].donation_id}",
        f"/plans/{s['plan'].id}",
        f"/deliveries/{delivery.id}",
        "/deliveries/",
        "/progress?region=" + school.region,
    ]
    for page in pages:
        html = client.get(page).text
        assert "<script>alert(1)" not in html and "<img src=x" not in html, page
        assert "&lt;script&gt;" in html or "&lt;img" in html or XSS not in html, page
    note = client.get(f"/deliveries/{delivery.id}/note.pdf")
    assert note.mimetype == "application/pdf" and note.data.startswith(b"%PDF")


def test_security_headers_and_cookies(client, create_user, database_url):
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")  # https
    plain = make_app(database_url, BASE_URL="http://127.0.0.1:5000").test_client()
    assert "Strict-Transport-Security" not in plain.get("/login").headers
    secure = make_app(database_url, BASE_URL="https://tracker.example.org")
    secure.config["SESSION_COOKIE_SECURE"] = True
    answer = secure.test_client().get("/login")
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    user = create_user("manager")
    signed = secure.test_client().post("/login", data={"email": user.email, "password": PASSWORD})
    cookie = signed.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


# 5. Hostile spreadsheets -----------------------------------------------------------------


def test_xxe_is_refused_and_nothing_is_read(app, tmp_path):
    path = tmp_path / "xxe.xlsx"
    with zipfile.ZipFile(path, "w") as workbook:
        workbook.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            "&e;</Types>",
        )
        workbook.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises((UnusableFile, ValidationFailed)) as refused:
        list(iter_rows(path, sniff(path, "xxe.xlsx"), 1000))
    assert "root:" not in str(refused.value)


def test_a_renamed_text_file_and_too_many_rows(app, tmp_path, create_donation):
    from tracker.spreadsheets.services import import_file

    donation = create_donation()
    renamed = tmp_path / "list.xlsx"  # a letter saved under a spreadsheet's name
    renamed.write_text("Dear team,\nplease find the tablets attached.\nRegards\n")
    with pytest.raises(ValidationFailed, match="No header row found"):
        import_file(
            "devices", renamed, "list.xlsx", commit=True, actor=None, donation_id=donation.id
        )
    many = tmp_path / "many.csv"
    many.write_text("serial\n" + "".join(f"SN{n:07d}\n" for n in range(1200)))
    app.config["IMPORT_MAX_ROWS"] = 1000
    with pytest.raises(UnusableFile, match="more than 1,000 rows"):
        import_file("devices", many, "many.csv", commit=True, actor=None, donation_id=donation.id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Device)) == 0


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=2000), st.sampled_from(["f.xlsx", "f.csv", "f.xls", "f"]))
def test_readers_answer_any_bytes_with_a_sentence_never_a_crash(tmp_path, data, name):
    path = tmp_path / "fuzz.bin"
    path.write_bytes(data)
    app = make_app("sqlite://")
    with app.app_context():
        try:
            for _row in iter_rows(path, sniff(path, name), 10_000):
                pass
        except (UnusableFile, ValidationFailed, DomainError):
            pass


def test_a_refused_upload_leaves_no_file_behind(client, create_user, app):
    """Nothing kept of it: no stored file, no batch, and no temporary file on the disk."""
    import tempfile
    from pathlib import Path

    from tracker.jobs.models import StoredFile

    login(client, create_user("coordinator"))
    folder = Path(tempfile.gettempdir())
    before = set(folder.glob("tracker-upload-*"))
    response = client.post(
        "/imports/",
        data={"kind": "schools", "file": (io.BytesIO(b"%PDF-1.4 not a sheet"), "x.xlsx")},
        content_type="multipart/form-data",
    )
    assert "PDF document" in text_of(response)
    assert set(folder.glob("tracker-upload-*")) == before
    assert db.session.query(StoredFile).count() == 0
    assert db.session.query(ImportBatch).count() == 0


# 6. Concurrency --------------------------------------------------------------------------


def test_twenty_hand_overs_of_one_delivery_at_once_record_it_once(
    app, delivery_setting, database_url
):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    for device in s["a_devices"]:
        handover.field_scan(delivery_id, device.asset_tag, s["agent"])
    db.session.commit()
    agent_id = s["agent"].id
    start, outcomes = threading.Barrier(20), []
    # Twenty connections at once, as twenty server workers would have.
    workers = make_app(
        database_url, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 25, "pool_pre_ping": True}
    )

    def hand_over():
        # Each inside a POST, as the server runs it (on SQLite: BEGIN IMMEDIATE, in turn).
        with workers.test_request_context("/", method="POST"):
            start.wait(timeout=30)
            try:
                agent = db.session.get(User, agent_id)
                handover.confirm_handover(
                    delivery_id,
                    actor=agent,
                    recipient_name="Mme Amal",
                    recipient_role="Directrice",
                    signature=signature_data_url(),
                )
                db.session.commit()
                outcomes.append("won")
            except (IllegalTransition, Conflict) as refusal:
                db.session.rollback()
                outcomes.append(("refused", refusal.status_code))
            except sa.exc.OperationalError:  # SQLite: the write lock stayed taken
                db.session.rollback()
                outcomes.append("busy")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=hand_over) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes.count("won") == 1, outcomes
    assert all(o == ("refused", 409) or o == "busy" for o in outcomes if o != "won")
    db.session.expire_all()
    events = db.session.scalar(
        sa.select(sa.func.count()).select_from(DeviceEvent).where(DeviceEvent.type == "delivered")
    )
    assert events == 3 and db.session.get(Delivery, delivery_id).status == "delivered"


def test_a_busy_sqlite_database_answers_try_again_and_writes_nothing(
    client, create_user, database_url, app
):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    user = create_user("coordinator")
    # The wait is the app's setting (TRACKER_SQLITE_BUSY_TIMEOUT): short here.
    client = make_app(database_url, SQLITE_BUSY_TIMEOUT=0.3).test_client()
    login(client, user)
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    holder.execute("BEGIN IMMEDIATE")
    try:
        response = client.post(
            "/donations/new",
            data={"reference": "BUSY-1", "donor": "X", "received_on": "2026-01-01", "quantity": 5},
        )
    finally:
        holder.rollback()
        holder.close()
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert "The database is busy; nothing was saved" in text_of(response)


# 7. Sign-in ------------------------------------------------------------------------------


def test_guessing_a_password_is_slowed_per_account_even_with_forged_addresses(client, create_user):
    user = create_user("admin")
    for n in range(5):
        wrong = client.post(
            "/login",
            data={"email": user.email, "password": f"guess {n}"},
            headers={"X-Forwarded-For": f"10.0.0.{n}"},
        )
        assert "Wrong e-mail or password" in text_of(wrong)
    blocked = client.post(
        "/login",
        data={"email": user.email, "password": "guess 6"},
        headers={"X-Forwarded-For": "10.0.0.99"},
    )
    assert blocked.status_code == 429 and "Too many failed sign-ins" in text_of(blocked)
    assert int(blocked.headers["Retry-After"]) >= 1


def test_the_client_address_comes_from_trusted_proxies_only(database_url, create_user):
    from tracker.auth.models import LoginFailure

    user = create_user("manager")
    behind_one = make_app(database_url, TRUSTED_PROXIES=1).test_client()
    behind_one.post(
        "/login",
        data={"email": user.email, "password": "nope"},
        headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.9"},
    )
    direct = make_app(database_url).test_client()
    direct.post(
        "/login",
        data={"email": user.email, "password": "nope"},
        headers={"X-Forwarded-For": "6.6.6.6"},
    )
    addresses = db.session.scalars(sa.select(LoginFailure.address).order_by(LoginFailure.id))
    assert list(addresses) == ["203.0.113.9", "127.0.0.1"]


def test_sign_in_starts_a_new_session_and_hashes_are_scrypt(client, create_user):
    user = create_user("manager")
    with client.session_transaction() as before:
        before["planted"] = "by someone else"
    login(client, user)
    with client.session_transaction() as after:
        assert "planted" not in after
    assert db.session.get(User, user.id).password_hash.startswith("scrypt:")


# 8. The audit log is append-only ---------------------------------------------------------


def test_events_cannot_be_changed_on_postgresql(app, create_device, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the trigger is PostgreSQL's; SQLite relies on the service layer")
    create_device()
    for statement in (
        sa.update(DeviceEvent).values(type="tagged"),
        sa.delete(DeviceEvent),
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(statement)
        db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeviceEvent)) == 1


def test_no_service_updates_or_deletes_an_event():
    root = Path(__file__).resolve().parent.parent / "tracker"
    for source in root.rglob("*.py"):
        text = source.read_text()
        for forbidden in ("update(DeviceEvent)", "delete(DeviceEvent)", "DeviceEvent).delete"):
            assert forbidden not in text, f"{source.name} changes events ({forbidden})"


# 9. Uploads ------------------------------------------------------------------------------


def test_an_svg_photo_or_signature_is_refused(app):
    from tracker.deliveries.media import clean_photo, clean_signature

    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    with pytest.raises(ValidationFailed):
        clean_photo(svg)
    with pytest.raises(ValidationFailed):
        clean_signature(svg)
    image = Image.new("RGB", (10, 10), "white")
    out = io.BytesIO()
    image.save(out, "PNG")
    with pytest.raises(ValidationFailed, match="sign on the screen"):
        clean_signature(out.getvalue())  # a blank picture is no signature


def test_a_request_over_the_size_limit_gets_a_friendly_413(client, create_user, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    login(client, create_user("coordinator"))
    response = client.post(
        "/imports/",
        data={"kind": "schools", "file": (io.BytesIO(b"x" * 5000), "big.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413 and "The file is too large." in text_of(response)


# 10. Backups -----------------------------------------------------------------------------


def test_backup_during_writes_then_restore(tmp_path, create_device, runner, database_url, app):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's backup API; PostgreSQL uses pg_dump (README)")
    for _ in range(20):
        create_device()
    live = database_url.removeprefix("sqlite:///")
    stop = threading.Event()

    def keep_writing():
        writer = sqlite3.connect(live, timeout=10)
        n = 0
        while not stop.is_set():
            writer.execute("UPDATE devices SET notes = ? WHERE id = 1", (f"note {n}",))
            writer.commit()
            n += 1
        writer.close()

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        backed_up = runner.invoke(args=["backup", str(tmp_path / "copy.sqlite")])
    finally:
        stop.set()
        thread.join(10)
    assert backed_up.exit_code == 0 and "(20 devices)" in backed_up.output, backed_up.output
    create_device()  # written after the backup: the restore brings back the 20
    db.session.remove()
    restored = runner.invoke(args=["restore", str(tmp_path / "copy.sqlite"), "--yes"])
    assert restored.exit_code == 0 and "(20 devices)" in restored.output, restored.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Device)) == 20
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"not a database at all")
    refused = runner.invoke(args=["restore", str(broken), "--yes"])
    assert refused.exit_code != 0 and "is not a tracker database" in refused.output


def test_base_url_is_used_for_links_not_the_host_header(client, create_user, create_device):
    device = create_device()
    login(client, create_user("coordinator"))
    page = client.get(f"/devices/{device.id}", headers={"Host": "evil.example.com"})
    assert f"{BASE_URL}/d/{device.qr_token}" in page.text or "evil.example.com" not in page.text
