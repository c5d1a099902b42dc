"""`tracker demo` loads the founding case once, whatever the number of runs."""

import pytest
import sqlalchemy as sa

from conftest import FreshContextClient, login, make_app, text_of
from tracker.allocations.models import AllocationPlan
from tracker.auth.models import User
from tracker.counts.models import Count
from tracker.deliveries.models import Delivery
from tracker.devices.identity import luhn_ok
from tracker.devices.models import Device, RetiredQrToken
from tracker.donations.models import Donation
from tracker.extensions import db
from tracker.schools.models import School
from tracker.spreadsheets.models import ImportBatch


@pytest.fixture
def fresh_app(empty_database_url):
    """An app on a database with no tables, as on a new machine."""
    app = make_app(empty_database_url)
    app.test_client_class = FreshContextClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_demo_loads_the_founding_case_and_runs_again_harmlessly(fresh_app):
    runner, client = fresh_app.test_cli_runner(), fresh_app.test_client()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert (
        "Demo data added: 6 borrowers, 3 counts, 10 deliveries, 2 moves between depots, 1 depot, "
        "212 devices, 2 donations, 3 loans, 3 plans, 2 repairs, 40 schools, 1 transfer, "
        "10 users." in (first.output)
    )
    assert "coordinator@demo.test" in first.output and "password: demo" in first.output
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0 and "nothing added" in second.output

    donation = db.session.scalar(sa.select(Donation).where(Donation.reference == "ICESCO-HW-2020"))
    assert (
        donation.quantity_promised == 200 and donation.donor.name == "Huawei Technologies Morocco"
    )
    devices = db.session.scalars(sa.select(Device).where(Device.donation_id == donation.id)).all()
    assert len(devices) == 200
    assert all(luhn_ok(device.imei) and len(device.imei) == 15 for device in devices)
    schools = db.session.scalars(sa.select(School)).all()
    assert len(schools) == 40
    assert len({school.region for school in schools}) == 12
    assert all(school.name_ar and school.latitude and school.need > 0 for school in schools)
    assert sorted(db.session.scalars(sa.select(User.role))) == [
        "admin",
        *["coordinator"] * 3,
        "donor",
        "field",
        *["manager"] * 3,
        "school",
    ]
    # The head teacher is staff of the school whose delivery was handed over.
    from tracker.schools.models import SchoolStaff

    # She also runs the satellite school whose box is on the road today, staff since long
    # before it left: its code is on her My school, to finish that hand-over with.
    staff = {s.school_id: s for s in db.session.scalars(sa.select(SchoolStaff))}
    statuses = dict(db.session.execute(sa.select(Delivery.school_id, Delivery.status)).all())
    # And three more schools of her group, whose deliveries she confirmed herself.
    assert sorted(statuses[school_id] for school_id in staff) == [
        "delivered",
        "delivered",
        "delivered",
        "delivered",
        "dispatched",
    ]
    on_the_road = next(s for s in staff.values() if statuses[s.school_id] == "dispatched")
    first_delivered = db.session.scalar(
        sa.select(Delivery.school_id).where(Delivery.status == "delivered").order_by(Delivery.id)
    )
    home = staff[first_delivered]
    # Every proof a hand-over can have, and a receipt that differs from the hand-over.
    from tracker.deliveries import receipts
    from tracker.deliveries.models import PhoneKey

    handed = db.session.scalars(
        sa.select(Delivery).where(Delivery.delivered_at.is_not(None)).order_by(Delivery.id)
    ).all()
    assert {receipts.proof_of(d) for d in handed} == {
        "school_code",
        "agent_only",
        "school_signed",
        "school_account",
    }
    assert [d.receipt.matched for d in handed if d.receipt] == ["agrees", "agrees", "differs"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PhoneKey)) == 1
    assert on_the_road.added_at < db.session.scalar(
        sa.select(Delivery.dispatched_at).where(Delivery.school_id == on_the_road.school_id)
    )

    # A year on: the head teacher's school lent tablets (one back, one overdue, one not yet
    # signed), a count closed with a tablet missing, and one open at the head's school.
    from tracker.loans.models import Loan
    from tracker.timezone import local_today as today

    loans = db.session.scalars(sa.select(Loan).order_by(Loan.id)).all()
    assert [loan.ended_as for loan in loans] == ["returned", None, None]
    assert loans[1].due_on < today() and loans[2].signed_at is None
    assert all(loan.school_id == home.school_id for loan in loans)
    counts = db.session.scalars(
        sa.select(Count).where(Count.scope != "depot").order_by(Count.id)
    ).all()
    assert [(c.status, c.missing) for c in counts] == [("closed", 1), ("open", 0)]
    assert counts[1].scope_value == str(home.school_id)
    # The tablet found damaged at a hand-over was replaced from stock; another waits at the
    # repairer, under warranty.
    from tracker.repairs.models import RepairCase

    cases = db.session.scalars(
        sa.select(RepairCase).where(RepairCase.repairer != "").order_by(RepairCase.id)
    ).all()
    assert [(c.outcome, c.warranty_claim) for c in cases] == [("replaced", True), (None, True)]
    replacement = db.session.get(Device, cases[0].replacement_id)
    assert replacement.status == "delivered" and replacement.school_id == cases[0].school_id
    # A tablet moved between schools: approved by the manager, handed over by the agent.
    from tracker.transfers.models import Transfer

    (transfer,) = db.session.scalars(sa.select(Transfer)).all()
    assert transfer.status == "on_the_way" and transfer.delivery.status == "delivered"
    assert transfer.approved_by.email == "manager@demo.test"

    assert db.session.scalar(sa.select(sa.func.count()).select_from(RetiredQrToken)) == 1
    # Schools and tablets arrived as uploads do: through the import engine, recorded.
    batches = db.session.scalars(sa.select(ImportBatch).order_by(ImportBatch.id)).all()
    assert [(b.kind, b.rows_new, b.committed) for b in batches] == [
        ("schools", 40, True),
        ("devices", 200, True),
    ]

    # An approved plan holds 150 tablets for 30 schools, partly delivered (one found damaged
    # at its hand-over, one missing at last week's count, one at the repairer); a second
    # plan awaits approval, and Souss-Massa's own awaits its manager's.
    plans = db.session.scalars(sa.select(AllocationPlan).order_by(AllocationPlan.id)).all()
    assert [p.status for p in plans] == ["partially_fulfilled", "submitted", "submitted"]
    held = db.session.scalars(
        sa.select(Device).where(
            Device.allocation_id.is_not(None), Device.status.not_in(("faulty", "lost"))
        )
    ).all()
    # (one of them moved since to a 31st school, by a transfer)
    assert len(held) == 147 and len({d.school_id for d in held}) == 31

    # The field agent has a delivery in every state of the journey.
    states = db.session.scalars(sa.select(Delivery.status).order_by(Delivery.id)).all()
    assert sorted(set(states)) == [
        "delivered",
        "dispatched",
        "packed",
        "partially_delivered",
        "planned",
    ]
    field = db.session.scalar(sa.select(User).where(User.email == "field@demo.test"))
    assert {d.assigned_to_id for d in db.session.scalars(sa.select(Delivery))} == {field.id}
    signed = db.session.scalar(sa.select(Delivery).where(Delivery.status == "delivered"))
    assert signed.signature_png and signed.recipient_name

    coordinator = db.session.scalar(sa.select(User).where(User.email == "coordinator@demo.test"))
    login(client, coordinator, "demo")
    dashboard = text_of(client.get("/"))
    assert "ICESCO-HW-2020" in dashboard and "40 schools" in dashboard


def test_demo_as_of_tells_the_founding_donation_as_an_opening_balance(fresh_app):
    """`tracker demo --as-of 2021-03-01`: the 200 tablets already at their schools since
    that day (one event each, no plan, no delivery), and what followed happens on them."""
    from datetime import date

    from tracker.devices.models import DeviceEvent
    from tracker.loans.models import Loan
    from tracker.repairs.models import RepairCase

    runner = fresh_app.test_cli_runner()
    result = runner.invoke(args=["demo", "--as-of", "2021-03-01"])
    assert result.exit_code == 0, result.output
    founding = sa.select(sa.func.count()).select_from(Device).where(Device.donation_id == 1)
    assert db.session.scalar(founding) == 200
    openings = db.session.scalars(sa.select(DeviceEvent).where(DeviceEvent.type == "opening"))
    openings = openings.all()
    recorded = {}
    for event in openings:
        recorded[event.to_status] = recorded.get(event.to_status, 0) + 1
    assert recorded == {"in_stock": 10, "delivered": 186, "faulty": 3, "lost": 1}
    at_school = [event for event in openings if event.school_id]
    assert all(event.details["since"] == "2021-03-01" for event in at_school)
    assert all(event.details["received_by"] for event in at_school)
    assert {event.occurred_at.date() for event in at_school} <= {
        date(2021, 2, 28),
        date(2021, 3, 1),
    }
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AllocationPlan)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Loan)) > 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RepairCase)) >= 3
    again = runner.invoke(args=["demo", "--as-of", "2021-03-01"])
    assert again.exit_code == 0 and "nothing added" in again.output
    later = runner.invoke(args=["demo", "--as-of", "2099-01-01"])
    assert later.exit_code == 2 and "after today" in later.output


def test_every_workbook_of_the_demo_opens_right_in_a_second_reader(fresh_app, tmp_path):
    """Each exported workbook, asked in Arabic, read back by calamine (not the writer's own
    library): dates are dates, figures are numbers, no date or figure column is narrower
    than what it shows (### in LibreOffice), every sheet runs right to left; the tablet that
    moved to another school is one row, where it is now."""
    from datetime import date, datetime

    import openpyxl
    from flask_babel import force_locale
    from python_calamine import CalamineWorkbook

    from tracker.counts.models import Count
    from tracker.devices.states import STATUS_LABELS
    from tracker.reports.counts import count_workbook
    from tracker.reports.donor import donor_workbook
    from tracker.spreadsheets.allocations import export_allocations
    from tracker.spreadsheets.exports import export_devices, export_history, export_schools
    from tracker.transfers.models import Transfer

    assert fresh_app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    donation = db.session.scalar(sa.select(Donation))
    count = db.session.scalar(sa.select(Count).order_by(Count.id))
    made = {}
    with fresh_app.test_request_context(), force_locale("ar"):
        for name, write in {
            "devices": export_devices,
            "schools": export_schools,
            "history": export_history,
            "allocations": export_allocations,
            "donor": lambda path: donor_workbook(path, donation.id),
            "count": lambda path: count_workbook(path, count.id),
        }.items():
            made[name] = tmp_path / f"{name}.xlsx"
            write(made[name])
    for name, path in made.items():
        book = openpyxl.load_workbook(path)
        second = CalamineWorkbook.from_path(str(path))
        for sheet in book.worksheets:
            assert sheet.sheet_view.rightToLeft, (name, sheet.title)
            rows = second.get_sheet_by_name(sheet.title).to_python()
            for column in range(sheet.max_column):
                letter = openpyxl.utils.get_column_letter(column + 1)
                width = sheet.column_dimensions[letter].width
                shown = 0
                for row_number, row in enumerate(rows[1:], start=2):
                    value = row[column] if column < len(row) else ""
                    kept = sheet.cell(row_number, column + 1)
                    if kept.is_date:
                        # calamine reads a date cell as a date (not text, not a number).
                        assert isinstance(value, date), (name, sheet.title, letter, value)
                        shown = max(shown, 16 if isinstance(value, datetime) else 10)
                    elif isinstance(kept.value, int | float) and not isinstance(kept.value, bool):
                        assert isinstance(value, int | float), (name, sheet.title, letter)
                        text = f"{kept.value:.0%}" if "%" in kept.number_format else str(value)
                        shown = max(shown, len(text))
                assert width >= shown + 1, (name, sheet.title, letter, width, shown)
    # The allocation workbook: one row per tablet, where it is now.
    book = openpyxl.load_workbook(made["allocations"])
    sheets = book.worksheets
    tags = [row[0] for row in sheets[2].iter_rows(min_row=2, values_only=True)]
    assert len(tags) == len(set(tags))
    moved = db.session.scalar(sa.select(Transfer)).delivery.items[0].device
    row = next(
        r for r in sheets[2].iter_rows(min_row=2, values_only=True) if r[0] == moved.asset_tag
    )
    assert row[5] == moved.school.code
    with fresh_app.test_request_context(), force_locale("ar"):
        delivered = str(STATUS_LABELS["delivered"])
    at_school = sum(
        1 for r in sheets[2].iter_rows(min_row=2, values_only=True) if r[7] == delivered
    )
    by_school = list(sheets[0].iter_rows(min_row=2, values_only=True))
    assert at_school == sum(r[10] for r in by_school)


def test_the_demo_has_two_regional_offices_each_seeing_its_own(fresh_app):
    """Souss-Massa's coordinator sees its region's schools, the Agadir depot stocked by a
    move from the central warehouse (a second on its way, to receive), and a plan awaiting
    its own manager; L'Oriental's sees none of it; the national office sees both."""
    runner, client = fresh_app.test_cli_runner(), fresh_app.test_client()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "souss.coordinator@demo.test" in result.output
    souss = db.session.scalar(sa.select(User).where(User.email == "souss.coordinator@demo.test"))
    login(client, souss, "demo")
    depots = text_of(client.get("/depots/"))
    assert "DEP-SM" in depots and "CENTRAL" not in depots
    schools = text_of(client.get("/schools/"))
    assert "Souss-Massa" in schools and "Oriental" not in schools
    moves = text_of(client.get("/moves/"))
    assert "MOV-00002" in moves and "On the way" in moves
    assert "Agadir" in text_of(client.get("/plans/"))
    # The Agadir depot's count, open, half of its shelf scanned.
    count = db.session.scalar(sa.select(Count).where(Count.scope == "depot"))
    shelf = text_of(client.get(f"/counts/{count.id}/depot"))
    assert f"{count.expected} Expected {count.expected // 2} Found" in shelf
    manager = db.session.scalar(sa.select(User).where(User.email == "souss.manager@demo.test"))
    client.post("/logout")
    login(client, manager, "demo")
    plan = db.session.scalar(
        sa.select(AllocationPlan).where(AllocationPlan.name.like("Souss-Massa%"))
    )
    answer = client.post(f"/plans/{plan.id}/approve", follow_redirects=True)
    assert answer.status_code == 200 and plan.status == "approved"
    client.post("/logout")
    oriental = db.session.scalar(
        sa.select(User).where(User.email == "oriental.coordinator@demo.test")
    )
    login(client, oriental, "demo")
    assert "DEP-SM" not in text_of(client.get("/depots/"))
    assert client.get(f"/plans/{plan.id}").status_code == 404
    assert "MOV-" not in text_of(client.get("/moves/"))
    assert "Inventaire du dépôt" not in text_of(client.get("/counts/"))


def test_the_demo_has_a_donor_reading_its_own_donation_and_its_open_figures(fresh_app):
    """donor@demo.test reads Huawei's donation, not the second donor's; Huawei's figures
    are open to the public."""
    runner, client = fresh_app.test_cli_runner(), fresh_app.test_client()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0 and "donor@demo.test" in result.output, result.output
    reader = db.session.scalar(sa.select(User).where(User.email == "donor@demo.test"))
    login(client, reader, "demo")
    home = text_of(client.get("/donor/"))
    assert "ICESCO-HW-2020" in home and "FAE-2025-01" not in home
    other = db.session.scalar(sa.select(Donation).where(Donation.reference == "FAE-2025-01"))
    assert client.get(f"/donor/donations/{other.id}").status_code == 404
    founding = db.session.scalar(sa.select(Donation).where(Donation.reference == "ICESCO-HW-2020"))
    page = text_of(client.get(f"/donor/donations/{founding.id}"))
    assert "200 Tablets registered" in page
    client.post("/logout")
    assert client.get(f"/open/{founding.public_key}").status_code == 200
