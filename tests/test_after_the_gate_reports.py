"""Reports grow with what happens after the hand-over: the dashboard shows pupils reached,
tablets lent, in repair, lost and seen at the last count; the donor report's workbook has
Loans (counts only, never names) and Counts sheets."""

import io

import sqlalchemy as sa
from openpyxl import load_workbook

from conftest import login, text_of
from tracker.counts import services as counts
from tracker.devices.services import move_device
from tracker.extensions import db
from tracker.loans import services as loans
from tracker.reports.donor import donor_workbook
from tracker.schools.models import SchoolStaff
from tracker.timezone import local_today


def _a_year_on(create_user, create_school, create_device):
    school = create_school(name_fr="École Al Amal", region="Rabat-Salé-Kénitra")
    tablets = [create_device(serial=f"SN-Y-{n}") for n in range(4)]
    for device in tablets:
        device.status, device.school_id = "delivered", school.id
    head = create_user("school")
    db.session.add(SchoolStaff(user_id=head.id, school_id=school.id))
    db.session.commit()
    loans.lend(head, school.id, tablets[0].serial, "P-1", new_borrower={"name": "Amina Idrissi"})
    loans.lend(head, school.id, tablets[1].serial, "P-2", new_borrower={"name": "Omar Tazi"})
    loans.take_back(head, school.id, tablets[1].serial, condition="good")
    move_device(tablets[2], "reported_faulty", head)
    count = counts.open_count(
        None, name="Juin", scope="programme", starts_on=local_today(), ends_on=local_today()
    )
    counts.count_scan(head, count.id, school.id, tablets[0].serial)
    counts.count_scan(head, count.id, school.id, tablets[1].serial)
    counts.ask_to_close(None, count.id)
    counts.confirm_close(None, count.id)
    db.session.commit()
    return school, tablets


def test_the_dashboard_shows_what_became_of_the_tablets_after_the_gate(
    client, create_user, create_school, create_device
):
    school, tablets = _a_year_on(create_user, create_school, create_device)
    login(client, create_user("manager"))
    page = text_of(client.get("/"))
    assert "After the hand-over" in page
    html = client.get("/").get_data(as_text=True)
    assert 'data-testid="reached">2<' in html  # two pupils ever lent a tablet
    assert 'data-testid="in-repair">1<' in html
    assert 'data-testid="last-count">2 / 3<' in html  # the faulty one was not counted
    region = text_of(client.get("/progress?region=Rabat-Sal%C3%A9-K%C3%A9nitra"))
    assert "Pupils and teachers reached" in region


def test_the_donor_report_has_loans_and_counts_and_no_names(
    app, tmp_path, create_user, create_school, create_device
):
    school, tablets = _a_year_on(create_user, create_school, create_device)
    out = io.BytesIO()
    donor_workbook(out, tablets[0].donation_id)
    book = load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    assert {"Loans", "Counts"} <= set(book.sheetnames)
    loans_sheet = [row for row in book["Loans"].iter_rows(values_only=True)]
    assert loans_sheet[1][:7] == (school.code, "École Al Amal", "Rabat-Salé-Kénitra", 1, 2, 1, 2)
    counts_sheet = [row for row in book["Counts"].iter_rows(values_only=True)]
    assert counts_sheet[1][0] == "Juin" and counts_sheet[1][4:] == (3, 2, 0, 1)
    every_cell = " ".join(
        str(value) for sheet in book for row in sheet.iter_rows(values_only=True) for value in row
    )
    assert "Amina" not in every_cell and "Omar" not in every_cell
    summary = dict(row[:2] for row in book["Summary"].iter_rows(values_only=True))
    assert summary["Pupils and teachers reached"] == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SchoolStaff)) == 1
