"""`tracker import` exit codes, and exports reopened with openpyxl and checked."""

from datetime import date, datetime

import openpyxl
import sqlalchemy as sa
from spreadsheet_files import ole, xlsx

from tracker.devices.models import Device
from tracker.devices.services import move_device
from tracker.extensions import db


def test_cli_import_commits_and_says_so(runner, create_donation, tmp_path):
    donation = create_donation(reference="ICESCO-HW-2020")
    path = xlsx(
        tmp_path / "list.xlsx", [["Serial number", "Model"], ["CLI001", "T10"], ["CLI002", "T10"]]
    )
    args = ["import", "devices", str(path), "--donation", "ICESCO-HW-2020"]
    dry = runner.invoke(args=[*args, "--dry-run"])
    assert dry.exit_code == 0 and "2 new" in dry.output and "Nothing was written" in dry.output
    assert db.session.query(Device).count() == 0
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "Imported list.xlsx: 2 rows read: 2 new, 0 updated, 0 unchanged, 0 rejected." in (
        result.output
    )
    again = runner.invoke(args=args)
    assert "Nothing to change: every row is already in the tracker." in again.output
    assert db.session.query(Device).count() == 2 and donation.id


def test_cli_import_lists_every_bad_row_and_writes_nothing(runner, create_donation, tmp_path):
    create_donation(reference="D-1")
    path = xlsx(tmp_path / "bad.xlsx", [["Serial"], ["GOOD01"], ["x"], ["GOOD01"]])
    result = runner.invoke(args=["import", "devices", str(path), "--donation", "D-1"])
    assert result.exit_code == 1
    assert "row 3, Serial 'x': not a serial number" in result.output
    assert "row 4, Serial 'GOOD01': same serial as row 2" in result.output
    assert "Nothing was imported" in result.output
    assert db.session.query(Device).count() == 0


def test_cli_import_unusable_file_exits_2(runner, tmp_path):
    path = ole(tmp_path / "old.xls", encrypted=False)
    result = runner.invoke(args=["import", "schools", str(path)])
    assert result.exit_code == 2 and "The workbook could not be read" in result.output
    no_header = xlsx(tmp_path / "n.xlsx", [["hello"], ["world"]])
    result = runner.invoke(args=["import", "schools", str(no_header)])
    assert result.exit_code == 2 and "No header row found" in result.output


def test_device_export_matches_the_database(runner, create_device, create_school, tmp_path):
    school = create_school(code="01234A", name_fr="École Al Amal")
    devices = [create_device() for _ in range(3)]
    move_device(devices[1], "reserved", None, school=school)
    devices[2].brand, devices[2].donor_ref = "Huawei", "ICE-2020-003"
    devices[2].warranty_until = date(2027, 12, 31)
    db.session.commit()
    path = tmp_path / "devices.xlsx"
    result = runner.invoke(args=["export", "devices", str(path)])
    assert result.exit_code == 0 and "Wrote 3 devices" in result.output
    sheet = openpyxl.load_workbook(path)["Devices"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:R4"
    assert sheet.column_dimensions["B"].width == 20
    header = [cell.value for cell in sheet[1]]
    rows = [
        dict(zip(header, (cell.value for cell in row), strict=True))
        for row in sheet.iter_rows(min_row=2)
    ]
    for row, device in zip(rows, sorted(devices, key=lambda d: d.asset_tag), strict=True):
        assert (row["Asset tag"], row["Serial number"], row["IMEI"]) == (
            device.asset_tag,
            device.serial,
            device.imei,
        )
        assert isinstance(row["Registered on"], datetime)
        assert row["QR link"].endswith(f"/d/{device.qr_token}")
    # The donor's name, as text (not the row's tail as a Python list).
    assert {row["Donor"] for row in rows} == {"Huawei Technologies Morocco"}
    assert rows[1]["State"] == "Reserved" and rows[1]["School code"] == "01234A"
    assert (rows[2]["Brand"], rows[2]["Donor's inventory number"]) == ("Huawei", "ICE-2020-003")
    assert rows[2]["Warranty until"].date() == date(2027, 12, 31)
    assert all(isinstance(row["Last seen"], datetime) for row in rows)  # registered: seen
    imei_cell = sheet.cell(row=2, column=3)
    assert imei_cell.data_type == "s"  # text: Excel keeps all 15 digits


def test_formula_like_text_is_inert_while_numbers_stay_numbers(
    runner, create_device, create_school, tmp_path
):
    hostile = ['=HYPERLINK("http://x")', "+SUM(1,2)", "-2+3", "@cmd", "=1+1"]
    for n, text in enumerate(hostile):
        create_device(model=text, serial=f"HOST{n:03d}")
    create_school(code="S1", name_fr="=cmd|' /C calc'!A0", enrolment=321)
    runner.invoke(args=["export", "devices", str(tmp_path / "d.xlsx")])
    runner.invoke(args=["export", "schools", str(tmp_path / "s.xlsx")])
    sheet = openpyxl.load_workbook(tmp_path / "d.xlsx")["Devices"]
    models = [sheet.cell(row=row, column=4) for row in range(2, 2 + len(hostile))]
    assert sorted(cell.value for cell in models) == sorted(hostile)
    assert all(cell.data_type == "s" for cell in models)
    assert all(cell.quotePrefix for cell in models)
    schools = openpyxl.load_workbook(tmp_path / "s.xlsx")["Schools"]
    assert schools["B2"].data_type == "s" and schools["B2"].value.startswith("=cmd")
    assert schools["N2"].value == 321 and schools["N2"].data_type == "n"


def test_school_export_imports_back_unchanged(runner, create_school, tmp_path):
    create_school(code="A1", name_fr="École A", name_ar="مدرسة", latitude=33.5, longitude=-7.5)
    create_school(code="B2", name_fr="École B", need=7)
    runner.invoke(args=["export", "schools", str(tmp_path / "s.xlsx")])
    result = runner.invoke(args=["import", "schools", str(tmp_path / "s.xlsx")])
    assert result.exit_code == 0
    assert "0 new, 0 updated, 2 unchanged" in result.output


def test_history_export_has_every_event(runner, create_device, create_user, tmp_path):
    user = create_user()
    device = create_device(actor=user)
    move_device(device, "reported_faulty", user, note="Écran cassé")
    db.session.commit()
    runner.invoke(args=["export", "history", str(tmp_path / "h.xlsx")])
    sheet = openpyxl.load_workbook(tmp_path / "h.xlsx")["History"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert [(r[1], r[3], r[5], r[7], r[8]) for r in rows] == [
        (device.asset_tag, "Registered", "In stock", user.email, None),
        (device.asset_tag, "Reported faulty", "Faulty", user.email, "Écran cassé"),
    ]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Device)) == 1


def test_sheet_writer_makes_every_trigger_inert(app, tmp_path):
    from tracker.spreadsheets.writer import ExportColumn, new_workbook, save, write_sheet

    hostile = ["=1+1", "+1", "-1", "@A1", "\tcmd", "\rcmd", "  =1+1", " \t=x"]
    workbook = new_workbook()
    write_sheet(
        workbook,
        "T",
        [ExportColumn("Text"), ExportColumn("Number", kind="number")],
        [(text, 7) for text in hostile] + [("plain", 1.5)],
    )
    save(workbook, tmp_path / "t.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "t.xlsx")["T"]
    for row, text in enumerate(hostile, start=2):
        cell = sheet.cell(row=row, column=1)
        # XML reading turns a carriage return into a line feed; the cell stays inert text.
        assert (cell.value, cell.data_type, cell.quotePrefix) == (
            text.replace("\r", "\n"),
            "s",
            True,
        )
        assert sheet.cell(row=row, column=2).data_type == "n"
    assert sheet["A10"].quotePrefix is False


def test_cli_school_list_without_needs_warns_or_sets_them_from_pupils(runner, tmp_path):
    from tracker.schools.models import School

    rows = [["Code", "Nom", "Région", "Effectif"], ["CLI01", "Atlas", "Souss", 41]]
    path = xlsx(tmp_path / "ministere.xlsx", rows)
    result = runner.invoke(args=["import", "schools", str(path), "--dry-run"])
    assert result.exit_code == 0 and "Warning: The list has no need column" in result.output
    result = runner.invoke(args=["import", "schools", str(path), "--need-from-enrolment", "20"])
    assert result.exit_code == 0 and "Warning" not in result.output
    assert db.session.query(School).one().need == 3
