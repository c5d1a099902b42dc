"""Moving in: an opening balance (each tablet already at its school, since when, received
by whom) and other tools' exports read as they come — Snipe-IT, Shelf.nu, InvenTree."""

import csv
from datetime import date

import pytest
import sqlalchemy as sa
from spreadsheet_files import xlsx

from conftest import imei_for
from tracker.devices.models import Device, DeviceEvent
from tracker.extensions import db
from tracker.repairs.models import RepairCase
from tracker.spreadsheets.models import ColumnChoice, ImportBatch
from tracker.spreadsheets.services import choose_columns, import_file


def run(kind, path, donation=None, commit=True, options=None):
    return import_file(
        kind,
        path,
        path.name,
        commit=commit,
        actor=None,
        donation_id=donation.id if donation else None,
        options=options,
    )


def write_csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def by_serial() -> dict[str, Device]:
    return {device.serial: device for device in db.session.scalars(sa.select(Device))}


@pytest.fixture
def schools(create_school):
    return {
        "amal": create_school(code="A100200", name_fr="École Al Amal", name_ar="مدرسة الأمل"),
        "nour": create_school(code="B300400", name_fr="Collège Ennour", name_ar="إعدادية النور"),
    }


def test_an_opening_balance_records_each_tablet_at_its_school_with_one_event(
    app, tmp_path, create_donation, schools
):
    donation = create_donation()
    rows = [
        ["Serial number", "School", "State", "At the school since", "Received by"],
        ["hw-0001a", "A100200", "delivered", "15/03/2021", "Mme Idrissi"],
        ["HW-0002", "ecole al-amal", "on loan", "2021-03-15", ""],
        ["HW-0003", "إعدادية النور", "faulty", "01/04/2021", ""],
        ["HW-0004", "", "in stock", "", ""],
        ["HW-0005", "Collège Ennour", "lost", "", ""],
    ]
    preview = run("devices", xlsx(tmp_path / "opening.xlsx", rows), donation, commit=False)
    assert preview.ok and preview.new == 5 and by_serial() == {}
    # The lost one is not at its school: it is not among the tablets placed.
    assert preview.places["tablets"] == 3 and preview.places["schools"] == 2
    assert preview.places["placed"][0] == ["A100200", "École Al Amal", "مدرسة الأمل", 2]
    assert preview.places["states"] == {
        "delivered": 1,
        "on_loan": 1,
        "faulty": 1,
        "in_stock": 1,
        "lost": 1,
    }
    assert preview.places["on_loan"] == 1 and preview.places["unmatched"] == []

    report = run("devices", xlsx(tmp_path / "opening.xlsx", rows), donation)
    assert report.committed
    found = by_serial()
    amal, nour = schools["amal"].id, schools["nour"].id
    assert {s: (d.status, d.school_id) for s, d in found.items()} == {
        "hw-0001a": ("delivered", amal),
        "HW-0002": ("delivered", amal),  # on loan: at its school, its borrower named at the desk
        "HW-0003": ("faulty", nour),
        "HW-0004": ("in_stock", None),
        "HW-0005": ("lost", nour),
    }
    events = db.session.scalars(sa.select(DeviceEvent).order_by(DeviceEvent.device_id)).all()
    assert [event.type for event in events] == ["opening"] * 5  # no plan, no delivery invented
    first = events[0]
    assert first.details == {
        "import": "opening.xlsx",
        "since": "2021-03-15",
        "received_by": "Mme Idrissi",
        "depot": "CENTRAL",  # where it was stocked: the central warehouse
    }
    assert first.school_id == amal and first.occurred_at.date() in (
        date(2021, 3, 14),
        date(2021, 3, 15),
    )
    assert events[1].details["state"] == "on_loan"
    # The faulty one has its repair case, opened at its school.
    [case] = db.session.scalars(sa.select(RepairCase)).all()
    assert (case.device_id, case.school_id) == (found["HW-0003"].id, nour)
    # The same file again changes nothing; a tablet placed elsewhere is refused by row.
    again = run("devices", xlsx(tmp_path / "opening.xlsx", rows), donation)
    assert (again.new, again.unchanged, again.ok) == (0, 5, True)
    rows[1][1] = "B300400"
    moved = run("devices", xlsx(tmp_path / "moved.xlsx", rows), donation)
    assert not moved.ok
    assert "already in the tracker, elsewhere" in str(moved.problems[0])


def test_places_not_matched_are_listed_with_the_closest_school_and_nothing_is_written(
    app, tmp_path, create_donation, schools
):
    donation = create_donation()
    rows = [
        ["Serial", "Location", "Status"],
        ["SN-1", "Ecole Al Amel", "Deployed"],
        ["SN-2", "Ecole Al Amel", "Deployed"],
        ["SN-3", "Central warehouse", "Ready to Deploy"],  # in stock: a warehouse is fine
        ["SN-4", "Nowhere at all", "Deployed"],
        ["SN-5", "", "Deployed"],
        ["SN-6", "A100200", "Archived"],
        ["SN-7", "A100200", "Somewhere"],
        ["SN-8", "A100200", "Deployed"],
    ]
    report = run("devices", xlsx(tmp_path / "snipe.xlsx", rows), donation)
    assert not report.committed and by_serial() == {}
    messages = [str(problem) for problem in report.problems]
    assert messages[0] == (
        "row 2, Location 'Ecole Al Amel': no school has this code or name; the closest is "
        "École Al Amal (A100200)"
    )
    assert messages[2] == "row 5, Location 'Nowhere at all': no school has this code or name"
    assert messages[3].startswith("row 6, Status 'Deployed': a tablet at a school needs its school")
    assert "archived" in messages[4] and messages[4].startswith("row 7, Status 'Archived'")
    assert messages[5].startswith("row 8, Status 'Somewhere': not a state")
    assert len(messages) == 6
    unmatched = report.places["unmatched"]
    assert unmatched[0] == {
        "place": "Ecole Al Amel",
        "rows": [2, 3],
        "count": 2,
        "closest": "École Al Amal (A100200)",
        "closest_code": "A100200",
        "closest_names": ["École Al Amal", "مدرسة الأمل"],
    }
    assert [place["place"] for place in unmatched] == ["Ecole Al Amel", "Nowhere at all"]


def test_a_day_after_today_or_not_a_day_is_refused(app, tmp_path, create_donation, schools):
    from tracker.timezone import local_today

    donation = create_donation()
    today = local_today()
    tomorrow = date.fromordinal(today.toordinal() + 1)
    rows = [
        ["Serial", "School", "Since"],
        ["T-1", "A100200", today.isoformat()],  # today: accepted
        ["T-2", "A100200", tomorrow.isoformat()],
        ["T-3", "A100200", "31/02/2021"],
    ]
    report = run("devices", xlsx(tmp_path / "days.xlsx", rows), donation, commit=False)
    assert [(p.row, p.reason) for p in report.problems] == [
        (3, "after today"),
        (4, "not a date: write it as 31/12/2027 or 2027-12-31"),
    ]


def test_snipe_it_sample_import_and_export_headers(app, tmp_path, create_donation, schools):
    """Snipe-IT's sample asset import (Model name beside Model Number, Purchase Date and
    Warranty months, its user columns) and its asset export (Model No., Warranty Expires)."""
    donation = create_donation()
    header = [
        "Full Name", "Email", "Username", "item Name", "Category", "Model name",
        "Manufacturer", "Model Number", "Serial number", "Asset Tag", "Location", "Notes",
        "Purchase Date", "Purchase Cost", "Company", "Status", "Warranty months", "IMEI",
    ]  # fmt: skip
    rows = [
        header,
        ["", "", "", "Tablet 1", "Tablets", "MatePad T10", "Huawei", "AGR-W09", "r52n0001",
         "ICE-0001", "A100200", "box 3", "2021-01-31", "1500", "ICESCO", "Deployed", "13",
         imei_for(1)],
        ["", "", "", "Tablet 2", "Tablets", "", "Huawei", "AGR-W09", "R52N0002",
         "ICE-0002", "", "", "2021-01-15", "1500", "ICESCO", "Ready to Deploy", "24", ""],
    ]  # fmt: skip
    report = run("devices", write_csv(tmp_path / "sample_assets.csv", rows), donation)
    assert report.committed, [str(p) for p in report.problems]
    assert set(report.unknown_columns) == {
        "Full Name", "Email", "Username", "Purchase Cost", "Company",
    }  # fmt: skip
    first, second = by_serial()["r52n0001"], by_serial()["R52N0002"]
    assert (first.model, first.brand, first.donor_ref, first.imei) == (
        "MatePad T10",  # the Model name, not the Model Number
        "Huawei",
        "ICE-0001",
        imei_for(1),
    )
    assert first.notes == "box 3 · item Name: Tablet 1 · Category: Tablets"
    assert first.warranty_until == date(2022, 2, 28)  # 31 January + 13 months
    assert (first.status, first.school_id) == ("delivered", schools["amal"].id)
    assert second.model == "AGR-W09"  # no Model name: the Model Number
    assert (second.status, second.warranty_until) == ("in_stock", date(2023, 1, 15))

    export = [
        ["Asset Name", "Asset Tag", "Model", "Model No.", "Serial", "Location", "Status",
         "Warranty Expires", "Checked Out", "Checked Out To"],
        ["T3", "ICE-0003", "MatePad T10", "AGR-W09", "R52N0003", "Collège Ennour",
         "Broken", "2023-06-30", "2021-09-01", "M. Alaoui"],
    ]  # fmt: skip
    report = run("devices", xlsx(tmp_path / "assets-export.xlsx", export), donation)
    assert report.committed, [str(p) for p in report.problems]
    third = by_serial()["R52N0003"]
    assert (third.model, third.status, third.warranty_until) == (
        "MatePad T10",
        "faulty",
        date(2023, 6, 30),
    )
    event = db.session.scalars(
        sa.select(DeviceEvent).where(DeviceEvent.device_id == third.id)
    ).one()
    assert event.details["received_by"] == "M. Alaoui" and event.details["since"] == "2021-09-01"


def test_a_model_number_excel_rounded_is_refused(app, tmp_path, create_donation):
    donation = create_donation()
    rows = [["Serial", "Model Number"], ["X-1", 6.37702e15], ["X-2", "6.37702E+15"]]
    report = run("devices", xlsx(tmp_path / "rounded.xlsx", rows), donation, commit=False)
    assert [(p.row, p.column) for p in report.problems] == [
        (2, "Model Number"),
        (3, "Model Number"),
    ]
    assert "rounded number" in report.problems[0].reason


def test_shelf_export_with_custom_field_headers(app, tmp_path, create_donation, schools):
    donation = create_donation()
    rows = [
        ["id", "title", "description", "category", "location", "kit", "custody", "status",
         "valuation", "cf: Serial number,type:text", "cf: IMEI,type:text"],
        ["clx1", "Tablette 1", "Boîte 4", "Tablettes", "École Al Amal", "Kit classe 3",
         "Mme Idrissi", "IN_CUSTODY", "", "sh-0001", imei_for(7)],
        ["clx2", "Tablette 2", "", "Tablettes", "", "", "", "AVAILABLE", "", "SH-0002", ""],
    ]  # fmt: skip
    report = run("devices", write_csv(tmp_path / "shelf-assets.csv", rows), donation)
    assert report.committed, [str(p) for p in report.problems]
    assert report.unknown_columns == ["id", "valuation"]
    first = by_serial()["sh-0001"]
    # A Shelf asset's title names it, not its model: kept in its notes with its kit.
    assert (first.model, first.imei, first.status) == ("", imei_for(7), "delivered")
    assert first.notes == "Boîte 4 · title: Tablette 1 · kit: Kit classe 3 · category: Tablettes"
    assert first.condition == "good"  # used at its school since, unless the list says
    assert by_serial()["SH-0002"].status == "in_stock"


def test_inventree_stock_export(app, tmp_path, create_donation, schools):
    donation = create_donation()
    rows = [
        ["Stock ID", "Part ID", "Part Name", "Serial", "Quantity", "Location ID",
         "Location Name", "Status", "Expiry Date", "Notes"],
        ["1", "5", "MatePad T10", "INV-1", "1", "3", "B300400", "OK", "2024-12-31", ""],
        ["2", "5", "MatePad T10", "INV-2", "1", "3", "B300400", "Damaged", "", "écran"],
    ]  # fmt: skip
    report = run("devices", xlsx(tmp_path / "InvenTree_StockItems.xlsx", rows), donation)
    assert report.committed, [str(p) for p in report.problems]
    one, two = by_serial()["INV-1"], by_serial()["INV-2"]
    assert (one.model, one.status, one.warranty_until) == (
        "MatePad T10",
        "delivered",
        date(2024, 12, 31),
    )
    assert (two.status, two.school_id) == ("faulty", schools["nour"].id)


def test_a_column_nobody_recognised_is_mapped_and_remembered(app, tmp_path, create_donation):
    """A file whose serial column is named as no tool names it: refused with its columns
    listed; the user says which is the serial; the file passes, and the next file with the
    same headers passes at once."""
    donation = create_donation()
    rows = [["Numéro de l'appareil chez nous", "Couleur"], ["ABC-1", "noir"], ["ABC-2", "gris"]]
    path = xlsx(tmp_path / "ours.xlsx", rows)
    first = run("devices", path, donation, commit=False)
    assert not first.ok and "Serial number" in first.problems[0].reason
    assert first.unknown_columns == ["Numéro de l'appareil chez nous", "Couleur"]
    batch = db.session.get(ImportBatch, first.batch_id)
    with pytest.raises(Exception, match="cannot both be"):
        choose_columns(
            batch,
            {"Numéro de l'appareil chez nous": "serial", "Couleur": "serial"},
            actor=None,
        )
    chosen = choose_columns(
        batch, {"Numéro de l'appareil chez nous": "serial", "Couleur": ""}, actor=None
    )
    db.session.commit()
    again = run("devices", path, donation, commit=True, options=batch.options)
    assert again.committed and again.new == 2 and again.unknown_columns == []
    assert chosen == {"Numéro de l'appareil chez nous": "serial", "Couleur": ""}
    # The next file with the same headers, in another order: read with the same choice.
    later = [["Couleur", "Numéro de l'appareil chez nous"], ["bleu", "ABC-3"]]
    report = run("devices", xlsx(tmp_path / "later.xlsx", later), donation)
    assert report.committed and "ABC-3" in by_serial()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ColumnChoice)) == 1


def test_a_ministry_school_list_keeps_cycle_and_setting(app, tmp_path):
    """GRESA's columns (Code GRESA, Libellé établissement, AREF, Direction provinciale)
    read as code, name, region and province; the cycle and the setting kept, in French,
    Arabic or English; a word that is neither refused by row."""
    from tracker.schools.models import School

    rows = [
        ["Code GRESA", "Libellé établissement", "AREF", "Direction provinciale", "Cycle",
         "Milieu"],
        ["04101A", "Ecole Al Massira", "Souss-Massa", "Agadir Ida-Outanane", "Primaire",
         "Rural"],
        ["04102B", "Collège Ibn Sina", "Souss-Massa", "Agadir Ida-Outanane", "الثانوي الإعدادي",
         "حضري"],
        ["04103C", "Lycée Al Qods", "Souss-Massa", "Tiznit", "secondaire qualifiant", "urbain"],
        ["04104D", "École X", "Souss-Massa", "Tiznit", "maternelle", "banlieue"],
    ]  # fmt: skip
    report = run("schools", xlsx(tmp_path / "gresa.xlsx", rows))
    assert [(p.row, p.column) for p in report.problems] == [(5, "Cycle")]
    rows.pop()
    report = run("schools", xlsx(tmp_path / "gresa.xlsx", rows))
    assert report.committed and report.unknown_columns == []
    found = {
        school.code: (school.name_fr, school.region, school.province, school.cycle, school.milieu)
        for school in db.session.scalars(sa.select(School))
    }
    assert found == {
        "04101A": ("Ecole Al Massira", "Souss-Massa", "Agadir Ida-Outanane", "primary", "rural"),
        "04102B": ("Collège Ibn Sina", "Souss-Massa", "Agadir Ida-Outanane", "middle", "urban"),
        "04103C": ("Lycée Al Qods", "Souss-Massa", "Tiznit", "secondary", "urban"),
    }


def test_plans_and_counts_target_a_cycle_and_a_setting(
    app, tmp_path, create_donation, create_school
):
    """The rural primary schools of a province: a plan's schools and a count's list."""
    from tracker.allocations.services import choose_schools
    from tracker.counts import services as counts
    from tracker.errors import ValidationFailed
    from tracker.timezone import local_today

    rural = create_school(code="P1", province="Tiznit", cycle="primaire", milieu="rural")
    urban = create_school(code="P2", province="Tiznit", cycle="primary", milieu="urbain")
    middle = create_school(code="C1", province="Tiznit", cycle="collège", milieu="rural")
    elsewhere = create_school(code="P3", province="Agadir", cycle="primary", milieu="rural")
    rows = [["Serial", "School"]] + [
        [f"S-{n}", school.code] for n, school in enumerate([rural, rural, urban, middle, elsewhere])
    ]
    assert run("devices", xlsx(tmp_path / "o.xlsx", rows), create_donation()).committed
    assert choose_schools(province="tiznit", cycle="primary", milieu="rural") == [rural.id]
    assert set(choose_schools(province="Tiznit", milieu="rural")) == {rural.id, middle.id}
    assert len(choose_schools(province="Tiznit")) == 3
    with pytest.raises(ValidationFailed):
        choose_schools(cycle="kindergarten")
    today = local_today()
    count = counts.open_count(
        None,
        name="Rural primary",
        scope="programme",
        starts_on=today,
        ends_on=today,
        cycle="primary",
        milieu="rural",
    )
    assert count.expected == 3  # two at P1, one at P3
    assert counts.covers(count, rural) and not counts.covers(count, urban)
    assert not counts.covers(count, middle)
    province = counts.open_count(
        None,
        name="Tiznit rural primary",
        scope="province",
        scope_value="Tiznit",
        starts_on=today,
        ends_on=today,
        cycle="primary",
        milieu="rural",
    )
    assert province.expected == 2
    with pytest.raises(ValidationFailed, match="cycle"):
        counts.open_count(
            None, name="X", scope="programme", starts_on=today, ends_on=today, cycle="nursery"
        )


def test_the_command_line_says_what_the_page_says(runner, create_donation, schools, tmp_path):
    create_donation(reference="D-OPEN")
    rows = [
        ["Serial", "School", "Couleur"],
        ["CL-1", "A100200", "noir"],
        ["CL-2", "Ecole Al Amel", "gris"],
        ["TOTAL", None, None],
    ]
    path = xlsx(tmp_path / "cli.xlsx", rows)
    result = runner.invoke(args=["import", "devices", str(path), "--donation", "D-OPEN"])
    assert result.exit_code == 1
    assert "Row 4 looks like a totals line: it was skipped, not imported." in result.output
    assert "Columns ignored (not known): Couleur" in result.output
    assert (
        "No school matches “Ecole Al Amel” (rows 3); the closest is École Al Amal (A100200)."
        in result.output
    )
    rows[2][1] = "ecole al amal"
    path = xlsx(tmp_path / "cli.xlsx", rows)
    result = runner.invoke(args=["import", "devices", str(path), "--donation", "D-OPEN"])
    assert result.exit_code == 0, result.output
    assert "Tablets by school (1 school): A100200 2" in result.output


def test_what_an_opening_balance_refuses_and_how_it_names_schools(
    app, tmp_path, create_donation, create_school, schools
):
    """In stock at a school is a contradiction; a day before 2000 is none; a name two
    schools share lists their codes; a name with its code beside it is that school."""
    create_school(code="T1", name_fr="École Annour")
    create_school(code="T2", name_fr="Ecole An-Nour")
    donation = create_donation()
    rows = [
        ["Serial", "School", "State", "Since"],
        ["R-1", "A100200", "in stock", ""],
        ["R-2", "A100200", "delivered", "31/12/1999"],
        ["R-3", "A100200", "delivered", "01/01/2000"],  # the first day taken
        ["R-4", "ecole annour", "delivered", ""],
        ["R-5", "Collège Ennour B300400", "delivered", ""],
        ["R-6", "Magasin central", "in stock", ""],
    ]
    report = run("devices", xlsx(tmp_path / "r.xlsx", rows), donation, commit=False)
    assert [(p.row, p.column, p.reason) for p in report.problems] == [
        (
            2,
            "State",
            "in stock, but the place is a school: write the state it is in there "
            "(delivered, faulty…), or leave the school out",
        ),
        (3, "Since", "before 2000: not the day it was handed over"),
        (5, "School", "several schools have this name (T1, T2): write the school's code"),
    ]
    assert report.places["stores"] == [("Magasin central", 1)]
    rows = [rows[0], rows[3], rows[5], rows[6]]
    report = run("devices", xlsx(tmp_path / "r.xlsx", rows), donation)
    assert report.committed
    placed = by_serial()
    assert placed["R-5"].school_id == schools["nour"].id
    assert (placed["R-6"].status, placed["R-6"].school_id) == ("in_stock", None)


def test_a_tablet_on_loan_listed_again_as_on_loan_is_unchanged(
    app, tmp_path, create_donation, schools
):
    from tracker.devices.services import move_device

    donation = create_donation()
    rows = [["Serial", "School", "State"], ["L-1", "A100200", "on loan"]]
    assert run("devices", xlsx(tmp_path / "l.xlsx", rows), donation).committed
    device = by_serial()["L-1"]
    move_device(device, "lent", None)
    db.session.commit()
    again = run("devices", xlsx(tmp_path / "l.xlsx", rows), donation)
    assert (again.ok, again.unchanged) == (True, 1)


def test_a_choice_never_takes_a_known_column_and_the_commit_reads_what_the_preview_read(
    app, tmp_path, create_donation, schools
):
    """An earlier choice ("Supplier" is the serial) cannot push the real Serial column out;
    a file previewed before someone chose for its headers is imported as it was previewed."""
    donation = create_donation()
    rows = [["Supplier", "Serial", "Zone"], ["VENDOR-1", "REAL-1", "A100200"]]
    path = xlsx(tmp_path / "first.xlsx", rows)
    first = run("devices", path, donation, commit=False)
    assert first.unknown_columns == ["Supplier", "Zone"]
    batch = db.session.get(ImportBatch, first.batch_id)
    assert batch.columns_read == {"Serial": "serial"}
    with pytest.raises(Exception, match="cannot both be"):
        choose_columns(batch, {"Supplier": "serial"}, actor=None)
    db.session.rollback()
    # Someone else's file with the same headers: Zone is the school.
    second = run("devices", xlsx(tmp_path / "second.xlsx", rows), donation, commit=False)
    other = db.session.get(ImportBatch, second.batch_id)
    choose_columns(other, {"Zone": "place", "Supplier": ""}, actor=None)
    db.session.commit()
    # The first file, committed as previewed (Zone ignored): in stock, no school.
    batch = db.session.get(ImportBatch, first.batch_id)
    committed = run("devices", path, donation, options=batch.options)
    assert committed.committed
    assert (by_serial()["REAL-1"].status, by_serial()["REAL-1"].school_id) == ("in_stock", None)
    # A new file with those headers is read with the remembered choice, and says so.
    rows[1] = ["VENDOR-2", "REAL-2", "A100200"]
    later = run("devices", xlsx(tmp_path / "later.xlsx", rows), donation, commit=False)
    assert later.remembered and later.columns_read == {"Serial": "serial", "Zone": "place"}
    assert later.unknown_columns == []


def test_the_problems_workbook_of_a_file_whose_header_looks_like_a_formula(
    app, client, signed_in, tmp_path, create_donation
):
    donation = create_donation()
    rows = [['=HYPERLINK("http://evil","x")', "Serial"], ["a", "x"]]
    report = run("devices", write_csv(tmp_path / "f.csv", rows), donation, commit=False)
    assert not report.ok
    batch = db.session.get(ImportBatch, report.batch_id)
    from tracker.jobs.files import store_file

    with open(tmp_path / "f.csv", "rb") as handle:
        stored = store_file(handle, name="f.csv", mimetype="x", user_id=None, keep_days=1)
    batch.upload_file_id = stored.id
    db.session.commit()
    signed_in("coordinator")
    answer = client.get(f"/imports/{batch.id}/problems.xlsx")
    assert answer.status_code == 200
    import io

    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(answer.data)).active
    header = sheet["A1"]
    assert header.value == '=HYPERLINK("http://evil","x")'
    assert header.data_type == "s" and header.quotePrefix  # text, never a formula


def test_a_school_list_in_arabic_keeps_the_places_and_the_french_names(
    app, tmp_path, create_school
):
    """A region or province written in Arabic is the one the list stores in French; an
    Arabic name in the name's column is the Arabic name, never over the French one."""
    from tracker.schools.models import School

    create_school(
        code="04101A", name_fr="Ecole Al Massira", region="Souss-Massa", province="Tiznit"
    )
    rows = [
        ["Code GRESA", "Libellé établissement", "AREF", "Direction provinciale"],
        ["04101A", "مدرسة المسيرة", "سوس ماسة", "تيزنيت"],
        ["04102B", "Collège Ibn Sina", "جهة غير معروفة", "TIZNIT"],
    ]
    report = run("schools", xlsx(tmp_path / "ar.xlsx", rows))
    assert report.committed, [str(p) for p in report.problems]
    found = {
        s.code: (s.name_fr, s.name_ar, s.region, s.province)
        for s in db.session.scalars(sa.select(School))
    }
    assert found["04101A"] == ("Ecole Al Massira", "مدرسة المسيرة", "Souss-Massa", "Tiznit")
    # An Arabic name the reference does not know stays as written; a spelling of a stored
    # one is the stored one.
    assert found["04102B"][2:] == ("جهة غير معروفة", "Tiznit")


def test_a_misspelt_place_is_read_as_its_closest_school_when_the_user_says_so(
    app, client, signed_in, tmp_path, create_donation, schools
):
    """The preview offers the closest school of a place nothing matched; ticked, the file
    is checked again reading it so, and imported so. A place the preview did not offer is
    refused; the page says the closest school in the reader's language."""
    from tracker.errors import ValidationFailed
    from tracker.spreadsheets.services import accept_closest

    donation = create_donation()
    rows = [["Serial", "School"], ["M-1", "Ecole Al Amel"], ["M-2", "Nowhere at all"]]
    path = xlsx(tmp_path / "m.xlsx", rows)
    report = run("devices", path, donation, commit=False)
    batch = db.session.get(ImportBatch, report.batch_id)
    signed_in("coordinator")
    page = client.get(f"/imports/{batch.id}", headers={"Accept-Language": "ar"})
    assert "مدرسة الأمل" in page.get_data(as_text=True)
    with pytest.raises(ValidationFailed):
        accept_closest(batch, ["Nowhere at all", "Not in the file"])
    accepted = accept_closest(batch, ["Ecole Al Amel"])
    assert accepted == {"Ecole Al Amel": schools["amal"].id}
    db.session.commit()
    again = run("devices", path, donation, commit=False, options=batch.options)
    assert [p.row for p in again.problems] == [3]  # only the place with no school near
    rows.pop()
    done = run("devices", xlsx(tmp_path / "m.xlsx", rows), donation, options=batch.options)
    assert done.committed and by_serial()["M-1"].school_id == schools["amal"].id


def test_a_long_header_can_be_chosen_and_many_columns_stay_few(app, tmp_path, create_donation):
    donation = create_donation()
    long = "Numéro que notre fournisseur a gravé au dos " * 5  # 225 characters
    rows = [[long, *(f"Colonne {n}" for n in range(80))], ["LONG-1", *range(80)]]
    first = run("devices", xlsx(tmp_path / "long.xlsx", rows), donation, commit=False)
    assert len(first.unknown_columns) == 50 and len(first.unknown_columns[0]) == 120
    batch = db.session.get(ImportBatch, first.batch_id)
    choose_columns(batch, {first.unknown_columns[0]: "serial"}, actor=None)
    db.session.commit()
    again = run("devices", xlsx(tmp_path / "long.xlsx", rows), donation, options=batch.options)
    assert again.committed and "LONG-1" in by_serial()


def test_a_tablet_on_loan_with_its_borrower_is_lent_to_them_since_the_day(
    app, tmp_path, create_donation, schools
):
    """On loan with a borrower: the tablet is on loan to the school's borrower of that code
    (or one the list adds), since the day given, unsigned, due at the end of the year; one
    tablet per borrower; a borrower on a tablet that is not on loan is refused."""
    from tracker.loans.models import Borrower, Loan
    from tracker.loans.services import add_borrower

    amal = schools["amal"].id
    add_borrower(None, amal, code="P-7", name="Salma Idrissi", class_name="6A")
    db.session.commit()
    donation = create_donation()
    header = ["Serial", "School", "State", "Since", "Borrower", "Borrower code", "Class"]
    rows = [
        header,
        ["B-1", "A100200", "on loan", "15/09/2025", "", "p-7", ""],
        ["B-2", "A100200", "on loan", "", "Yassine Amrani", "", "5B"],
        ["B-3", "A100200", "on loan", "", "", "", ""],  # no borrower: at its school
        ["B-4", "A100200", "delivered", "", "Omar", "", ""],
        ["B-5", "A100200", "on loan", "", "Salma again", "P-7", ""],
    ]
    report = run("devices", xlsx(tmp_path / "loans.xlsx", rows), donation, commit=False)
    assert [(p.row, p.column, p.reason) for p in report.problems] == [
        (5, "Borrower", "a borrower is given, but the tablet is not on loan"),
        (6, "Borrower code", "the same borrower as row 2: one tablet each"),
    ]
    rows = rows[:4]
    report = run("devices", xlsx(tmp_path / "loans.xlsx", rows), donation)
    assert report.committed, [str(p) for p in report.problems]
    found = by_serial()
    assert (found["B-1"].status, found["B-2"].status, found["B-3"].status) == (
        "on_loan",
        "on_loan",
        "delivered",
    )
    loans = {loan.device_id: loan for loan in db.session.scalars(sa.select(Loan))}
    salma = loans[found["B-1"].id]
    assert salma.borrower.name == "Salma Idrissi" and salma.signed_at is None
    assert salma.lent_at.date() in (date(2025, 9, 14), date(2025, 9, 15))
    added = loans[found["B-2"].id].borrower
    assert (added.name, added.class_name, added.code) == ("Yassine Amrani", "5B", "OUV-B-2")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Borrower)) == 2
    assert report.places["states"] == {"on_loan": 3}
    # Listed again: the same tablets, unchanged.
    again = run("devices", xlsx(tmp_path / "loans.xlsx", rows), donation)
    assert (again.ok, again.unchanged) == (True, 3)
