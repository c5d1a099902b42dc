"""Every statement a page or a scan sends can use an index, on both databases.

Two walks: every GET address of the app on the demo data (with the filters its users set),
and a delivery's way from an approved plan to the hand-over (packing and school scans,
offline sync, a desk move, a second plan approved). Each statement is EXPLAINed as it is
sent; a full scan of a table that grows with the programme is refused unless the page is
listed in WHOLE_TABLE with why. On PostgreSQL sequential scans are switched off for the
check, so the plan shows whether an index *can* serve the statement, whatever the small
test tables would favour.
"""

import re
import uuid
from urllib.parse import parse_qs

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from conftest import handover_form, login, scan, text_of, token_for
from tracker.allocations.models import AllocationPlan
from tracker.auth.models import User
from tracker.counts.models import Count
from tracker.deliveries.models import Delivery, DepotMove
from tracker.demo.loader import PASSWORD, load_demo
from tracker.devices.models import Device
from tracker.donations.models import Donation
from tracker.extensions import db
from tracker.jobs.models import Job, StoredFile
from tracker.loans.models import Borrower, Loan
from tracker.repairs.models import RepairCase
from tracker.schools.models import Depot, School
from tracker.spreadsheets.models import ImportBatch
from tracker.timezone import local_today
from tracker.transfers.models import Transfer

# Tables that grow with the programme (devices, schools, their deliveries and histories).
GROWING = {
    "allocations",
    "deliveries",
    "delivery_items",
    "device_events",
    "devices",
    "retired_qr_tokens",
    "schools",
    "sync_actions",
}

# A page whose answer is about every row of a table, and why. Addresses are written with
# the names of their filters, not their values.
WHOLE_TABLE = {
    ("/", "devices"): "the dashboard's figures count every tablet by region and state",
    ("/progress", "devices"): "the same figures, by region",
    **{
        (page, "deliveries"): "SQLite walks the deliveries newest first for the unexpected "
        "tablets (one delivery per school and round: 25,000 at national scale)"
        for page in ("/", "/alerts", "/alerts?kind")
    },
    ("/history", "device_events"): "SQLite walks the events newest first and stops after a "
    "page; PostgreSQL walks its primary key",
    ("/exports/history.xlsx", "device_events"): "the whole history, asked for as a file",
    ("/map/schools.json", "schools"): "the map shows every school",
    ("/schools/?q", "schools"): "any part of a school's name: no ordinary index serves a "
    "substring (25,000 schools at national scale)",
}


def shape(address: str) -> str:
    """An address with its filter values left out: `/schools/?q=abc` -> `/schools/?q`."""
    path, _, query = address.partition("?")
    return path + ("?" + "&".join(sorted(parse_qs(query))) if query else "")


def addresses(app) -> list[str]:
    """Every GET address of the app with the demo's first thing of each kind, and the list
    pages with the filters their users set."""
    device = db.session.scalar(sa.select(Device).where(Device.school_id.is_not(None)).limit(1))
    delivery = db.session.scalar(sa.select(Delivery).order_by(Delivery.id).limit(1))
    school = db.session.get(School, device.school_id)
    values = {
        "device_id": device.id,
        "token": device.qr_token,
        "delivery_id": delivery.id,
        "school_id": school.id,
        "plan_id": db.session.scalar(sa.select(sa.func.min(AllocationPlan.id))),
        "donation_id": db.session.scalar(sa.select(sa.func.min(Donation.id))),
        "user_id": db.session.scalar(sa.select(sa.func.min(User.id))),
        "batch_id": db.session.scalar(sa.select(sa.func.min(ImportBatch.id))),
        "job_id": db.session.scalar(sa.select(sa.func.min(Job.id))) or 1,
        "file_id": db.session.scalar(sa.select(sa.func.min(StoredFile.id))) or 1,
        "borrower_id": db.session.scalar(sa.select(sa.func.min(Borrower.id))),
        "loan_id": db.session.scalar(sa.select(sa.func.min(Loan.id))),
        "count_id": db.session.scalar(sa.select(sa.func.min(Count.id))) or 1,
        "case_id": db.session.scalar(sa.select(sa.func.min(RepairCase.id))) or 1,
        "photo_id": 1,
        "transfer_id": db.session.scalar(sa.select(sa.func.min(Transfer.id))) or 1,
        "move_id": db.session.scalar(sa.select(sa.func.min(DepotMove.id))) or 1,
        "depot_id": db.session.scalar(sa.select(sa.func.min(Depot.id))) or 1,
        "hand_over": db.session.scalar(sa.select(sa.func.min(Delivery.id))) or 1,
        # A donation's open figures (the demo opens the founding donation's).
        "key": db.session.scalar(
            sa.select(Donation.public_key).where(Donation.public_key.is_not(None))
        )
        or "closed",
    }
    found = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in {"static", "auth.login"}:
            continue
        paths = [rule.rule]
        for name in rule.arguments:
            converter = rule._converters[name]
            # any(a, b): each of its choices; otherwise the demo's thing of that kind
            choices = sorted(getattr(converter, "items", [])) or [values[name]]
            paths = [re.sub(rf"<[^>]*{name}>", str(v), path) for path in paths for v in choices]
        found += paths
    found += [
        f"/devices/?q={device.serial}",
        f"/devices/?q={device.asset_tag}",
        f"/devices/?q={device.imei}",
        "/devices/?q=AGR9",
        "/devices/?status=reserved",
        f"/devices/?school={school.id}",
        f"/devices/?school_code={school.code}",
        f"/devices/?donation={values['donation_id']}",
        f"/devices/?after={device.asset_tag}",
        f"/devices/?before={device.asset_tag}",
        "/devices/?sort=status",
        "/deliveries/?status=dispatched",
        f"/deliveries/?plan={values['plan_id']}",
        f"/deliveries/new?plan={values['plan_id']}",
        f"/schools/?q={school.name_fr[:5]}",
        f"/schools/?region={school.region}",
        f"/history?school={school.code}",
        f"/history?code={device.asset_tag}",
        "/history?type=delivered",
        f"/history?user={values['user_id']}",
        "/history?after=1",
        f"/progress?region={school.region}",
        "/alerts?kind=overdue",
        f"/labels/?device={device.id}",
        f"/exports/devices.xlsx?status=reserved&school={school.id}",
        f"/exports/history.xlsx?device={device.id}",
        f"/api/v1/devices/lookup?code={device.asset_tag}",
        f"/api/v1/schools?q={school.code}",
    ]
    return sorted(set(found))


def full_scans(cursor, dialect: str, statement: str, parameters) -> set[str]:
    """The tables `statement` reads whole (no index), by the database's own plan."""
    if dialect == "postgresql":
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(f"EXPLAIN {statement}", parameters)
        rows = cursor.fetchall()
        cursor.execute("RESET enable_seqscan")
        return {m.group(1) for row in rows if (m := re.search(r"Seq Scan on (\w+)", row[0]))}
    cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
    # "SCAN devices" reads the table; "SCAN devices USING INDEX ..." walks an index; an
    # AUTOMATIC index is built by reading the whole table first. SQLite names a table by its
    # alias in the statement: SQLAlchemy's are the table's name and a number (schools_1).
    found = set()
    for *_ids, detail in cursor.fetchall():
        match = re.match(r"SCAN (\w+)$|SEARCH (\w+) USING AUTOMATIC", detail)
        if match:
            found.add(re.sub(r"_\d+$", "", match.group(1) or match.group(2)))
    return found


class Recorder:
    """The plan of every statement sent while it listens, with the step that sent it.

    Each statement is EXPLAINed at once, on a second cursor of the connection that sent it
    and inside its transaction: an approval's statements read a temporary table that is
    gone when it commits. `allowed`: (step, table) pairs that may read a whole table.
    """

    def __init__(self, allowed: dict):
        self.allowed = allowed
        self.step: str | None = ""  # None: the test's own statements, not looked at
        self.seen = 0
        self.refusals: dict[tuple[str, str], str] = {}

    def __call__(self, connection, cursor, statement, parameters, _context, executemany):
        # A batch of rows (executemany) is an insert; anything else may read a table.
        if self.step is None or executemany or not statement.lstrip().upper().startswith(READS):
            return
        self.seen += 1
        explaining = cursor.connection.cursor()
        try:
            scanned = full_scans(explaining, connection.dialect.name, statement, parameters)
        finally:
            explaining.close()
        for table in scanned & GROWING:
            if (shape(self.step), table) not in self.allowed:
                self.refusals.setdefault((self.step, table), statement)

    def __enter__(self):
        event.listen(db.engine, "after_cursor_execute", self)
        return self

    def __exit__(self, *_exception):
        event.remove(db.engine, "after_cursor_execute", self)

    def explain(self) -> str:
        return "\n\n".join(
            f"{step} reads all of {table}:\n{statement}"
            for (step, table), statement in sorted(self.refusals.items())
        )


READS = ("SELECT", "WITH", "UPDATE", "DELETE", "INSERT")


@pytest.fixture
def demo(app):
    load_demo()
    db.session.commit()


def test_every_statement_of_every_page_can_use_an_index(app, client, demo):
    pages = addresses(app)
    with Recorder(WHOLE_TABLE) as recorder:
        for who in ("admin@demo.test", "field@demo.test"):
            login(client, db.session.scalar(sa.select(User).where(User.email == who)), PASSWORD)
            for address in pages:
                recorder.step = address
                # A download is asked for with its button, and runs as a job here.
                ask = client.post if address.startswith("/exports/") else client.get
                response = ask(address)
                assert response.status_code < 500, (address, response.status_code)
            client.post("/logout")
    assert len(pages) > 60 and recorder.seen > 200  # the pages were reached, and read
    assert not recorder.refusals, recorder.explain()


def test_every_statement_of_a_delivery_from_plan_to_handover_can_use_an_index(
    app, client, delivery_setting, create_school
):
    """The writes: deliveries planned from an approved plan, packed by scan and dispatched,
    scanned at the school and handed over, another delivery synced from an offline phone, a
    tablet moved at the desk, and a second plan proposed, submitted and approved."""
    s = delivery_setting
    new_school = create_school(need=2, region="Drâa-Tafilalet")
    # No step of the write path may read a whole table: each finds its rows by an index.
    with Recorder({}) as recorder:
        login(client, s["coordinator"])
        recorder.step = "plan deliveries"
        answer = client.post(
            f"/deliveries/new?plan={s['plan'].id}",
            data={"assigned_to_id": str(s["agent"].id), "planned_on": local_today().isoformat()},
        )
        assert answer.status_code == 302, answer.status_code
        recorder.step = None
        ids = dict(db.session.execute(sa.select(Delivery.school_id, Delivery.id)).all())
        for school, devices in (("school_a", s["a_devices"]), ("school_b", s["b_devices"])):
            delivery_id = ids[s[school].id]
            recorder.step = "pack by scan"
            for device in devices:
                assert scan(client, delivery_id, device.asset_tag).get_json()["ok"]
            for action in ("finish-packing", "dispatch"):
                recorder.step = action
                assert client.post(f"/deliveries/{delivery_id}/{action}").status_code == 302
        recorder.step = "move at the desk"
        stock = s["stock"][0]
        moved = client.post(
            f"/devices/{stock.id}/move",
            data={"event": "reported_faulty", "note": "screen", "version": stock.version},
        )
        assert moved.status_code == 302
        client.post("/logout")

        login(client, s["agent"])
        a, b = ids[s["school_a"].id], ids[s["school_b"].id]
        recorder.step = "scan at the school"
        for device in s["a_devices"]:
            assert scan(client, a, device.serial).get_json()["ok"]
        recorder.step = "hand-over"
        handed = client.post(
            f"/deliveries/{a}/handover",
            data=handover_form(),
        )
        assert handed.status_code == 302, text_of(handed)
        recorder.step = "offline sync"
        actions = [
            {
                "id": str(uuid.uuid4()),
                "type": "scan",
                "delivery_id": b,
                "at": "2026-11-23T09:10:00+01:00",
                "code": device.asset_tag,
            }
            for device in s["b_devices"]
        ]
        synced = client.post(
            "/api/v1/sync", json={"actions": actions}, headers=token_for(s["agent"])
        )
        assert {r["status"] for r in synced.get_json()["results"]} == {"applied"}, synced.get_json()
        client.post("/logout")

        login(client, s["coordinator"])
        recorder.step = "propose a plan"
        proposed = client.post(
            "/plans/new",
            data={
                "name": "Round 2",
                "donation_id": s["plan"].donation_id,
                "total": "2",
                "basis": "need",
                "minimum": "0",
                "region": "Drâa-Tafilalet",
            },
        )
        assert proposed.status_code == 302, text_of(proposed)
        plan_id = int(proposed.headers["Location"].rsplit("/", 1)[1])
        recorder.step = "submit the plan"
        client.post(f"/plans/{plan_id}/submit")
        client.post("/logout")
        login(client, s["manager"])
        recorder.step = "approve the plan"
        client.post(f"/plans/{plan_id}/approve")
    recorder.step = None
    reserved = db.session.scalars(sa.select(Device).where(Device.school_id == new_school.id))
    assert [device.status for device in reserved] == ["reserved", "reserved"]
    assert recorder.seen > 50
    assert not recorder.refusals, recorder.explain()
