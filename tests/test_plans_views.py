"""Plan pages end to end, and the allocation spreadsheet adding up across its sheets."""

import io
import re

import openpyxl
import sqlalchemy as sa

from conftest import download, login, text_of
from tracker.allocations.models import AllocationPlan
from tracker.devices.models import Device
from tracker.extensions import db


def test_propose_edit_submit_approve_then_download(
    client, create_user, create_donation, create_device, create_school, app
):
    donation = create_donation(reference="ICESCO-HW-2020", quantity=12)
    for _ in range(12):
        create_device(donation=donation)
    a = create_school(code="A1", need=8, region="Souss-Massa", province="Tiznit")
    b = create_school(code="B2", need=4, region="Souss-Massa", province="Agadir")
    create_school(code="C3", need=50, region="L'Oriental")
    coordinator, manager = create_user("coordinator"), create_user("manager")
    login(client, coordinator)
    response = client.post(
        "/plans/new",
        data={
            "name": "Souss-Massa round",
            "donation_id": donation.id,
            "total": "9",
            "basis": "need",
            "minimum": "0",
            "region": "Souss-Massa",
        },
    )
    plan = db.session.scalar(sa.select(AllocationPlan))
    assert response.headers["Location"] == f"/plans/{plan.id}"
    page = text_of(client.get(f"/plans/{plan.id}"))
    assert "share of need 8: 6.00, rounded" in page and "C3" not in page
    client.post(f"/plans/{plan.id}/quantities", data={f"qty-{a.id}": "7", f"qty-{b.id}": "2"})
    client.post(f"/plans/{plan.id}/submit")
    assert db.session.get(AllocationPlan, plan.id).status == "submitted"
    client.post("/logout")
    login(client, manager)
    client.post(f"/plans/{plan.id}/approve")
    html = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert 'data-testid="plan-status">Approved<' in html
    reserved = db.session.scalars(sa.select(Device).where(Device.status == "reserved")).all()
    assert sorted((d.school_id, d.status) for d in reserved).count((a.id, "reserved")) == 7
    history = text_of(client.get(f"/plans/{plan.id}"))
    assert "Approved; tablets reserved" in history and "A1: 6 → 7" in history
    workbook = openpyxl.load_workbook(
        io.BytesIO(download(client, f"/plans/{plan.id}/allocations.xlsx").data)
    )
    by_school, by_region, devices = (
        workbook[name] for name in ("By school", "By region", "Devices")
    )
    school_rows = [[c.value for c in row] for row in by_school.iter_rows(min_row=2)]
    region_rows = [[c.value for c in row] for row in by_region.iter_rows(min_row=2)]
    assert [(r[3], r[7], r[8], r[13]) for r in school_rows] == [("B2", 2, 2, 2), ("A1", 7, 7, 7)]
    assert region_rows[-1][:2] == ["Total", None]
    total = region_rows[-1]
    assert total[4] == sum(r[7] for r in school_rows) == 9  # allocated adds up
    assert total[5] == sum(r[8] for r in school_rows) == devices.max_row - 1  # reserved
    assert sum(r[4] for r in region_rows[:-1]) == total[4]
    assert by_school["G2"].data_type == "n" and by_school["D2"].data_type == "s"


def test_manager_cannot_approve_own_submission_and_field_sees_nothing(client, create_user, app):
    plan = AllocationPlan(name="X", status="draft")
    db.session.add(plan)
    db.session.commit()
    field = create_user("field")
    login(client, field)
    assert client.get("/plans/").status_code == 403
    assert client.post(f"/plans/{plan.id}/approve").status_code == 403


def test_unknown_codes_are_named(signed_in, client, create_school):
    create_school(code="A1")
    signed_in("coordinator")
    response = client.post(
        "/plans/new",
        data={
            "name": "Picked",
            "donation_id": "0",
            "total": "5",
            "basis": "need",
            "codes": "A1\nZZ9\n",
        },
    )
    assert "Unknown school codes: ZZ9." in text_of(response)


def test_cli_exports_every_approved_plan(runner, tmp_path):
    result = runner.invoke(args=["export", "allocations", str(tmp_path / "a.xlsx")])
    assert result.exit_code == 0 and "0 tablets allocated" in result.output
    missing = runner.invoke(
        args=["export", "allocations", str(tmp_path / "b.xlsx"), "--plan", "99"]
    )
    assert missing.exit_code == 1 and "No allocation plan with id 99." in missing.output
    assert re.search(r"\.xlsx", result.output)


def count_queries(client, url) -> int:
    from sqlalchemy import event

    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_plan_and_device_pages_do_not_query_per_row(
    signed_in, client, create_school, create_device
):
    from tracker.allocations import services
    from tracker.devices.services import move_device

    def plan_with(schools: int) -> int:
        ids = [create_school(need=2).id for _ in range(schools)]
        plan = services.create_plan(name=f"P{schools}", donation_id=None, actor=None)
        services.propose_plan(plan.id, total=schools, school_ids=ids, actor=None)
        db.session.commit()
        return plan.id

    small, large = plan_with(3), plan_with(12)
    signed_in("manager")
    assert count_queries(client, f"/plans/{small}") == count_queries(client, f"/plans/{large}")
    few = [create_device() for _ in range(2)]
    for device in few:
        move_device(device, "reserved", None, school=create_school())
    db.session.commit()
    before = count_queries(client, "/devices/")
    for _ in range(6):
        move_device(create_device(), "reserved", None, school=create_school())
    db.session.commit()
    assert count_queries(client, "/devices/") == before


def test_a_province_typed_in_lower_case_is_the_province_and_the_form_offers_them(
    client, create_user, create_donation, create_device, create_school
):
    donation = create_donation(quantity=4)
    for _ in range(4):
        create_device(donation=donation)
    create_school(code="T1", need=4, region="Souss-Massa", province="Taroudant")
    create_school(code="T2", need=4, region="Souss-Massa", province="Tiznit")
    login(client, create_user("coordinator"))
    form = client.get("/plans/new").get_data(as_text=True)
    assert '<option value="Taroudant">' in form and 'list="province-list"' in form
    assert 'list="commune-list"' in form
    response = client.post(
        "/plans/new",
        data={
            "name": "Taroudant",
            "donation_id": donation.id,
            "total": "4",
            "basis": "need",
            "minimum": "0",
            "province": "taroudant",
        },
    )
    assert response.status_code == 302
    plan = db.session.scalar(sa.select(AllocationPlan))
    schools = {line.school.code for line in db.session.scalars(plan.allocations.select())}
    assert schools == {"T1"}
    found = text_of(client.get("/schools/", query_string={"province": "TAROUDANT"}))
    assert "T1" in found and "T2" not in found
