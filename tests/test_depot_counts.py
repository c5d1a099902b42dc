"""A count of a depot: its shelf's list fixed when it opens, scans at the depot online and
from the offline queue, closing with a manager's confirmation, its report, and the offices
that reach it."""

import io
import uuid
from datetime import timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from conftest import login, text_of, token_for
from tracker.counts import services
from tracker.counts.models import CountStockLine
from tracker.devices.depots import create_depot
from tracker.devices.models import Device, DeviceEvent
from tracker.errors import Conflict, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.reports.counts import count_pdf, count_workbook
from tracker.schools.models import School
from tracker.timezone import local_today

SOUSS, ORIENTAL = "Souss-Massa", "L'Oriental"


@pytest.fixture
def shelf(create_user, create_school, create_device):
    """The Agadir depot's shelf: three tablets in stock, one reserved for a school (packed,
    not yet sent), one already handed over to that school; and the Oujda depot's one."""
    school = create_school(code="SM-0001", region=SOUSS, province="Agadir")
    create_school(code="OR-0001", region=ORIENTAL, province="Oujda-Angad")
    agadir = create_depot(code="DEP-AGA", name="Dépôt Agadir", region=SOUSS, actor=None)
    oujda = create_depot(code="DEP-OUJ", name="Dépôt Oujda", region=ORIENTAL, actor=None)
    db.session.commit()
    stock = [create_device(serial=f"SN-AGA-{n}", depot_id=agadir.id) for n in range(3)]
    reserved = create_device(serial="SN-AGA-RES", depot_id=agadir.id)
    reserved.status, reserved.school_id = "reserved", school.id
    handed = create_device(serial="SN-AGA-DEL", depot_id=agadir.id)
    handed.status, handed.school_id = "delivered", school.id
    elsewhere = create_device(serial="SN-OUJ-1", depot_id=oujda.id)
    souss = create_user("coordinator")
    souss.areas = [[SOUSS, ""]]
    souss_agent = create_user("field")
    souss_agent.areas = [[SOUSS, ""]]
    oriental = create_user("coordinator")
    oriental.areas = [[ORIENTAL, ""]]
    db.session.commit()
    return {
        "agadir": agadir,
        "oujda": oujda,
        "school": school,
        "stock": stock,
        "reserved": reserved,
        "handed": handed,
        "elsewhere": elsewhere,
        "souss": souss,
        "souss_agent": souss_agent,
        "oriental": oriental,
        "manager": create_user("manager"),
    }


def _open(actor, depot_code="DEP-AGA", starts_on=None):
    today = local_today()
    count = services.open_count(
        actor,
        name="Inventaire du dépôt",
        scope="depot",
        scope_value=depot_code,
        starts_on=starts_on or today,
        ends_on=(starts_on or today) + timedelta(days=7),
    )
    db.session.commit()
    return count


def _scan(client, count_id, code, condition=""):
    return client.post(
        f"/counts/{count_id}/depot",
        data={"code": code, "condition": condition},
        headers={"Accept": "application/json"},
    )


def test_a_depot_count_lists_its_shelf_and_shows_what_was_found_live(client, shelf):
    s = shelf
    login(client, s["souss"])
    today = local_today()
    opened = client.post(
        "/counts/",
        data={
            "name": "Inventaire du dépôt",
            "scope": "depot",
            "scope_value": " dépôt AGADIR ",  # its name, as typed
            "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=7)).isoformat(),
        },
    )
    assert opened.status_code == 302, text_of(opened)
    count_id = int(opened.headers["Location"].rsplit("/", 1)[1])
    # On the shelf: the three in stock and the reserved one; not the one handed over, not
    # another depot's.
    listed = set(
        db.session.scalars(
            sa.select(CountStockLine.device_id).where(CountStockLine.count_id == count_id)
        )
    )
    assert listed == {d.id for d in s["stock"]} | {s["reserved"].id}
    page = text_of(client.get(f"/counts/{count_id}"))
    assert "DEP-AGA" in page and "At the depot" in page and "By school" not in page

    found = _scan(client, count_id, s["stock"][0].serial, "good").get_json()
    assert found["ok"] and found["outcome"] == "found"
    assert _scan(client, count_id, s["reserved"].asset_tag).get_json()["outcome"] == "found"
    again = _scan(client, count_id, s["stock"][0].asset_tag).get_json()
    assert again["outcome"] == "again" and "already counted" in again["message"]
    unexpected = _scan(client, count_id, s["handed"].serial).get_json()
    assert unexpected["outcome"] == "unexpected"
    assert "not on this depot's list" in unexpected["message"]
    # Seen where it should not be: a sighting only, the tablet itself unchanged.
    assert db.session.get(Device, s["handed"].id).status == "delivered"
    refused = _scan(client, count_id, "NO-SUCH-CODE").get_json()
    assert not refused["ok"] and "NO-SUCH-CODE" in refused["message"]

    page = text_of(client.get(f"/counts/{count_id}/depot"))
    assert "Expected 4" not in page  # (figures are cards: number, then word)
    assert "4 Expected 2 Found 2 Not yet seen" in page
    assert "1 Unexpected" in page
    assert "recorded at" in page
    event = db.session.scalars(
        sa.select(DeviceEvent).where(
            DeviceEvent.device_id == s["stock"][0].id, DeviceEvent.type == "counted"
        )
    ).one()
    assert event.details["depot"] == "DEP-AGA" and event.details["condition"] == "good"
    assert db.session.get(Device, s["stock"][0].id).condition == "good"
    # The whole count's page has the same figures.
    assert "4 Expected 2 Found 2 Not yet seen" in text_of(client.get(f"/counts/{count_id}"))


def test_closing_a_depot_count_reports_lost_what_is_still_expected_on_its_shelf(create_user, shelf):
    s = shelf
    boss = create_user("admin")
    count = _open(s["souss"])
    services.depot_scan(s["souss_agent"], count.id, s["stock"][0].serial)
    # Not seen, but sent to a school since the count opened: not lost for it.
    db.session.get(Device, s["reserved"].id).status = "in_transit"
    db.session.commit()
    services.ask_to_close(boss, count.id)
    db.session.commit()
    with pytest.raises(Conflict, match="Another person confirms"):
        services.confirm_close(boss, count.id)
    db.session.rollback()
    closed = services.confirm_close(s["manager"], count.id)
    db.session.commit()
    assert closed.status == "closed" and closed.missing == 3
    states = {d.serial: db.session.get(Device, d.id).status for d in (*s["stock"], s["reserved"])}
    assert states == {
        "SN-AGA-0": "in_stock",
        "SN-AGA-1": "lost",
        "SN-AGA-2": "lost",
        "SN-AGA-RES": "in_transit",
    }
    event = db.session.scalars(
        sa.select(DeviceEvent).where(
            DeviceEvent.device_id == s["stock"][1].id, DeviceEvent.type == "reported_lost"
        )
    ).one()
    assert event.details == {"reason": "missing_at_count", "count": count.id}
    with pytest.raises(Conflict, match="closed"):
        services.depot_scan(s["souss_agent"], count.id, s["stock"][1].serial)


def test_a_depot_count_takes_no_scan_and_no_closing_before_its_first_day(shelf):
    s = shelf
    tomorrow = local_today() + timedelta(days=1)
    count = _open(s["souss"], starts_on=tomorrow)
    with pytest.raises(ValidationFailed, match="starts on"):
        services.depot_scan(s["souss_agent"], count.id, s["stock"][0].serial)
    db.session.rollback()
    # Closed before anything could be scanned, every tablet would be reported lost.
    with pytest.raises(Conflict, match="starts on"):
        services.ask_to_close(s["souss"], count.id)
    db.session.rollback()
    count.starts_on = local_today()
    db.session.commit()
    assert services.depot_scan(s["souss_agent"], count.id, s["stock"][0].serial).ok
    assert services.ask_to_close(s["souss"], count.id).status == "closing"


def test_depot_count_scans_from_the_offline_queue_are_applied_once(client, shelf):
    s = shelf
    count = _open(s["souss"])
    headers = token_for(s["souss_agent"])
    action = {
        "id": "count-" + uuid.uuid4().hex[:12],
        "type": "count_scan",
        "count_id": count.id,
        "depot_id": s["agadir"].id,
        "code": s["stock"][1].serial,
        "condition": "fair",
        "at": "2026-12-03T09:00:00Z",
    }
    first = client.post("/api/v1/sync", json={"actions": [action]}, headers=headers).get_json()
    assert first["results"][0]["status"] == "applied", first
    second = client.post("/api/v1/sync", json={"actions": [action]}, headers=headers).get_json()
    assert second["results"][0]["status"] == "duplicate"
    line = db.session.get(CountStockLine, (count.id, s["stock"][1].id))
    assert line.status == "found" and line.condition == "fair"
    # The depot a phone names must be the count's.
    wrong = dict(action, id="count-" + uuid.uuid4().hex[:12], depot_id=s["oujda"].id)
    refused = client.post("/api/v1/sync", json={"actions": [wrong]}, headers=headers).get_json()
    assert refused["results"][0]["status"] == "rejected"
    assert "does not cover this depot" in refused["results"][0]["message"]
    listed = client.get("/api/v1/counts", headers=headers).get_json()["counts"]
    assert [(c["id"], c["depot_id"]) for c in listed] == [(count.id, s["agadir"].id)]


def test_another_office_neither_opens_nor_scans_nor_reads_a_depot_s_count(
    client, create_user, shelf
):
    s = shelf
    # Another office's depot reads as no depot: its code says nothing of it.
    with pytest.raises(ValidationFailed, match="No depot has the code 'DEP-AGA'"):
        _open(s["oriental"], "DEP-AGA")
    db.session.rollback()
    with pytest.raises(ValidationFailed, match="No depot has the code 'NOPE'"):
        _open(s["souss"], "NOPE")
    db.session.rollback()
    count = _open(s["souss"])
    with pytest.raises(NotFound):
        services.depot_scan(s["oriental"], count.id, s["stock"][0].serial)
    db.session.rollback()
    login(client, s["oriental"])
    for path in (f"/counts/{count.id}", f"/counts/{count.id}/depot"):
        response = client.get(path)
        assert response.status_code == 404 and b"DEP-AGA" not in response.get_data()
    assert b"Inventaire du d" not in client.get("/counts/").get_data()
    # A school's head teacher: no depot's count, online or from the phone's queue.
    head = create_user("school")
    action = {
        "id": "count-" + uuid.uuid4().hex[:12],
        "type": "count_scan",
        "count_id": count.id,
        "depot_id": s["agadir"].id,
        "code": s["stock"][0].serial,
    }
    answer = client.post("/api/v1/sync", json={"actions": [action]}, headers=token_for(head))
    assert answer.get_json()["results"][0]["status"] == "rejected"
    assert db.session.get(CountStockLine, (count.id, s["stock"][0].id)).status == "expected"
    # Another office's tablet scanned at this depot reads as unknown: its code says nothing
    # of it to this office.
    answer = services.depot_scan(s["souss_agent"], count.id, s["elsewhere"].serial)
    assert not answer.ok and answer.outcome == "refused"
    assert db.session.get(CountStockLine, (count.id, s["elsewhere"].id)) is None


def test_a_depot_count_s_report_names_each_tablet_and_its_figures(shelf):
    s = shelf
    count = _open(s["souss"])
    services.depot_scan(s["souss_agent"], count.id, s["stock"][0].serial)
    services.depot_scan(s["souss_agent"], count.id, s["handed"].serial)
    db.session.commit()
    out = io.BytesIO()
    count_workbook(out, count.id)
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    rows = {row[1]: row[3] for row in sheet.iter_rows(min_row=2, values_only=True) if row[1]}
    assert rows["SN-AGA-0"] == "Found" and rows["SN-AGA-1"] == "Not yet seen"
    assert rows["SN-AGA-DEL"] == "Unexpected" and "SN-OUJ-1" not in rows
    assert count_pdf(count.id).startswith(b"%PDF")


def test_a_depot_is_counted_once_at_a_time_and_an_office_lists_what_it_reaches(
    create_user, create_school, shelf
):
    s = shelf
    # Reserved on Agadir's shelf for a school of L'Oriental (a national plan): L'Oriental's
    # tablet, which Souss-Massa neither reads nor may report lost.
    theirs = db.session.get(Device, s["stock"][2].id)
    oriental_school = db.session.scalar(sa.select(School).where(School.code == "OR-0001"))
    theirs.status, theirs.school_id = "reserved", oriental_school.id
    db.session.commit()
    count = _open(s["souss"])
    listed = set(
        db.session.scalars(
            sa.select(CountStockLine.device_id).where(CountStockLine.count_id == count.id)
        )
    )
    assert listed == {s["stock"][0].id, s["stock"][1].id, s["reserved"].id}
    with pytest.raises(ValidationFailed, match="being counted already: Inventaire du dépôt"):
        _open(s["souss"])
    db.session.rollback()
    # Once it is closed, the next count may open, the national office's listing it all.
    boss = create_user("admin")
    services.ask_to_close(boss, count.id)
    services.confirm_close(s["manager"], count.id)
    db.session.commit()
    assert db.session.get(Device, theirs.id).status == "reserved"  # not Souss-Massa's to lose
    national = _open(boss)
    # (The three Souss-Massa listed and never saw were lost at its closing.)
    assert national.expected == 1
    assert db.session.get(CountStockLine, (national.id, theirs.id)) is not None


def test_asking_to_close_tells_each_manager_who_reaches_the_count_but_the_asker(create_user, shelf):
    """The second pair of eyes hears it is wanted: the managers who reach the depot (the
    national one, Souss-Massa's), not L'Oriental's, nor whoever asked."""
    from tracker.messages.models import OutboxMessage

    s = shelf
    souss_manager, oriental_manager = create_user("manager"), create_user("manager")
    souss_manager.areas, oriental_manager.areas = [[SOUSS, ""]], [[ORIENTAL, ""]]
    boss = create_user("admin")
    db.session.commit()
    count = _open(s["souss"])
    services.depot_scan(s["souss_agent"], count.id, s["stock"][0].serial)
    services.ask_to_close(boss, count.id)
    db.session.commit()
    told = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "count_closing")
    ).all()
    assert {m.recipient for m in told} == {s["manager"].email, souss_manager.email}
    assert all(str(count.id) in m.body and "3 tablets not seen" in m.body for m in told)
