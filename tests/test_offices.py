"""Many offices: each person works within a part of the programme (a region, provinces),
stock is held at depots, approval follows the office.

The scoped access walk is generated from the same route list as the role matrix
(test_access.MATRIX, which must name every route): a Souss-Massa office, in every role,
asks for each of L'Oriental's objects and gets 404, and no list, count, search or export it
opens names them.
"""

import re
from datetime import date

import pytest
import sqlalchemy as sa
from test_access import MATRIX, PUBLIC, PUBLIC_404

from conftest import login
from tracker.allocations.models import Allocation, AllocationPlan
from tracker.auth.models import User
from tracker.counts.models import Count
from tracker.deliveries.models import Delivery, DepotMove, PhoneKey
from tracker.devices.depots import CENTRAL, central_depot, create_depot
from tracker.devices.models import Device, DeviceEvent
from tracker.errors import Conflict, IllegalTransition, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.loans.models import Borrower, Loan
from tracker.repairs.models import RepairCase, RepairPhoto
from tracker.schools.areas import set_areas
from tracker.schools.models import School, SchoolStaff
from tracker.schools.reach import reach_of
from tracker.spreadsheets.models import ImportBatch
from tracker.timezone import local_today
from tracker.transfers.models import Transfer

SOUSS, ORIENTAL = "Souss-Massa", "L'Oriental"
# What of L'Oriental a Souss-Massa office must never read, wherever it looks.
SECRETS = ("OR-0001", "OR-0002", "École Oriental Une", "SN-ORIENT-1", "SN-ORIENT-2", "Yassine")
SECRETS += ("Plan Oriental", "Inventaire Oriental", "Inventaire Oujda", "DEP-OR")


@pytest.fixture
def offices(create_user, create_school, create_device):
    """Two regional offices' worlds, and the central warehouse's stock."""
    national = create_user("admin")
    souss = create_school(code="SM-0001", name_fr="École Souss", region=SOUSS, province="Agadir")
    oriental = create_school(
        code="OR-0001", name_fr="École Oriental Une", region=ORIENTAL, province="Oujda-Angad"
    )
    oriental_two = create_school(
        code="OR-0002", name_fr="École Oriental Deux", region=ORIENTAL, province="Nador"
    )
    depot_sm = create_depot(code="DEP-SM", name="Dépôt Agadir", region=SOUSS, actor=None)
    depot_or = create_depot(code="DEP-OR", name="Dépôt Oujda", region=ORIENTAL, actor=None)
    db.session.commit()
    mine = create_device(serial="SN-SOUSS-1", depot_id=depot_sm.id)
    theirs = create_device(serial="SN-ORIENT-1")
    theirs.status, theirs.school_id = "delivered", oriental.id
    in_their_depot = create_device(serial="SN-ORIENT-2", depot_id=depot_or.id)
    central = create_device(serial="SN-CENTRAL-1")
    plan = AllocationPlan(name="Plan Oriental", status="submitted", depot_id=depot_or.id)
    db.session.add(plan)
    db.session.flush()
    db.session.add(Allocation(plan_id=plan.id, school_id=oriental.id, quantity=1))
    delivery = Delivery(school_id=oriental.id, status="planned", from_depot_id=depot_or.id)
    borrower = Borrower(school_id=oriental.id, code="P-9", name="Yassine Oriental", kind="pupil")
    count = Count(
        name="Inventaire Oriental",
        scope="region",
        scope_value=ORIENTAL,
        starts_on=date(2026, 1, 1),
        ends_on=date(2099, 1, 1),
        status="open",
    )
    depot_count = Count(
        name="Inventaire Oujda",
        scope="depot",
        scope_value=str(depot_or.id),
        starts_on=date(2026, 1, 1),
        ends_on=date(2099, 1, 1),
        status="open",
    )
    transfer = Transfer(from_school_id=oriental.id, to_school_id=oriental_two.id, quantity=1)
    db.session.add_all([delivery, borrower, count, depot_count, transfer])
    db.session.flush()
    loan = Loan(
        device_id=theirs.id,
        borrower_id=borrower.id,
        school_id=oriental.id,
        due_on=date(2027, 6, 30),
        agreement_version="2026-1",
        accessories_back="",
    )
    case = RepairCase(
        device_id=theirs.id, school_id=oriental.id, fault="Écran", repairer="", repairer_ref=""
    )
    db.session.add_all([loan, case])
    db.session.flush()
    photo = RepairPhoto(case_id=case.id, jpeg=b"\xff\xd8")
    head = create_user("school")
    db.session.add_all([photo, SchoolStaff(user_id=head.id, school_id=oriental.id)])
    phone = PhoneKey(user_id=head.id, public_key=b"\x30" * 91, label="A14")
    batch = ImportBatch(kind="schools", filename="oriental.xlsx", user_id=national.id)
    move = DepotMove(
        from_depot_id=central_depot().id, to_depot_id=depot_or.id, status="packing", notes=""
    )
    db.session.add_all([phone, batch, move])
    agent = create_user("field")
    agent.areas = [[ORIENTAL, ""]]
    db.session.commit()
    return {
        "national": national,
        "souss": souss,
        "oriental": oriental,
        "depot_sm": depot_sm,
        "depot_or": depot_or,
        "mine": mine,
        "central": central,
        "their_stock": in_their_depot,
        "objects": {
            "borrower": borrower.id,
            "loan": loan.id,
            "count": count.id,
            "depot_count": depot_count.id,
            "case": case.id,
            "photo": photo.id,
            "transfer": transfer.id,
            "phone": phone.id,
            "plan": plan.id,
            "batch": batch.id,
            "device": theirs.id,
            "token": theirs.qr_token,
            "serial": theirs.serial,
            "school": oriental.id,
            "delivery": delivery.id,
            "user": agent.id,
            "depot": depot_or.id,
            "move": move.id,
        },
    }


def souss_user(create_user, role):
    user = create_user(role)
    user.areas = [[SOUSS, ""]]
    db.session.commit()
    return user


# Endpoints whose object is not of a region: each person's own (jobs, downloads), the
# programme's donations, sign-in pages.
NOT_PLACED = {"donation", "job", "file"}


@pytest.mark.parametrize("role", ["admin", "coordinator", "manager", "field"])
def test_a_regional_office_reaches_nothing_of_another_region(client, create_user, offices, role):
    """Every route naming an object of L'Oriental answers a Souss-Massa office 404 (or the
    403 its role gets anyway), and no page it opens names L'Oriental's schools, tablets,
    borrowers, plans, counts or depots."""
    user = souss_user(create_user, role)
    login(client, user)
    objects = offices["objects"]
    walked = 0
    for endpoint, (method, template, allowed) in MATRIX.items():
        if endpoint == "auth.logout" or allowed in (PUBLIC, PUBLIC_404):
            continue
        placeholders = set(re.findall(r"{(\w+)}", template))
        if placeholders & NOT_PLACED:
            continue
        path = template.format(**objects)
        response = client.open(path, method=method, data={})
        body = response.get_data()
        where = f"{role} {method} {path} → {response.status_code}"
        assert response.status_code != 500, where
        for secret in (secret for secret in SECRETS if secret not in path):  # (not an echo)
            assert secret.encode() not in body, f"{where} shows {secret}"
        if not placeholders or role not in allowed:
            continue
        walked += 1
        if "?" in template and "{" not in template.split("?")[0]:
            # Named in the query string: the page answers, and what it starts finds nothing.
            if response.status_code == 302 and "/jobs/" in response.headers["Location"]:
                job = client.get(response.headers["Location"] + ".json").get_json()
                assert job["state"] == "failed", f"{where}: {job}"
            continue
        if endpoint.startswith("api.") and method == "POST":
            assert response.status_code in (400, 403, 404), where
        elif endpoint == "api.device_lookup":
            assert response.status_code == 404, where
        else:
            assert response.status_code == 404, where
    assert walked > 5


def test_out_of_reach_reads_exactly_as_nothing_there(client, create_user, offices):
    """The same sentence for another region's tablet and for a number no tablet has."""
    login(client, souss_user(create_user, "coordinator"))
    device = offices["objects"]["device"]
    theirs, nothing = client.get(f"/devices/{device}"), client.get("/devices/999999")
    assert theirs.status_code == nothing.status_code == 404
    assert f"No device with id {device}." in theirs.get_data(as_text=True)
    assert "No device with id 999999." in nothing.get_data(as_text=True)
    lookup = client.get("/api/v1/devices/lookup?code=SN-ORIENT-1")
    assert lookup.status_code == 404
    assert lookup.get_json() == {"error": "No tablet has the code SN-ORIENT-1."}


def test_each_office_lists_its_own_and_the_national_office_everything(client, create_user, offices):
    login(client, souss_user(create_user, "coordinator"))
    devices = client.get("/devices/").get_data(as_text=True)
    assert "SN-SOUSS-1" in devices
    assert "SN-CENTRAL-1" not in devices  # the central warehouse is the national office's
    assert "École Souss" in client.get("/schools/").get_data(as_text=True)
    assert "DEP-SM" in client.get("/depots/").get_data(as_text=True)
    assert client.get("/search?q=SN-ORIENT-1").status_code == 200
    client.post("/logout")
    login(client, offices["national"])
    devices = client.get("/devices/").get_data(as_text=True)
    for serial in ("SN-SOUSS-1", "SN-ORIENT-1", "SN-ORIENT-2", "SN-CENTRAL-1"):
        assert serial in devices
    depots = client.get("/depots/").get_data(as_text=True)
    assert CENTRAL in depots and "DEP-SM" in depots and "DEP-OR" in depots


def test_the_dashboard_opens_on_the_office_and_the_national_view_compares_regions(
    client, create_user, offices
):
    login(client, souss_user(create_user, "manager"))
    page = client.get("/progress").get_data(as_text=True)
    assert "Souss-Massa" in page and "Oriental" not in page
    assert client.get("/progress?region=L%27Oriental").status_code == 200
    assert "École Oriental" not in client.get(
        "/progress?region=L%27Oriental&province=Oujda-Angad"
    ).get_data(as_text=True)
    points = client.get("/map/schools.json").get_json()["schools"]
    assert [point["code"] for point in points] in ([], ["SM-0001"])
    client.post("/logout")
    login(client, offices["national"])
    page = client.get("/progress").get_data(as_text=True)
    assert "Souss-Massa" in page and "Oriental" in page


def test_registration_puts_tablets_at_a_depot_the_person_reaches(
    app, create_user, create_device, offices
):
    souss = souss_user(create_user, "coordinator")
    device = create_device(actor=souss)
    assert device.depot_id == offices["depot_sm"].id  # theirs by default
    with pytest.raises(ValidationFailed) as refused:
        create_device(actor=souss, depot_id=offices["depot_or"].id)
    assert f"No depot with number {offices['depot_or'].id}" in str(refused.value)
    db.session.rollback()
    national = create_device(actor=offices["national"])
    assert national.depot.code == CENTRAL
    assert central_depot().id == national.depot_id


def test_a_depot_is_added_in_the_office_s_regions_only(app, create_user, offices):
    souss = souss_user(create_user, "coordinator")
    depot = create_depot(code="dep sm 2", name="Dépôt Tiznit", region=SOUSS, actor=souss)
    assert depot.code == "DEPSM2"
    with pytest.raises(ValidationFailed, match="L'Oriental is not in your part"):
        create_depot(code="X1", name="Ailleurs", region=ORIENTAL, actor=souss)
    with pytest.raises(ValidationFailed, match="No school is in the region 'Atlantis'"):
        create_depot(code="X2", name="Nulle part", region="Atlantis", actor=None)
    with pytest.raises(ValidationFailed, match="DEP-SM exists"):
        create_depot(code="DEP-SM", name="Encore", region=SOUSS, actor=None)


def test_areas_are_given_by_the_national_office_and_name_what_exists(app, create_user, offices):
    user = create_user("manager")
    sessions = user.session_version
    set_areas(user.id, [[SOUSS, "Agadir"], [SOUSS, "Agadir"]], offices["national"])
    assert user.areas == [[SOUSS, "Agadir"]] and user.session_version == sessions + 1
    set_areas(user.id, [[SOUSS, "Agadir"], [SOUSS, ""]], offices["national"])
    assert user.areas == [[SOUSS, ""]]  # the region holds its province
    with pytest.raises(ValidationFailed, match="region 'Atlantide'"):
        set_areas(user.id, [["Atlantide", ""]], offices["national"])
    with pytest.raises(ValidationFailed, match="province 'Oujda-Angad' of Souss-Massa"):
        set_areas(user.id, [[SOUSS, "Oujda-Angad"]], offices["national"])
    regional_admin = souss_user(create_user, "admin")
    with pytest.raises(ValidationFailed, match="Only the national office"):
        set_areas(user.id, [], regional_admin)
    assert reach_of(user).covers(SOUSS, "Agadir") and not reach_of(user).covers(ORIENTAL)


def test_a_province_reach_holds_that_province_only(app, create_user, create_school, offices):
    create_school(code="SM-0002", region=SOUSS, province="Tiznit")
    user = create_user("coordinator")
    user.areas = [[SOUSS, "Agadir"]]
    reach = reach_of(user)
    codes = set(db.session.scalars(sa.select(School.code).where(reach.school_rows_clause())))
    assert codes == {"SM-0001"}


def test_approval_follows_the_office(app, create_user, create_device, offices):
    from tracker.allocations import services as plans

    souss_manager = souss_user(create_user, "manager")
    coordinator = souss_user(create_user, "coordinator")
    for _ in range(2):
        create_device(actor=coordinator)
    plan = plans.create_plan(name="Plan Souss", donation_id=None, actor=coordinator)
    plans.propose_plan(
        plan.id,
        total=2,
        school_ids=plans.choose_schools(region=SOUSS, reach=reach_of(coordinator)),
        actor=coordinator,
    )
    assert plan.depot_id == offices["depot_sm"].id
    plans.submit_plan(plan.id, coordinator)
    db.session.commit()
    plans.approve_plan(plan.id, souss_manager)  # their region's plan
    assert plan.status == "approved"
    reserved = db.session.scalars(
        sa.select(Device.depot_id).where(Device.allocation_id.is_not(None))
    ).all()
    assert set(reserved) == {offices["depot_sm"].id}  # drawn from their depot's stock
    # A plan reaching a school of another region is the national office's to approve.
    national = offices["national"]
    wide = plans.create_plan(
        name="Deux régions", donation_id=None, actor=national, depot_id=offices["depot_sm"].id
    )
    plans.propose_plan(
        wide.id,
        total=1,
        school_ids=[offices["souss"].id, offices["oriental"].id],
        actor=national,
    )
    plans.submit_plan(wide.id, national)
    with pytest.raises(IllegalTransition, match="national office approves it"):
        plans.approve_plan(wide.id, souss_manager)
    db.session.rollback()
    # A code of another region's school is as unknown to a regional office.
    with pytest.raises(ValidationFailed, match="Unknown school codes: OR-0001"):
        plans.choose_schools(codes="OR-0001", reach=reach_of(coordinator))


def test_a_regional_school_list_refuses_rows_of_another_region(app, create_user, tmp_path, offices):
    from openpyxl import Workbook

    from tracker.spreadsheets.services import import_file

    user = souss_user(create_user, "coordinator")
    book = Workbook()
    sheet = book.active
    sheet.append(["Code", "Nom", "Région", "Province"])
    sheet.append(["SM-0009", "École Neuve", SOUSS, "Agadir"])
    sheet.append(["OR-0009", "École Lointaine", ORIENTAL, "Nador"])
    sheet.append(["OR-0001", "École Oriental Une", SOUSS, "Agadir"])
    path = tmp_path / "schools.xlsx"
    book.save(path)
    report = import_file("schools", path, "schools.xlsx", commit=True, actor=user)
    problems = {(problem.row, str(problem.reason)) for problem in report.problems}
    assert (3, "Nador is not in your part of the programme.") in problems
    assert (4, "a school outside your part of the programme has this code") in problems
    assert not report.ok  # all or nothing: the good row is not written either
    assert db.session.scalar(sa.select(School.id).where(School.code == "SM-0009")) is None


def test_out_of_reach_objects_refuse_by_service_too(app, create_user, offices):
    from tracker.deliveries.services import delivery_for

    user = souss_user(create_user, "coordinator")
    with pytest.raises(NotFound):
        delivery_for(user, offices["objects"]["delivery"])


def test_a_regional_office_runs_the_same_statements_as_the_national_one(
    client, create_user, offices
):
    """Scoping is a clause of the queries a page already runs: no statement more."""
    from conftest import statements_of

    pages = ("/", "/devices/", "/search?q=SN-SOUSS-1", "/schools/", "/progress", "/alerts")
    asked = {}
    for who in ("national", "regional"):
        user = offices["national"] if who == "national" else souss_user(create_user, "admin")
        login(client, user)
        for page in pages:
            client.get(page)  # (the frame of a role and language is rendered once)
            asked[who, page] = statements_of(lambda page=page: client.get(page))
        client.post("/logout")
    for page in pages:
        assert asked["regional", page] == asked["national", page], page


def test_a_move_between_depots_is_sent_by_one_and_received_by_another(
    app, create_user, create_device, offices
):
    from tracker.deliveries import moves

    national = offices["national"]
    sender = create_user("coordinator")
    tablets = [create_device(actor=national) for _ in range(3)]
    move = moves.create_move(
        from_depot_id=central_depot().id, to_depot_id=offices["depot_sm"].id, actor=sender
    )
    for device in tablets:
        moves.pack(move.id, device.asset_tag, sender)
    db.session.commit()
    with pytest.raises(Conflict, match="packed in this move already"):
        moves.pack(move.id, tablets[0].serial, sender)
    db.session.rollback()
    with pytest.raises(IllegalTransition, match="not in stock at this depot"):
        moves.pack(move.id, "SN-SOUSS-1", sender)
    db.session.rollback()
    moves.send(move.id, sender)
    db.session.commit()
    assert {device.status for device in tablets} == {"in_transit"}
    with pytest.raises(IllegalTransition, match="You sent this move"):
        moves.receive(move.id, tablets[0].asset_tag, sender)
    db.session.rollback()
    oriental = create_user("coordinator")
    oriental.areas = [[ORIENTAL, ""]]
    with pytest.raises(NotFound):  # another region's office: not even the move
        moves.receive(move.id, tablets[0].asset_tag, oriental)
    db.session.rollback()
    receiver = souss_user(create_user, "field")
    with pytest.raises(ValidationFailed, match="No tablet of this move has the code SN-CENTRAL-1"):
        moves.receive(move.id, "SN-CENTRAL-1", receiver)
    db.session.rollback()
    moves.receive(move.id, tablets[0].asset_tag, receiver)
    moves.receive(move.id, tablets[1].qr_token, receiver)
    db.session.commit()
    # Received: in stock at the Souss depot, in reach of its office; the third never came.
    assert tablets[0].status == "in_stock" and tablets[0].depot_id == offices["depot_sm"].id
    assert reach_of(receiver).covers_device(tablets[0].school_id, tablets[0].depot_id)
    assert moves.close_missing(move.id, receiver) == 1
    db.session.commit()
    assert tablets[2].status == "lost" and move.status == "received"
    history = db.session.scalars(
        sa.select(DeviceEvent.details).where(
            DeviceEvent.device_id == tablets[0].id,
            DeviceEvent.type.in_(("sent_to_depot", "received_at_depot")),
        )
    ).all()
    assert [details.get("depot") for details in history] == [CENTRAL, "DEP-SM"]


def test_the_progress_compares_regions_with_what_the_last_count_saw(client, create_user, offices):
    from tracker.counts.models import CountLine
    from tracker.database import utcnow

    counted = Count(
        name="Fin d'année",
        scope="programme",
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 6, 30),
        status="closed",
        closed_at=utcnow(),
        expected=2,
    )
    db.session.add(counted)
    db.session.flush()
    oriental, theirs = offices["oriental"], offices["objects"]["device"]
    db.session.add_all(
        [
            CountLine(count_id=counted.id, school_id=oriental.id, device_id=theirs, status="found"),
            CountLine(
                count_id=counted.id, school_id=oriental.id, device_id=offices["mine"].id,
                status="missing",
            ),
        ]
    )  # fmt: skip
    db.session.commit()
    login(client, offices["national"])
    page = client.get("/progress").get_data(as_text=True)
    assert "50 %" in page  # L'Oriental: one of the two tablets counted was seen


def test_donations_count_each_office_s_own_tablets_and_their_warranty_stays_theirs(
    client, create_user, offices
):
    from tracker.devices.services import set_warranty

    souss = souss_user(create_user, "coordinator")
    donation = offices["mine"].donation_id
    login(client, souss)
    page = client.get(f"/donations/{donation}").get_data(as_text=True)
    assert "report.pdf" not in page  # the donor report is the whole programme's
    assert client.post(f"/donations/{donation}/report.pdf").status_code == 403
    changed = set_warranty(souss, donation, offices["mine"].model, date(2030, 1, 1))
    db.session.commit()
    assert changed == 1  # their one tablet, not L'Oriental's nor the central warehouse's
    theirs = db.session.get(Device, offices["objects"]["device"])
    assert theirs.warranty_until is None


def test_an_alert_of_another_region_cannot_be_noted(client, create_user, offices):
    login(client, souss_user(create_user, "manager"))
    delivery = offices["objects"]["delivery"]
    answer = client.post(f"/alerts/overdue/{delivery}", data={"note": "vu", "resolve": "y"})
    assert answer.status_code == 302
    from tracker.dashboard.models import AlertNote

    assert db.session.scalar(sa.select(AlertNote.id)) is None


def test_areas_and_depots_take_places_as_people_write_them(app, create_user, offices):
    """An Arabic reader types the region as she reads it: سوس ماسة is Souss-Massa."""
    user = create_user("coordinator")
    set_areas(user.id, [["سوس ماسة", ""], ["الشرق", "وجدة أنكاد"]], offices["national"])
    assert user.areas == [[SOUSS, ""], [ORIENTAL, "Oujda-Angad"]]
    with pytest.raises(ValidationFailed, match="L'Oriental is not in your part"):
        create_depot(code="D-OR", name="Région", region="الشرق", actor=user)  # a province only
    depot = create_depot(
        code="D-OJ", name="Oujda", region="الشرق", province="وجدة أنكاد", actor=user
    )
    assert (depot.region, depot.province) == (ORIENTAL, "Oujda-Angad")


# --- what the attacker's review found, each closed ---------------------------------------


def test_a_regional_admin_makes_people_of_their_regions_only(client, create_user, offices):
    admin = souss_user(create_user, "admin")
    login(client, admin)
    client.post(
        "/admin/users/new",
        data={"email": "new@demo.test", "role": "admin", "password": "a long password 77"},
    )
    made = db.session.scalar(sa.select(User).where(User.email == "new@demo.test"))
    assert made.areas == [[SOUSS, ""]]  # never the whole programme
    listed = client.get("/admin/users").get_data(as_text=True)
    assert "new@demo.test" in listed and offices["national"].email not in listed
    agent = db.session.get(User, offices["objects"]["user"])
    assert agent.email not in listed  # L'Oriental's field agent


def test_staff_of_another_region_s_school_are_not_invited_from_here(app, create_user, offices):
    from tracker.schools.staff import invite_staff

    oriental = create_user("coordinator")
    oriental.areas = [[ORIENTAL, ""]]
    invite_staff(oriental, offices["oriental"].id, "head.oujda@example.org")
    db.session.commit()
    souss = souss_user(create_user, "coordinator")
    with pytest.raises(ValidationFailed, match="outside your part of the programme"):
        invite_staff(souss, offices["souss"].id, "head.oujda@example.org")


def test_services_named_another_region_s_school_by_a_body_refuse_it(app, create_user, offices):
    from tracker.loans.services import take_back
    from tracker.schools.staff import school_in_reach
    from tracker.transfers.services import create_transfer

    souss = souss_user(create_user, "coordinator")
    with pytest.raises(NotFound, match=f"No school with number {offices['oriental'].id}"):
        school_in_reach(souss, offices["oriental"].id)
    with pytest.raises(NotFound):
        take_back(souss, offices["oriental"].id, "SN-ORIENT-1", condition="good")
    with pytest.raises(NotFound):
        create_transfer(souss, offices["oriental"].id, offices["souss"].id, 1)


def test_numbers_in_a_query_are_all_checked_however_written(client, create_user, offices):
    login(client, souss_user(create_user, "coordinator"))
    mine, theirs = offices["mine"].id, offices["objects"]["device"]
    padded = "&".join(f"device={'0' * n}{mine}" for n in range(1, 260))
    assert client.get(f"/labels/?{padded}&device={theirs}").status_code == 404
    plan = offices["objects"]["plan"]
    many = "&".join(f"plan={'0' * n}1" for n in range(1, 30))
    assert client.get(f"/deliveries/new?{many}&plan={plan}").status_code == 404
    for odd in ("²", "9" * 5000, "9223372036854775808"):
        assert client.get(f"/devices/?device={odd}").status_code in (200, 404)
        assert client.get(f"/deliveries/new?plan={odd}").status_code in (302, 404)


def test_a_regional_office_counts_and_transfers_within_its_region(client, create_user, offices):
    from tracker.counts.services import open_count

    souss = souss_user(create_user, "coordinator")
    for scope, value in (
        ("region", ORIENTAL),
        ("programme", ""),
        ("school", str(offices["oriental"].id)),
    ):
        with pytest.raises(ValidationFailed, match="beyond your part of the programme"):
            open_count(
                souss, name="X", scope=scope, scope_value=value,
                starts_on=local_today(), ends_on=local_today(),
            )  # fmt: skip
        db.session.rollback()
    count = open_count(
        souss, name="Souss", scope="region", scope_value=SOUSS,
        starts_on=local_today(), ends_on=local_today(),
    )  # fmt: skip
    db.session.commit()
    from tracker.counts.services import count_scan

    scan = count_scan(souss, count.id, offices["souss"].id, "SN-ORIENT-1")
    assert not scan.ok and "No tablet has the code SN-ORIENT-1" in scan.message


def test_a_school_stays_in_the_office_s_region(app, create_user, offices):
    from tracker.schools.services import create_school, update_school

    reach = reach_of(souss_user(create_user, "coordinator"))
    with pytest.raises(ValidationFailed, match="Nador is not in your part"):
        create_school(reach, code="X-1", name_fr="X", region=ORIENTAL, province="Nador")
    with pytest.raises(ValidationFailed, match="L'Oriental is not in your part"):
        update_school(
            offices["souss"].id, reach, code="SM-0001", name_fr="École Souss", region=ORIENTAL
        )
    db.session.rollback()


def test_only_the_sending_office_packs_sends_or_cancels_a_move(app, create_user, offices):
    from tracker.deliveries import moves

    move_id = offices["objects"]["move"]  # central → L'Oriental's depot
    oriental = create_user("coordinator")
    oriental.areas = [[ORIENTAL, ""]]
    db.session.commit()
    for act in (moves.send, moves.cancel):
        with pytest.raises(IllegalTransition, match="Only the office of CENTRAL"):
            act(move_id, oriental)
        db.session.rollback()


def test_the_outbox_and_the_donations_of_a_regional_office(client, create_user, offices):
    from tracker.messages.models import OutboxMessage

    db.session.add(
        OutboxMessage(
            kind="invitation", channel="email", recipient="secret@oriental.ma",
            user_id=offices["national"].id, language="fr", body="x",
        )
    )  # fmt: skip
    db.session.commit()
    login(client, souss_user(create_user, "coordinator"))
    assert "secret@oriental.ma" not in client.get("/admin/messages").get_data(as_text=True)
    assert client.get("/donations/new").status_code == 403
    donation = offices["mine"].donation_id
    assert client.get(f"/donations/{donation}/edit").status_code == 403


def test_a_plan_reaching_another_region_is_not_shown_to_a_regional_office(
    client, create_user, offices
):
    plan = AllocationPlan(name="Plan Mixte", status="draft", depot_id=offices["depot_sm"].id)
    db.session.add(plan)
    db.session.flush()
    db.session.add_all(
        [
            Allocation(plan_id=plan.id, school_id=offices["souss"].id, quantity=1),
            Allocation(plan_id=plan.id, school_id=offices["oriental"].id, quantity=1),
        ]
    )
    db.session.commit()
    login(client, souss_user(create_user, "manager"))
    assert client.get(f"/plans/{plan.id}").status_code == 404
    assert "Plan Mixte" not in client.get("/plans/").get_data(as_text=True)


# --- what the second review found, each closed --------------------------------------------


def test_a_regional_admin_cannot_turn_a_school_account_into_the_whole_programme(
    client, create_user, offices
):
    """A head teacher of a Souss school made an admin by Souss's admin is Souss's admin; a
    head teacher also of another region's school is not Souss's to change at all."""
    from tracker.schools.staff import invite_staff

    head, _link = invite_staff(None, offices["souss"].id, "head.souss@example.org")
    both, _link = invite_staff(None, offices["souss"].id, "head.both@example.org")
    invite_staff(None, offices["oriental"].id, "head.both@example.org")
    db.session.commit()
    login(client, souss_user(create_user, "admin"))
    client.post(f"/admin/users/{head.id}", data={"role": "admin", "active": "y", "name": "H"})
    db.session.expire_all()
    assert head.role == "admin" and head.areas == [[SOUSS, ""]]
    assert client.get(f"/admin/users/{both.id}").status_code == 404


def test_a_paper_manifest_names_only_deliveries_the_importer_reaches(
    app, create_user, tmp_path, offices
):
    from openpyxl import Workbook

    from tracker.spreadsheets.services import import_file

    book = Workbook()
    book.active.append(["Delivery", "Asset tag", "Received"])
    delivery = offices["objects"]["delivery"]
    book.active.append([f"DEL-{delivery:05d}", "TAB-0001", "oui"])
    book.active.append(["DEL-99999", "TAB-0001", "oui"])
    path = tmp_path / "manifest.xlsx"
    book.save(path)
    souss = souss_user(create_user, "coordinator")
    report = import_file("manifest", path, "manifest.xlsx", commit=True, actor=souss)
    reasons = [str(problem.reason) for problem in report.problems]
    assert reasons[:2] == ["no such delivery", "no such delivery"]  # theirs reads as none
    assert db.session.get(Delivery, delivery).status == "planned"


def test_scans_on_a_delivery_treat_another_office_s_tablet_as_unknown(
    app, create_user, create_school, offices
):
    from tracker.deliveries.services import pack_scan

    souss = souss_user(create_user, "coordinator")
    delivery = Delivery(school_id=offices["souss"].id, status="planned")
    db.session.add(delivery)
    db.session.commit()
    answer = pack_scan(delivery.id, "SN-ORIENT-1", souss)
    assert not answer.ok and "Oujda" not in answer.message and "SN-ORIENT-1" in answer.message
    assert answer.message == pack_scan(delivery.id, "SN-NOWHERE-9", souss).message.replace(
        "SN-NOWHERE-9", "SN-ORIENT-1"
    )


def test_sync_actions_on_another_office_s_count_or_loan_read_as_none(app, create_user, offices):
    from tracker.counts.services import count_scan
    from tracker.loans.services import sign_loan

    souss = souss_user(create_user, "coordinator")
    with pytest.raises(NotFound, match=f"No count with number {offices['objects']['count']}"):
        count_scan(souss, offices["objects"]["count"], offices["souss"].id, "SN-SOUSS-1")
    with pytest.raises(NotFound, match=f"No loan with number {offices['objects']['loan']}"):
        sign_loan(souss, offices["objects"]["loan"], "X", signature=b"x")


def test_agents_of_another_region_are_neither_offered_nor_given_a_delivery(
    app, create_user, offices
):
    from tracker.deliveries.queries import agent_choices
    from tracker.deliveries.services import update_delivery

    agent = db.session.get(User, offices["objects"]["user"])  # L'Oriental's field agent
    souss = souss_user(create_user, "coordinator")
    offered = [choice.value for choice in agent_choices("—", reach_of(souss))]
    assert agent.id not in offered
    mine = Delivery(school_id=offices["souss"].id, status="planned")
    db.session.add(mine)
    db.session.commit()
    with pytest.raises(ValidationFailed, match="Choose an active field agent"):
        update_delivery(mine.id, actor=None, assigned_to_id=agent.id, planned_on=None)


def test_a_regional_count_page_says_nothing_of_another_office_s_tablet_seen_there(
    client, create_user, offices
):
    from tracker.counts.models import CountExtra
    from tracker.counts.services import open_count

    souss = souss_user(create_user, "coordinator")
    count = open_count(
        souss, name="Souss", scope="region", scope_value=SOUSS,
        starts_on=local_today(), ends_on=local_today(),
    )  # fmt: skip
    db.session.add(
        CountExtra(
            count_id=count.id, school_id=offices["souss"].id, code="TAB-X",
            device_id=offices["objects"]["device"],
        )
    )  # fmt: skip
    db.session.commit()
    login(client, souss)
    page = client.get(f"/counts/{count.id}/schools/{offices['souss'].id}").get_data(as_text=True)
    assert "TAB-X" in page and "SN-ORIENT-1" not in page and "Oujda" not in page
