"""School staff: invited by the office with a one-time link, they see their own school's
tablets and deliveries, and nothing of the rest of the programme."""

import re

import sqlalchemy as sa

from conftest import login
from tracker.extensions import db
from tracker.messages.models import OutboxMessage


def _invite(client, school_id, email, name="Amina Head"):
    return client.post(f"/schools/{school_id}/staff", data={"email": email, "name": name})


def _link_in(html: str) -> str:
    return re.search(r'value="(http[^"]+/invitation#[^"]+)"', html).group(1)


def _open(client, link: str):
    """What the link's page does: post the token after `#` (never in a URL)."""
    return client.post("/invitation/open", data={"token": link.partition("#")[2]})


def test_invited_head_teacher_sets_a_password_once_and_sees_only_their_school(
    app, client, create_user, create_school, create_device
):
    ours, theirs = create_school(name_fr="École Ibn Sina"), create_school(name_fr="École Voisine")
    mine, other = create_device(serial="SN-OURS-1"), create_device(serial="SN-THEIRS-1")
    mine.school_id, other.school_id = ours.id, theirs.id
    db.session.commit()
    login(client, create_user("coordinator"))
    page = _invite(client, ours.id, "Head@School.ma")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    link = _link_in(html)
    assert link.startswith(app.config["BASE_URL"] + "/invitation#")
    assert "head@school.ma" in html and "Invited, link valid until" in html
    letter = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.kind == "invitation"))
    # The link's secret waits sealed until the message leaves: not in the stored text.
    assert letter.recipient == "head@school.ma" and link not in letter.body
    assert "/invitation#{code}" in letter.body

    visitor = app.test_client()
    assert visitor.get("/invitation").status_code == 200  # the page that posts the token
    assert _open(visitor, link).headers["Location"] == "/invitation/password"
    path = "/invitation/password"
    page = visitor.get(path)
    assert page.status_code == 200
    shown = re.search(r'name="invitation" value="(\d+)"', page.get_data(as_text=True)).group(1)
    short = visitor.post(path, data={"password": "short", "again": "short", "invitation": shown})
    assert short.status_code == 400 and "at least 8 characters" in short.get_data(as_text=True)
    done = visitor.post(
        path,
        data={
            "name": "Amina",
            "password": "a long pass",
            "again": "a long pass",
            "invitation": shown,
        },
    )
    assert done.headers["Location"] == "/my-school"
    home = visitor.get("/my-school").get_data(as_text=True)
    assert "École Ibn Sina" in home and "SN-OURS-1" in home
    assert "SN-THEIRS-1" not in home and "École Voisine" not in home
    # Nothing of the programme: its pages, the search, the API, another school.
    for page in ("/devices/", f"/devices/{other.id}", "/schools/", "/deliveries/", "/search?q=SN"):
        assert visitor.get(page).status_code == 403, page
    assert visitor.get(f"/my-school?school={theirs.id}").status_code == 404
    assert visitor.get("/").headers["Location"] == "/my-school"
    # The link worked once.
    again = _open(app.test_client(), link)
    assert again.status_code == 404 and "used already" in again.get_data(as_text=True)


def test_a_new_link_ends_the_old_one_and_removing_the_last_school_disables_the_account(
    app, client, create_user, create_school
):
    school = create_school()
    login(client, create_user("admin"))
    first = _link_in(_invite(client, school.id, "ict@school.ma").get_data(as_text=True))
    second = _link_in(_invite(client, school.id, "ict@school.ma").get_data(as_text=True))
    assert first != second
    assert _open(client, first).status_code == 404
    from tracker.auth.models import User

    user = db.session.scalar(sa.select(User).where(User.email == "ict@school.ma"))
    assert client.post(f"/schools/{school.id}/staff/{user.id}/remove").status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, user.id).active
    # Disabled: the link no longer opens the account.
    assert _open(app.test_client(), second).status_code == 404


def test_the_programmes_own_people_cannot_be_made_school_staff(client, create_user, create_school):
    school = create_school()
    agent = create_user("field")
    login(client, create_user("coordinator"))
    page = _invite(client, school.id, agent.email)
    assert page.status_code == 400
    assert "already works for the programme itself" in page.get_data(as_text=True)
    assert _invite(client, school.id, "not an address").status_code == 400


def test_a_manager_cannot_invite(client, create_user, create_school):
    school = create_school()
    login(client, create_user("manager"))
    assert _invite(client, school.id, "x@school.ma").status_code == 403
    page = client.get(f"/schools/{school.id}").get_data(as_text=True)
    assert "Invite" not in page
