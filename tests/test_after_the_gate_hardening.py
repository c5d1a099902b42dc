"""What a reviewer found when trying the after-the-gate pages as an attacker: numbers that
are digits to Python but not to a database, a school's staff learning of other schools'
tablets from a count, a photo field that came back into the page as sent, and kept
messages formatted from stored data."""

import pytest

from conftest import dispatched_delivery, handover_form, login, text_of
from tracker.extensions import db
from tracker.i18n import said
from tracker.schools.models import SchoolStaff
from tracker.timezone import local_today


@pytest.mark.parametrize("typed", ["²", "99999999999999999999999", "9223372036854775808"])
def test_numbers_python_calls_digits_are_refused_not_a_500(client, create_user, typed):
    coordinator = create_user("coordinator")
    login(client, coordinator)
    today = local_today().isoformat()
    opened = client.post(
        "/counts/",
        data={
            "name": "x",
            "scope": "school",
            "scope_value": typed,
            "starts_on": today,
            "ends_on": today,
        },
    )
    assert opened.status_code == 422 and "No school has the code" in text_of(opened)
    assert client.get("/devices/", query_string={"device": typed}).status_code == 200
    assert client.get("/labels/", query_string={"device": typed}).status_code in (200, 302)


def test_a_schools_staff_scanning_another_schools_tablet_learn_nothing_of_it(
    client, create_user, create_school, create_device
):
    from tracker.counts import services as counts

    mine, theirs = create_school(name_fr="École Mine"), create_school(name_fr="École Autre")
    stranger = create_device(serial="SN-SECRET-77")
    stranger.status, stranger.school_id = "delivered", theirs.id
    head = create_user("school")
    db.session.add(SchoolStaff(user_id=head.id, school_id=mine.id))
    db.session.commit()
    count = counts.open_count(
        None,
        name="Tous",
        scope="programme",
        starts_on=local_today(),
        ends_on=local_today(),
    )
    db.session.commit()
    login(client, head)
    answer = client.post(
        f"/counts/{count.id}/schools/{mine.id}",
        data={"code": stranger.asset_tag},
        headers={"Accept": "application/json"},
    ).get_json()
    assert answer["ok"] and "for the office to check" in answer["message"]
    assert "École Autre" not in answer["message"]
    assert "SN-SECRET-77" not in answer["lists"] and "École Autre" not in answer["lists"]


@pytest.mark.parametrize(
    "sent",
    [
        "https://evil.example/pixel.png",
        "javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "data:image/jpeg;base64," + "A" * 100_000,
    ],
)
def test_a_kept_photo_comes_back_only_as_a_photo_this_server_made(client, delivery_setting, sent):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    login(client, s["agent"])
    refused = client.post(
        f"/deliveries/{delivery_id}/handover",
        data={**handover_form(), "recipient_name": "", "photo_kept": sent},
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert sent[:40] not in page and 'data-testid="photo-kept"' not in page


@pytest.mark.parametrize(
    "stored",
    [
        {"m": "a %(x)99999999s", "v": {"x": 1}},
        {"m": "%(x).99999999f", "v": {"x": 1.0}},
        {"m": "%(x)c", "v": {"x": 99999999}},
        {"m": "a", "p": "b", "n": float("inf")},
        {"m": "No tablet has the code %(code)s.", "v": "abc"},
        '{"m": "%(x)99999999s", "v": {"x": 1}}',
    ],
)
def test_a_kept_message_is_never_formatted_beyond_our_own_placeholders(app, stored):
    with app.test_request_context():
        text = said(stored)
    assert len(text) < 100


def test_a_kept_message_of_ours_is_said_in_the_readers_language(app):
    from flask_babel import force_locale

    kept = {"m": "No tablet has the code %(code)s.", "v": {"code": "X-1"}}
    with app.test_request_context(), force_locale("fr"):
        assert said(kept) == "Aucune tablette n'a le code X-1."
    with app.test_request_context(), force_locale("en"):
        assert said(kept) == "No tablet has the code X-1."
