"""Sessions, tokens, sign-in throttling and what the server writes: signing out ends the
session on the server, tokens follow the person, nobody can lock everybody out, the API's
CSRF exemption needs a valid token, files are the server's own."""

import os
import stat
from datetime import timedelta

import sqlalchemy as sa

from conftest import PASSWORD, dispatched_delivery, login, make_app, text_of, token_for
from tracker.auth import services, throttle
from tracker.auth.models import ApiToken, LoginFailure
from tracker.database import utcnow
from tracker.extensions import db


def _cookie(client, name):
    found = client.get_cookie(name)
    return found.value if found else None


# 8. Signing out ends the session on the server ------------------------------------------


def test_session_and_remember_cookies_copied_before_sign_out_are_refused_after(
    app, client, create_user
):
    user = create_user("coordinator")
    client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    session_cookie, remember = _cookie(client, "session"), _cookie(client, "remember_token")
    assert session_cookie and remember
    assert client.get("/devices/").status_code == 200
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", session_cookie)
    assert thief.get("/devices/").status_code == 302  # to the sign-in page
    other = app.test_client()
    other.set_cookie("remember_token", remember)
    assert other.get("/devices/").status_code == 302
    # Signing in again works, and another browser's sign-in was not ended by this one.
    login(client, user)
    assert client.get("/devices/").status_code == 200


def test_signing_out_one_browser_leaves_the_others_signed_in(app, create_user):
    user = create_user("field")
    phone, desk = app.test_client(), app.test_client()
    login(phone, user)
    login(desk, user)
    desk.post("/logout")
    assert phone.get("/deliveries/").status_code == 200
    assert desk.get("/deliveries/").status_code == 302


def test_the_remember_cookie_is_secure_under_https_and_lasts_at_most_30_days(
    database_url, create_user, monkeypatch
):
    monkeypatch.setenv("TRACKER_BASE_URL", "https://tracker.example.org")
    monkeypatch.setenv("TRACKER_REMEMBER_DAYS", "365")
    secure = make_app(database_url)
    assert secure.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=30)
    user = create_user("manager")
    answer = secure.test_client().post(
        "/login", data={"email": user.email, "password": PASSWORD, "remember": "y"}
    )
    remember = [c for c in answer.headers.getlist("Set-Cookie") if c.startswith("remember")]
    assert remember and "Secure" in remember[0] and "SameSite=Lax" in remember[0]
    assert "HttpOnly" in remember[0]


# 9. Nobody can lock everybody out ---------------------------------------------------------


def test_fifty_failures_from_one_address_do_not_keep_the_admin_out_of_a_known_browser(
    app, create_user
):
    admin = create_user("admin")
    browser = app.test_client()
    login(browser, admin)
    browser.post("/logout")
    attacker = app.test_client()
    for n in range(55):
        attacker.post("/login", data={"email": f"nobody{n}@example.org", "password": "x"})
    # Everyone behind the same proxy address is slowed, by a delay, not a lock-out...
    stranger = app.test_client().post("/login", data={"email": admin.email, "password": PASSWORD})
    assert stranger.status_code == 429 and "Wait" in text_of(stranger)
    # ...and the admin's own browser still signs in with the right password.
    answer = browser.post("/login", data={"email": admin.email, "password": PASSWORD})
    assert answer.status_code == 302


def test_ten_wrong_guesses_do_not_lock_the_owner_of_a_known_browser(app, create_user):
    owner = create_user("coordinator")
    phone = app.test_client()
    login(phone, owner)
    phone.post("/logout")
    guesser = app.test_client()
    for n in range(12):
        guesser.post("/login", data={"email": owner.email, "password": f"guess {n}"})
    assert (
        phone.post("/login", data={"email": owner.email, "password": PASSWORD}).status_code == 302
    )


def test_delays_grow_with_each_failure_and_end_in_time(app, create_user):
    user = create_user("field")
    waits = []
    for n in range(8):
        db.session.add(LoginFailure(email=user.email, address=f"192.0.2.{n}", at=utcnow()))
        db.session.commit()
        try:
            throttle.sign_in(throttle.Attempt(user.email, PASSWORD, "198.51.100.7"))
            waits.append(0)
        except throttle.TooSoon as error:
            waits.append(error.seconds)
        db.session.rollback()
    assert waits == [0, 0, 0, 0, 1, 2, 4, 8]
    # Once the delay after the latest failure has passed, the right password passes.
    db.session.execute(sa.update(LoginFailure).values(at=utcnow() - timedelta(seconds=9)))
    db.session.commit()
    assert throttle.sign_in(throttle.Attempt(user.email, PASSWORD, "198.51.100.7")) is not None


def test_a_known_browser_that_keeps_failing_is_slowed_like_any_other(app, create_user):
    user = create_user("field")
    key = "k" * 32
    for n in range(throttle.DEVICE_FAILURES):
        assert throttle.sign_in(throttle.Attempt(user.email, f"bad {n}", "192.0.2.1", key)) is None
        db.session.commit()
    for _n in range(throttle.FREE_ACCOUNT_FAILURES):
        db.session.add(LoginFailure(email=user.email, address="192.0.2.9"))
    db.session.commit()
    try:
        throttle.sign_in(throttle.Attempt(user.email, PASSWORD, "192.0.2.1", key))
        raise AssertionError("a known browser that failed ten times is no longer trusted")
    except throttle.TooSoon:
        pass


# 10. The API's CSRF exemption needs a valid token -----------------------------------------


def test_an_invalid_bearer_header_does_not_skip_csrf_for_a_session(
    app, database_url, delivery_setting
):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    strict = make_app(database_url, WTF_CSRF_ENABLED=True).test_client()
    page = strict.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    strict.post(
        "/login", data={"email": s["agent"].email, "password": PASSWORD, "csrf_token": token}
    )
    action = {
        "id": "forged-0000001",
        "type": "scan",
        "delivery_id": delivery_id,
        "code": s["a_devices"][0].serial,
    }
    for header in ("Bearer nonsense", "Bearer trk_" + "x" * 43, "Bearer "):
        answer = strict.post(
            "/api/v1/sync", json={"actions": [action]}, headers={"Authorization": header}
        )
        assert answer.status_code in (400, 401), header
        assert answer.is_json
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0
    from tracker.deliveries.models import Delivery

    assert {i.status for i in db.session.get(Delivery, delivery_id).items} == {"packed"}


# 12. API tokens follow the person -----------------------------------------------------------


def test_password_reset_role_change_and_deactivation_revoke_tokens(app, client, create_user):
    admin = create_user("admin")
    for change in ("password", "role", "deactivate"):
        agent = create_user("field")
        headers = token_for(agent)
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        if change == "password":
            services.set_password(agent.id, "a brand new password")
        elif change == "role":
            services.update_user(agent.id, actor=admin, name="", role="manager", active=True)
        else:
            services.update_user(agent.id, actor=admin, name="", role="field", active=False)
            db.session.commit()
            services.update_user(agent.id, actor=admin, name="", role="field", active=True)
        db.session.commit()
        assert client.get("/api/v1/me", headers=headers).status_code == 401, change


# 11. What the server writes stays private -------------------------------------------------


def test_the_database_its_wal_and_backups_are_owner_only(tmp_path):
    database = tmp_path / "private.sqlite"
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"private.sqlite{suffix}").touch(mode=0o644)
        os.chmod(tmp_path / f"private.sqlite{suffix}", 0o644)
    (tmp_path / "private.sqlite-wal").unlink()
    (tmp_path / "private.sqlite-shm").unlink()
    database.unlink()
    fresh = make_app(f"sqlite:///{database}")
    with fresh.app_context():
        db.create_all()
        services.create_user("admin@example.org", "admin", PASSWORD)
        db.session.commit()
        backup = tmp_path / "copy.sqlite"
        result = fresh.test_cli_runner().invoke(args=["backup", str(backup)])
        assert result.exit_code == 0, result.output
        db.engine.dispose()
    for path in [database, backup, *tmp_path.glob("private.sqlite-*")]:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    # A database made 0644 by an older version is made private when the app starts.
    os.chmod(database, 0o644)
    make_app(f"sqlite:///{database}")
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
