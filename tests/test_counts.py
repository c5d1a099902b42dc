"""Counts at the schools: the expected lists fixed when a count opens, scans online and from
the offline queue, each school's figures, and closing with a manager's confirmation."""

import re
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from conftest import login, statements_of, text_of, token_for
from tracker.counts import services
from tracker.counts.models import Count, CountExtra, CountLine
from tracker.devices.models import Device, DeviceEvent
from tracker.extensions import db
from tracker.loans.models import Loan
from tracker.schools.models import SchoolStaff
from tracker.timezone import local_today


@pytest.fixture
def count_setting(create_user, create_school, create_device):
    """Two schools of Rabat with delivered tablets (one lent), a school elsewhere, the
    office, a manager, a field agent and the first school's head teacher."""
    a = create_school(name_fr="École Al Amal", province="Rabat")
    b = create_school(name_fr="École Ibn Sina", province="Rabat")
    far = create_school(name_fr="École du Sud", province="Tata", region="Souss-Massa")
    at_a = [create_device(serial=f"SN-A-{n}") for n in range(3)]
    at_b = [create_device(serial=f"SN-B-{n}") for n in range(2)]
    at_far = create_device(serial="SN-FAR")
    stock = create_device(serial="SN-STOCK")
    for devices, school in ((at_a, a), (at_b, b), ([at_far], far)):
        for device in devices:
            device.status, device.school_id = "delivered", school.id
    at_a[2].status = "on_loan"
    head = create_user("school")
    db.session.add(SchoolStaff(user_id=head.id, school_id=a.id))
    db.session.commit()
    return {
        "a": a,
        "b": b,
        "far": far,
        "at_a": at_a,
        "at_b": at_b,
        "at_far": at_far,
        "stock": stock,
        "coordinator": create_user("coordinator"),
        "manager": create_user("manager"),
        "agent": create_user("field"),
        "head": head,
    }


def _open(client, **values):
    today = local_today()
    data = {
        "name": "Fin d'année 2027",
        "scope": "province",
        "scope_value": "Rabat",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=14)).isoformat(),
        **values,
    }
    return client.post("/counts/", data=data)


def _scan(client, count_id, school_id, code, condition=""):
    return client.post(
        f"/counts/{count_id}/schools/{school_id}",
        data={"code": code, "condition": condition},
        headers={"Accept": "application/json"},
    )


def test_a_count_fixes_each_schools_list_and_shows_what_was_found_live(client, count_setting):
    s = count_setting
    login(client, s["coordinator"])
    opened = _open(client)
    assert opened.status_code == 302
    count_id = int(opened.headers["Location"].rsplit("/", 1)[1])
    page = text_of(client.get(opened.headers["Location"]))
    assert "5 Expected" in page and "École Al Amal" in page and "École du Sud" not in page
    # Fixed at opening: a tablet handed over later is not on the list.
    late = db.session.get(Device, s["stock"].id)
    late.status, late.school_id = "delivered", s["a"].id
    db.session.commit()
    assert db.session.get(CountLine, (count_id, s["a"].id, late.id)) is None

    head = client.application.test_client()
    login(head, s["head"])
    home = text_of(head.get("/my-school"))
    assert "Count the tablets: Fin d'année 2027" in home
    found = _scan(head, count_id, s["a"].id, s["at_a"][0].serial, "good").get_json()
    parts = {key: found.pop(key) for key in ("figures", "lists")}
    assert found == {
        "ok": True,
        "message": f"{s['at_a'][0].asset_tag} counted.",
        "outcome": "found",
    }
    # The page's figures and lists as they are now, for it to redraw in place.
    assert re.search(r'card-figure">1</span><span>Found', parts["figures"])
    assert s["at_a"][0].asset_tag in parts["lists"].split('data-testid="count-found"')[1]
    # The lent tablet, brought in by its borrower, counts too.
    assert _scan(head, count_id, s["a"].id, s["at_a"][2].asset_tag).get_json()["outcome"] == "found"
    again = _scan(head, count_id, s["a"].id, s["at_a"][0].serial).get_json()
    assert again["outcome"] == "again" and "already counted" in again["message"]
    seen_before = db.session.get(Device, s["at_b"][0].id).last_seen_at
    elsewhere = _scan(head, count_id, s["a"].id, s["at_b"][0].serial, "damaged").get_json()
    # Where else it is listed is the office's to know, not the school's.
    assert elsewhere["outcome"] == "elsewhere" and "École Ibn Sina" not in elsewhere["message"]
    assert "for the office to check" in elsewhere["message"]
    stray = _scan(head, count_id, s["a"].id, late.serial).get_json()
    assert stray["outcome"] == "unexpected"
    unknown = _scan(head, count_id, s["a"].id, "NOPE-123")
    assert (
        unknown.get_json()["ok"] is False
        and "No tablet has the code" in unknown.get_json()["message"]
    )
    # Not their school, and a school the count does not cover.
    assert _scan(head, count_id, s["b"].id, s["at_b"][1].serial).status_code == 404

    figures = services.school_figures(count_id, [s["a"].id, s["b"].id])
    a, b = figures[s["a"].id], figures[s["b"].id]
    assert (a.expected, a.found, a.not_seen, a.unexpected) == (3, 2, 1, 2)
    # School B's tablet seen at A is a sighting to check: B's list and the tablet unchanged.
    assert (b.expected, b.found, b.not_seen, b.unexpected) == (2, 0, 2, 0)
    other = db.session.get(Device, s["at_b"][0].id)
    db.session.refresh(other)
    assert other.condition != "damaged" and other.last_seen_at == seen_before
    school_page = text_of(head.get(f"/counts/{count_id}/schools/{s['a'].id}"))
    assert "Not yet seen (1)" in school_page and s["at_a"][1].asset_tag in school_page
    device = db.session.get(Device, s["at_a"][0].id)
    assert device.last_seen_at is not None and device.condition == "good"
    types = db.session.scalars(
        sa.select(DeviceEvent.type).where(DeviceEvent.device_id == device.id)
    )
    assert "counted" in list(types)

    # The office accepts the sighting: seen at A, found on B's list, its condition noted.
    page = text_of(client.get(f"/counts/{count_id}/schools/{s['a'].id}"))
    assert "Accept: seen here" in page
    assert "Accept: seen here" not in school_page  # the school cannot accept its own
    extra = db.session.scalars(
        sa.select(CountExtra).where(CountExtra.device_id == s["at_b"][0].id)
    ).one()
    assert head.post(f"/counts/{count_id}/sightings/{extra.id}/accept").status_code == 403
    assert client.post(f"/counts/{count_id}/sightings/{extra.id}/accept").status_code == 302
    db.session.expire_all()
    b = services.school_figures(count_id, [s["b"].id])[s["b"].id]
    assert (b.found, b.not_seen) == (0, 1)  # found, at another school
    other = db.session.get(Device, s["at_b"][0].id)
    assert other.condition == "damaged" and other.last_seen_at != seen_before


def test_a_school_scanning_tablets_it_does_not_hold_changes_none_of_them(client, count_setting):
    """A school's staff sending the whole programme's tablets as found and damaged: each is
    a sighting to check; no tablet's condition, sighting or history changes."""
    s = count_setting
    login(client, s["coordinator"])
    count_id = int(_open(client).headers["Location"].rsplit("/", 1)[1])
    before = {d.id: (d.condition, d.last_seen_at) for d in db.session.scalars(sa.select(Device))}
    events = db.session.scalar(sa.select(sa.func.count()).select_from(DeviceEvent))
    others = [d for d in db.session.scalars(sa.select(Device)) if d.school_id != s["a"].id]
    actions = [
        {
            "type": "count_scan",
            "id": f"count-all-{d.id:05d}",
            "count_id": count_id,
            "school_id": s["a"].id,
            "code": d.asset_tag,
            "condition": "damaged",
        }
        for d in others
    ]
    answer = (
        client.application.test_client()
        .post("/api/v1/sync", headers=token_for(s["head"]), json={"actions": actions})
        .get_json()
    )
    assert {r["status"] for r in answer["results"]} == {"applied"}
    db.session.expire_all()
    after = {d.id: (d.condition, d.last_seen_at) for d in db.session.scalars(sa.select(Device))}
    assert after == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeviceEvent)) == events
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CountExtra)) == len(others)


def test_closing_asks_a_manager_and_what_was_not_seen_becomes_missing(app, client, count_setting):
    s = count_setting
    login(client, s["coordinator"])
    count_id = int(
        _open(client, scope="school", scope_value=str(s["a"].id))
        .headers["Location"]
        .rsplit("/", 1)[1]
    )
    loan_device = s["at_a"][2]
    db.session.add(
        Loan(
            device_id=loan_device.id,
            borrower_id=_borrower(s["a"].id).id,
            school_id=s["a"].id,
            due_on=local_today() + timedelta(days=30),
            agreement_version="2026-1",
            accessories_back="",
        )
    )
    db.session.commit()
    _scan(client, count_id, s["a"].id, s["at_a"][0].serial)
    assert client.post(f"/counts/{count_id}/close").status_code == 302
    assert "Waiting for a manager" in text_of(client.get(f"/counts/{count_id}"))
    assert _scan(client, count_id, s["a"].id, s["at_a"][1].serial).status_code == 409

    manager = app.test_client()
    login(manager, s["manager"])
    page = manager.get(f"/counts/{count_id}").get_data(as_text=True)
    assert 'data-testid="confirm-close"' in page
    done = manager.post(f"/counts/{count_id}/confirm")
    assert done.status_code == 302
    closed = text_of(manager.get(f"/counts/{count_id}"))
    assert "2 tablets not seen were reported lost" in closed
    for device in (s["at_a"][1], loan_device):
        device = db.session.get(Device, device.id)
        assert device.status == "lost"
        event = db.session.scalars(
            sa.select(DeviceEvent)
            .where(DeviceEvent.device_id == device.id)
            .order_by(DeviceEvent.id.desc())
        ).first()
        assert event.type == "reported_lost" and event.details["reason"] == "missing_at_count"
    assert db.session.get(Device, s["at_a"][0].id).status == "delivered"
    # The lent tablet not brought in: its loan ends, lost.
    assert db.session.scalar(sa.select(Loan.ended_as)) == "lost"


def _borrower(school_id):
    from tracker.loans.models import Borrower

    borrower = Borrower(school_id=school_id, code=f"P-{uuid.uuid4().hex[:6]}", name="Omar")
    db.session.add(borrower)
    db.session.flush()
    return borrower


def test_whoever_asked_to_close_cannot_confirm_alone(app, count_setting):
    from tracker.errors import Conflict

    s = count_setting
    count = services.open_count(
        None,
        name="Check",
        scope="programme",
        starts_on=local_today(),
        ends_on=local_today(),
    )
    assert count.expected == 6  # every handed-over or lent tablet of the programme
    services.ask_to_close(s["coordinator"], count.id)
    db.session.commit()
    from tracker.auth.services import create_user

    boss = create_user("boss@example.org", "admin", "correct horse battery")
    count.close_asked_by_id = boss.id
    with pytest.raises(Conflict, match="Another person confirms"):
        services.confirm_close(boss, count.id)
    db.session.rollback()


def test_count_scans_from_the_offline_queue_are_applied_once(app, client, count_setting):
    s = count_setting
    count = services.open_count(
        None,
        name="Offline",
        scope="province",
        scope_value="Rabat",
        starts_on=local_today(),
        ends_on=local_today(),
    )
    db.session.commit()
    headers = token_for(s["agent"])
    action = {
        "id": "count-" + uuid.uuid4().hex[:12],
        "type": "count_scan",
        "count_id": count.id,
        "school_id": s["b"].id,
        "code": s["at_b"][0].serial,
        "condition": "fair",
        "at": "2026-12-03T09:00:00Z",
    }
    first = client.post("/api/v1/sync", json={"actions": [action]}, headers=headers).get_json()
    assert first["results"][0]["status"] == "applied"
    second = client.post("/api/v1/sync", json={"actions": [action]}, headers=headers).get_json()
    assert second["results"][0]["status"] == "duplicate"
    line = db.session.get(CountLine, (count.id, s["b"].id, s["at_b"][0].id))
    assert line.status == "found" and line.condition == "fair"
    events = db.session.scalars(
        sa.select(DeviceEvent).where(
            DeviceEvent.device_id == s["at_b"][0].id, DeviceEvent.type == "counted"
        )
    ).all()
    assert len(events) == 1 and events[0].client_time is not None
    bad = dict(action, id="count-" + uuid.uuid4().hex[:12], school_id=s["far"].id)
    refused = client.post("/api/v1/sync", json={"actions": [bad]}, headers=headers).get_json()
    assert refused["results"][0]["status"] == "rejected"
    assert "does not cover" in refused["results"][0]["message"]


def test_a_count_page_asks_the_same_statements_whatever_the_schools_size(
    app, client, count_setting, create_device
):
    s = count_setting
    count = services.open_count(
        None,
        name="Size",
        scope="province",
        scope_value="Rabat",
        starts_on=local_today(),
        ends_on=local_today(),
    )
    db.session.commit()
    login(client, s["coordinator"])
    small = statements_of(lambda: client.get(f"/counts/{count.id}/schools/{s['a'].id}"))
    for n in range(30):
        device = create_device(serial=f"SN-MORE-{n}")
        device.status, device.school_id = "delivered", s["a"].id
    db.session.commit()
    bigger = services.open_count(
        None,
        name="Size 2",
        scope="province",
        scope_value="Rabat",
        starts_on=local_today(),
        ends_on=local_today(),
    )
    db.session.commit()
    large = statements_of(lambda: client.get(f"/counts/{bigger.id}/schools/{s['a'].id}"))
    assert small == large


def test_a_head_teacher_counts_from_the_api_at_their_school_only(client, count_setting):
    s = count_setting
    count = services.open_count(
        None,
        name="API",
        scope="province",
        scope_value="Rabat",
        starts_on=local_today(),
        ends_on=local_today(),
    )
    db.session.commit()
    headers = token_for(s["head"])
    listed = client.get("/api/v1/counts", headers=headers).get_json()["counts"]
    assert [(c["id"], [school["id"] for school in c["schools"]]) for c in listed] == [
        (count.id, [s["a"].id])
    ]
    at_a = client.get(f"/api/v1/counts/{count.id}/schools/{s['a'].id}", headers=headers)
    assert at_a.status_code == 200
    assert {t["asset_tag"] for t in at_a.get_json()["tablets"]} == {d.asset_tag for d in s["at_a"]}
    assert (
        client.get(f"/api/v1/counts/{count.id}/schools/{s['b'].id}", headers=headers).status_code
        == 404
    )
    # Nothing else of the programme.
    assert client.get("/api/v1/deliveries", headers=headers).status_code == 403
    action = {
        "id": "head-" + uuid.uuid4().hex[:12],
        "type": "count_scan",
        "count_id": count.id,
        "school_id": s["a"].id,
        "code": s["at_a"][1].serial,
    }
    answer = client.post("/api/v1/sync", json={"actions": [action]}, headers=headers).get_json()
    assert answer["results"][0]["status"] == "applied"
    elsewhere = dict(action, id="head-" + uuid.uuid4().hex[:12], school_id=s["b"].id)
    refused = client.post("/api/v1/sync", json={"actions": [elsewhere]}, headers=headers).get_json()
    assert refused["results"][0]["status"] == "rejected"


def test_opening_a_count_finds_the_region_as_typed_and_tells_every_problem_at_once(
    client, count_setting
):
    s = count_setting
    login(client, s["coordinator"])
    form = client.get("/counts/").get_data(as_text=True)
    # The places of the school list are offered as the user types.
    assert 'list="count-places"' in form and '<option value="Souss-Massa">' in form
    refused = client.post(
        "/counts/",
        data={"name": " ", "scope": "region", "scope_value": "Nowhere", "starts_on": ""},
    )
    said = text_of(refused)
    assert refused.status_code == 422
    for problem in (
        "Give the count a name.",
        "No school is in 'Nowhere'.",
        "Give the count's first day.",
        "Give the count's last day.",
    ):
        assert problem in said
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Count)) == 0
    today = local_today().isoformat()
    opened = client.post(
        "/counts/",
        data={
            "name": "Sud",
            "scope": "region",
            "scope_value": "souss  massa",
            "starts_on": today,
            "ends_on": today,
        },
    )
    assert opened.status_code == 302
    count = db.session.scalar(sa.select(Count))
    assert (count.scope_value, count.expected) == ("Souss-Massa", 1)
    # A school is named by its code.
    by_code = client.post(
        "/counts/",
        data={
            "name": "Une école",
            "scope": "school",
            "scope_value": s["b"].code.lower(),
            "starts_on": today,
            "ends_on": today,
        },
    )
    assert by_code.status_code == 302
    assert db.session.scalar(sa.select(Count).order_by(Count.id.desc())).expected == 2
