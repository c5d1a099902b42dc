"""Every statement a page sends can use an index, on both databases.

The pages are opened on the demo data (each GET address of the app, with the filters its
users type), every statement they send is recorded and then EXPLAINed. A full scan of a
table that grows with the programme is refused unless it is listed in WHOLE_TABLE with
why. On PostgreSQL sequential scans are switched off for the check, so the plan shows
whether an index *can* serve the statement, whatever the small test tables would favour.
"""

import re
from urllib.parse import parse_qs

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from conftest import login
from tracker.allocations.models import AllocationPlan
from tracker.auth.models import User
from tracker.deliveries.models import Delivery
from tracker.demo.loader import PASSWORD, load_demo
from tracker.devices.models import Device
from tracker.donations.models import Donation
from tracker.extensions import db
from tracker.schools.models import School
from tracker.spreadsheets.models import ImportBatch

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
    ("/", "deliveries"): "SQLite walks the deliveries newest first for the unexpected "
    "tablets (one delivery per school and round: 25,000 at national scale)",
    ("/history", "device_events"): "SQLite walks the events newest first and stops after a "
    "page; PostgreSQL walks its primary key",
    ("/exports/history.xlsx", "device_events"): "the whole history, asked for as a file",
    ("/map/schools.json", "schools"): "the map shows every school",
    ("/schools/?q", "schools"): "any part of a school's name: no ordinary index serves a "
    "substring (25,000 schools at national scale)",
    ("/api/v1/deliveries", "deliveries"): "an office account's list of every delivery by "
    "day; a field agent's (the offline app's) is found by its assignee",
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


def full_scans(connection, statement: str, parameters) -> set[str]:
    """The tables `statement` reads whole (no index) by the database's own plan."""
    if connection.dialect.name == "postgresql":
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
        return {m.group(1) for row in rows if (m := re.search(r"Seq Scan on (\w+)", row[0]))}
    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    scanned = set()
    for row in rows:
        # "SCAN devices" reads the table; "SCAN devices USING INDEX ..." walks an index.
        match = re.match(r"SCAN (\w+)(?: AS (\w+))?$", row[-1])
        if match:
            scanned.add(match.group(1))
    return scanned


@pytest.fixture
def demo(app):
    load_demo()
    db.session.commit()


def test_every_statement_of_every_page_can_use_an_index(app, client, demo):
    sent: list[tuple[str, str, object]] = []
    page = {"now": ""}

    def record(_connection, _cursor, statement, parameters, _context, executemany):
        if not executemany and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            sent.append((page["now"], statement, parameters))

    pages = addresses(app)
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        for who in ("admin@demo.test", "field@demo.test"):
            login(client, db.session.scalar(sa.select(User).where(User.email == who)), PASSWORD)
            for address in pages:
                page["now"] = address
                response = client.get(address)
                assert response.status_code < 500, (address, response.status_code)
            client.post("/logout")
    finally:
        event.remove(db.engine, "before_cursor_execute", record)

    refused = {}
    with db.engine.connect() as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        seen = set()
        for address, statement, parameters in sent:
            key = (statement, repr(parameters))
            if key in seen:
                continue
            seen.add(key)
            for table in full_scans(connection, statement, parameters) & GROWING:
                if (shape(address), table) not in WHOLE_TABLE:
                    refused.setdefault((address, table), statement)
    assert len(pages) > 60 and len(sent) > 200  # the pages were reached, and read
    assert not refused, "\n\n".join(
        f"{address} reads all of {table}:\n{statement}"
        for (address, table), statement in sorted(refused.items())
    )
