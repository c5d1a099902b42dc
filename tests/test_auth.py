"""Signing in and out, passwords, and the admin's user pages."""

import sqlalchemy as sa

from conftest import PASSWORD, login, text_of
from tracker.auth.models import User
from tracker.extensions import db


def test_sign_in_page_is_shown_to_visitors(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "Sign in" in text_of(response)


def test_wrong_password_and_unknown_email_get_the_same_message(client, create_user):
    user = create_user()
    wrong = client.post("/login", data={"email": user.email, "password": "nope"})
    unknown = client.post("/login", data={"email": "who@example.org", "password": "nope"})
    message = "Wrong e-mail or password, or the account is disabled."
    assert wrong.status_code == unknown.status_code == 400
    assert message in text_of(wrong) and message in text_of(unknown)


def test_disabled_account_cannot_sign_in(client, create_user):
    user = create_user()
    user.active = False
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400


def test_passwords_are_stored_as_scrypt_hashes(app, create_user):
    user = create_user()
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash


def test_next_only_leads_inside_the_app(client, create_user):
    user = create_user()
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = client.post(
            f"/login?next={target}", data={"email": user.email, "password": PASSWORD}
        )
        assert response.headers["Location"] == "/", target
        client.post("/logout")


def test_changing_ones_password_ends_other_sessions(app, create_user):
    user = create_user()
    phone, desk = app.test_client(), app.test_client()
    login(phone, user)
    login(desk, user)
    response = desk.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "password": "a new long password",
            "confirm": "a new long password",
        },
    )
    assert response.status_code == 302
    assert desk.get("/").status_code == 200  # this device stays signed in
    assert phone.get("/").status_code == 302  # the other one is out
    assert login(phone, user, "a new long password")


def test_wrong_current_password_is_named(signed_in, client):
    signed_in("field")
    response = client.post(
        "/account/password",
        data={
            "current": "wrong",
            "password": "a new long password",
            "confirm": "a new long password",
        },
    )
    assert "This is not your current password." in text_of(response)


def test_admin_creates_a_user_who_can_then_sign_in(signed_in, client, app):
    signed_in("admin")
    response = client.post(
        "/admin/users/new",
        data={
            "email": "Nadia@Example.org",
            "name": "Nadia",
            "role": "field",
            "password": "field password 1",
        },
    )
    assert response.status_code == 302
    assert "nadia@example.org" in text_of(client.get("/admin/users"))
    other = app.test_client()
    assert login(
        other,
        db.session.scalar(sa.select(User).where(User.email == "nadia@example.org")),
        "field password 1",
    )


def test_short_password_and_duplicate_email_are_refused_next_to_the_field(signed_in, client):
    admin = signed_in("admin")
    short = client.post(
        "/admin/users/new", data={"email": "x@example.org", "role": "field", "password": "short"}
    )
    assert "at least 8 characters" in text_of(short)
    duplicate = client.post(
        "/admin/users/new",
        data={"email": admin.email, "role": "field", "password": "long enough pw"},
    )
    assert f"A user with e-mail {admin.email} already exists." in text_of(duplicate)


def test_the_last_admin_cannot_be_demoted(signed_in, client):
    admin = signed_in("admin")
    response = client.post(
        f"/admin/users/{admin.id}", data={"name": "", "role": "manager", "active": "y"}
    )
    assert "There must remain at least one active admin." in text_of(response)
    assert db.session.get(User, admin.id).role == "admin"


def test_admin_resets_a_password(signed_in, client, create_user, app):
    signed_in("admin")
    user = create_user("field")
    response = client.post(
        f"/admin/users/{user.id}/password",
        data={"pw-password": "reset password 1", "pw-confirm": "reset password 1"},
    )
    assert response.status_code == 302
    assert login(app.test_client(), user, "reset password 1")
