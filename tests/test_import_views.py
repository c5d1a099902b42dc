"""The import pages: upload, preview, problems workbook, commit, templates, downloads."""

import io
import re
import time

import openpyxl
from spreadsheet_files import xlsx

from conftest import download, text_of
from tracker.devices.models import Device
from tracker.extensions import db


def upload(client, path, kind="devices", donation=None):
    with open(path, "rb") as handle:
        data = {"kind": kind, "file": (io.BytesIO(handle.read()), path.name)}
    if donation is not None:
        data["donation_id"] = str(donation.id)
    return client.post("/imports/", data=data, content_type="multipart/form-data")


def test_preview_then_commit(signed_in, client, create_donation, tmp_path):
    donation = create_donation()
    signed_in("coordinator")
    path = xlsx(
        tmp_path / "manifest.xlsx",
        [["N° de série", "Modèle", "Carton"], ["WEB001", "T10", 1], ["WEB002", "T10", 1]],
    )
    response = upload(client, path, donation=donation)
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert 'data-testid="new">2<' in html and "Carton" in html
    assert db.session.query(Device).count() == 0
    commit_url = re.search(r'action="(/imports/\d+/commit)"', html).group(1)
    done = client.post(commit_url)
    assert done.status_code == 302
    assert "Imported" in text_of(client.get(done.headers["Location"]))
    assert sorted(d.serial for d in db.session.query(Device)) == ["WEB001", "WEB002"]
    assert "This file was already imported." in text_of(
        client.post(commit_url, follow_redirects=True)
    )


def test_rejected_file_lists_problems_and_offers_the_workbook(
    signed_in, client, tmp_path, create_donation
):
    donation = create_donation()
    signed_in("admin")
    path = xlsx(
        tmp_path / "bad.xlsx", [["Titre"], ["Serial", "IMEI"], ["OK0001", None], ["OK0001", "123"]]
    )
    response = upload(client, path, donation=donation)
    page = client.get(response.headers["Location"])
    text = text_of(page)
    assert "same serial as row 3" in text and "an IMEI has exactly 15 digits" in text
    assert "/commit" not in page.get_data(as_text=True)
    link = re.search(r'href="(/imports/\d+/problems\.xlsx)"', page.get_data(as_text=True))
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(link.group(1)).data))
    sheet = workbook.active
    assert [c.value for c in sheet[1]] == ["Serial", "IMEI", "Problems"]
    assert sheet["C3"].value.startswith("row 4: Serial: same serial as row 3")
    assert sheet["A3"].fill.fgColor.rgb.endswith("F8C9C4")  # the bad cell is highlighted
    assert sheet["A2"].fill.fgColor.rgb != sheet["A3"].fill.fgColor.rgb


def test_unusable_upload_is_answered_next_to_the_file_field(
    signed_in, client, tmp_path, create_donation
):
    donation = create_donation()
    signed_in("coordinator")
    path = tmp_path / "scan.pdf"
    path.write_bytes(b"%PDF-1.4 scanned list")
    response = upload(client, path, donation=donation)
    assert response.status_code == 400
    assert "This is a PDF document, not a spreadsheet." in text_of(response)
    assert list((tmp_path.parent).glob("*.part")) == []


def test_devices_need_a_donation(signed_in, client, tmp_path):
    signed_in("coordinator")
    response = upload(client, xlsx(tmp_path / "d.xlsx", [["Serial"], ["X001"]]))
    assert "Choose the donation the devices belong to." in text_of(response)


def test_schools_upload_and_template(signed_in, client, tmp_path):
    signed_in("coordinator")
    template = openpyxl.load_workbook(
        io.BytesIO(client.get("/imports/templates/schools.xlsx").data)
    )
    assert template.sheetnames == ["Schools", "Instructions"]
    sheet = template["Schools"]
    headers = [c.value for c in sheet[1]]
    assert headers[:4] == ["School code", "Name (French)", "Name (Arabic)", "Region"]
    sheet.append(["04567B", "École Annahda", "مدرسة النهضة", "Fès-Meknès"])
    filled = tmp_path / "filled.xlsx"
    template.save(filled)
    response = upload(client, filled, kind="schools")
    assert 'data-testid="new">1<' in client.get(response.headers["Location"]).get_data(as_text=True)


def test_device_template_has_a_condition_dropdown(signed_in, client):
    signed_in("admin")
    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get("/imports/templates/devices.xlsx").data)
    )
    sheet = workbook["Devices"]
    [validation] = sheet.data_validations.dataValidation
    assert validation.formula1 == '"new,good,fair,damaged"'
    assert sheet["B2"].number_format == "@"  # IMEIs typed as text


def test_download_respects_the_filters_on_screen(signed_in, client, create_device):
    from tracker.devices.services import move_device

    devices = [create_device() for _ in range(60)]
    move_device(devices[0], "reported_lost", None)
    db.session.commit()
    signed_in("manager")
    html = client.get("/devices/?status=in_stock").get_data(as_text=True)
    link = re.search(r'action="(/exports/devices\.xlsx[^"]*)"', html).group(1)
    sheet = openpyxl.load_workbook(
        io.BytesIO(download(client, link.replace("&amp;", "&")).data)
    ).active
    assert sheet.max_row == 1 + 59  # every matching row, not the 50 on the page


def test_file_without_a_header_fails_on_its_batch_page(
    signed_in, client, tmp_path, create_donation
):
    donation = create_donation()
    signed_in("coordinator")
    path = xlsx(tmp_path / "notes.xlsx", [["hello"], ["world"]])
    page = client.get(upload(client, path, donation=donation).headers["Location"])
    assert "No header row found in the first 20 rows" in text_of(page)
    assert "/commit" not in page.get_data(as_text=True)


def wait_until_done(client, url, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        page = client.get(url)
        if 'data-testid="running"' not in page.get_data(as_text=True):
            return page
        assert '<meta http-equiv="refresh" content="2">' in page.get_data(as_text=True)
        assert "data-job=" in page.get_data(as_text=True)  # and follows its job by itself
        time.sleep(0.1)
    raise AssertionError("the import did not finish")


def test_large_files_are_read_and_imported_in_the_background(
    app, signed_in, client, tmp_path, create_donation
):
    """A worker thread of the web process (the SQLite default) takes the jobs."""
    from tracker.jobs.queue import stop_embedded

    app.config["JOBS_MODE"] = "embedded"
    donation = create_donation()
    signed_in("coordinator")
    rows = [["Serial number"]] + [[f"BG{n:05d}"] for n in range(3000)]
    try:
        location = upload(client, xlsx(tmp_path / "big.xlsx", rows), donation=donation).headers[
            "Location"
        ]
        page = wait_until_done(client, location)
        assert 'data-testid="new">3000<' in page.get_data(as_text=True)
        commit_url = re.search(r'action="(/imports/\d+/commit)"', page.get_data(as_text=True))
        client.post(commit_url.group(1))
        done = wait_until_done(client, location)
    finally:
        stop_embedded(app)
    assert "Imported. Every row above is in the tracker." in text_of(done)
    assert db.session.query(Device).count() == 3000


def test_the_problems_workbook_speaks_the_readers_language_in_its_own_column(
    signed_in, client, tmp_path, create_donation
):
    """A French reader gets "Lignes à corriger", "Problèmes" and "ligne 4 :"; a row with
    no trailing cells still has its problems in the Problems column, not in a data one."""
    donation = create_donation()
    user = signed_in("coordinator")
    user.locale = "fr"
    db.session.commit()
    path = xlsx(
        tmp_path / "short.xlsx",
        [["Serial", "IMEI", "Model", "Notes"], ["OK0001", None, "T10", "x"], ["OK0001"]],
    )
    page = client.get(upload(client, path, donation=donation).headers["Location"])
    link = re.search(r'href="(/imports/\d+/problems\.xlsx)"', page.get_data(as_text=True))
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(link.group(1)).data))
    sheet = workbook.active
    assert sheet.title == "Lignes à corriger"
    assert [c.value for c in sheet[1]] == ["Serial", "IMEI", "Model", "Notes", "Problèmes"]
    assert sheet["E3"].value.startswith("ligne 3 :")
    assert sheet["B3"].value is None and sheet["D3"].value is None


def test_totals_lines_are_skipped_with_a_note_not_refused(
    signed_in, client, tmp_path, create_donation
):
    """A donor's list ends with "TOTAL" (or "المجموع", or a row of sums): skipped and said,
    while the rows above import; all or nothing no longer refuses the whole file for it."""
    donation = create_donation()
    signed_in("coordinator")
    path = xlsx(
        tmp_path / "with-totals.xlsx",
        [
            ["N° Série", "Modèle", "Carton"],
            ["TOT001", "T10", 1],
            ["TOT002", "T10", 1],
            ["Sous-total", None, 2],
            ["TOT003", "T10", 2],
            [None, None, 3],
            ["TOTAL", "", 3],
            ["المجموع", None, None],
        ],
    )
    page = client.get(upload(client, path, donation=donation).headers["Location"])
    html = page.get_data(as_text=True)
    assert 'data-testid="new">3<' in html and 'data-testid="rejected">0<' in html
    assert "Rows 4, 6, 7, 8 look like totals lines" in text_of(page)
    commit_url = re.search(r'action="(/imports/\d+/commit)"', html).group(1)
    client.post(commit_url)
    assert sorted(d.serial for d in db.session.query(Device)) == ["TOT001", "TOT002", "TOT003"]


def test_a_school_list_without_needs_says_so_and_can_set_them_from_pupils(
    signed_in, client, create_school, create_donation, create_device, tmp_path
):
    """A ministry list with enrolment and no need column imported every school with need 0
    and said nothing; a 300-tablet plan by need then gave "0 tablets to 0 schools". The
    preview warns, the commit may set each need from the pupils (one tablet for every N,
    rounded up), a plan by pupils shares by enrolment, and a plan that gives nothing says
    why."""
    from tracker.schools.models import School

    create_school(code="KEEP1", name_fr="Gardée", need=7, enrolment=50)
    signed_in("coordinator")
    path = xlsx(
        tmp_path / "ministere.xlsx",
        [
            ["Code établissement", "Nom de l'établissement", "Région", "Nombre d'élèves"],
            ["MIN001", "École Atlas", "Souss-Massa", 95],
            ["MIN002", "École Rif", "Souss-Massa", 20],
            ["KEEP1", "Gardée", "Souss-Massa", 60],
        ],
    )
    page = client.get(upload(client, path, kind="schools").headers["Location"])
    html = page.get_data(as_text=True)
    assert "The list has no need column" in text_of(page)
    assert 'name="needs" value="enrolment"' in html and 'name="pupils_per_tablet"' in html
    commit_url = re.search(r'action="(/imports/\d+/commit)"', html).group(1)
    refused = client.post(commit_url, data={"needs": "enrolment", "pupils_per_tablet": "0"})
    assert "from 1 to 1,000" in text_of(client.get(refused.headers["Location"]))
    assert db.session.query(School).count() == 1
    client.post(commit_url, data={"needs": "enrolment", "pupils_per_tablet": "10"})
    needs = {s.code: s.need for s in db.session.query(School)}
    assert needs == {"MIN001": 10, "MIN002": 2, "KEEP1": 6}

    # A plan by need over schools whose need is 0 says why it gives nothing.
    donation = create_donation(quantity=5)
    for _ in range(5):
        create_device(donation=donation)
    for school in db.session.query(School):
        school.need = 0
    db.session.commit()
    plan = {"name": "Round", "donation_id": donation.id, "total": "300", "minimum": "0"}
    plan["codes"] = "MIN001\nMIN002"
    by_need = client.post("/plans/new", data={**plan, "basis": "need"}, follow_redirects=True)
    assert "None of the chosen schools has a need recorded" in text_of(by_need)
    by_pupils = client.post(
        "/plans/new", data={**plan, "basis": "enrolment"}, follow_redirects=True
    )
    assert "Proposal ready" in text_of(by_pupils)
    assert "share of 95 pupils" in text_of(by_pupils)


def test_text_that_lost_its_letters_when_saved_is_warned_about(
    signed_in, client, create_donation, tmp_path
):
    """An Arabic name saved in a Windows-1252 CSV comes back as "???? ?????": the preview
    names the column and the rows, and says how to save the file instead."""
    signed_in("coordinator")
    path = tmp_path / "ecoles.csv"
    path.write_bytes(
        "Code;Nom;Région;Nom en arabe;Besoin\nLOST1;École Atlas;Souss;???? ?????;4\n"
        "LOST2;École Rif;Souss;????;2\nLOST3;École Sud;Souss;;1\n".encode("cp1252")
    )
    page = text_of(client.get(upload(client, path, kind="schools").headers["Location"]))
    assert "The text in column “Nom en arabe” was lost when this file was saved" in page
    assert "(rows 2, 3)" in page and "CSV UTF-8" in page
