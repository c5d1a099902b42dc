"""Delivery pages: what the agent and the office see and may do, the scan answer, the
hand-over form, the PDFs and the manifest workbook (exported, filled, imported back)."""

import io
import re
from datetime import date, timedelta

import openpyxl
import pypdfium2 as pdfium
import sqlalchemy as sa
import zxingcpp
from flask_babel import force_locale
from PIL import Image

from conftest import BASE_URL, download, handover_form, login, scan, signature_data_url, text_of
from tracker.deliveries import services
from tracker.deliveries.models import Delivery
from tracker.devices.models import Device
from tracker.extensions import db
from tracker.i18n import kept
from tracker.spreadsheets.services import import_file
from tracker.timezone import local, local_today


def planned(s, planned_on=None):
    made = services.create_deliveries(
        s["plan"].id,
        actor=s["coordinator"],
        assigned_to_id=s["agent"].id,
        planned_on=planned_on or local_today(),
    )
    db.session.commit()
    return {d.school_id: d.id for d in made}


def dispatched(s):
    ids = planned(s)
    a = ids[s["school_a"].id]
    for device in s["a_devices"]:
        services.pack_scan(a, device.asset_tag, s["coordinator"])
    services.finish_packing(a, s["coordinator"])
    services.dispatch(a, s["coordinator"])
    db.session.commit()
    return a


def test_the_agent_sees_their_day_and_not_another_agents_delivery(
    client, delivery_setting, create_user
):
    s = delivery_setting
    ids = planned(s)
    login(client, s["agent"])
    page = text_of(client.get("/deliveries/"))
    assert "My deliveries" in page and "Today (2)" in page
    assert "École Al Amal" in page and "École Ibn Sina" in page
    a = ids[s["school_a"].id]
    assert "مدرسة الأمل" in text_of(client.get(f"/deliveries/{a}"))
    client.post("/logout")
    login(client, s["other_agent"])
    assert "Nothing planned for today" in text_of(client.get("/deliveries/"))
    for method, path in (
        ("GET", f"/deliveries/{a}"),
        ("POST", f"/deliveries/{a}/scan"),
        ("POST", f"/deliveries/{a}/handover"),
        ("GET", f"/deliveries/{a}/note.pdf"),
        ("POST", f"/deliveries/{a}/manifest.xlsx"),
    ):
        assert client.open(path, method=method).status_code == 404, path


def test_managers_read_but_cannot_scan(client, delivery_setting):
    s = delivery_setting
    a = dispatched(s)
    login(client, s["manager"])
    page = client.get(f"/deliveries/{a}")
    assert page.status_code == 200 and 'id="scan-form"' not in page.get_data(as_text=True)
    assert scan(client, a, s["a_devices"][0].asset_tag).status_code == 403


def test_scan_answers_at_once_with_the_counts_and_the_reason(client, delivery_setting):
    s = delivery_setting
    a = dispatched(s)
    login(client, s["agent"])
    page = client.get(f"/deliveries/{a}").get_data(as_text=True)
    # The camera's decoder is named, not loaded: the page fetches it when the camera opens.
    assert 'id="scan-form"' in page and page.count("jsQR") == 1
    assert re.search(
        r'name="qr-decoder" content="/static/vendor/jsqr/jsQR\.min\.[0-9a-f]{12}\.js"', page
    )
    tick = scan(client, a, f"{BASE_URL}/d/{s['a_devices'][0].qr_token}").get_json()
    assert tick["ok"] and tick["counts"] == {
        "expected": 3,
        "packed": 3,
        "scanned": 1,
        "missing": 2,
        "unexpected": 0,
    }
    wrong = scan(client, a, s["b_devices"][0].asset_tag).get_json()
    assert not wrong["ok"]
    assert wrong["message"].endswith("is reserved for another school: École Ibn Sina.")
    assert wrong["counts"]["unexpected"] == 1
    # Without JavaScript the same form posts and the answer comes back as a message.
    fallback = client.post(f"/deliveries/{a}/scan", data={"code": "TAB-77777"})
    assert fallback.status_code == 302
    assert "No tablet has the code TAB-77777." in text_of(client.get(fallback.headers["Location"]))


def test_a_refused_hand_over_keeps_every_value_it_was_sent(client, delivery_setting):
    """Sent back for one missing field, the form still holds the name, the signature and
    every "why not handed over" already chosen: nothing is to be done twice."""
    s = delivery_setting
    a = dispatched(s)
    login(client, s["agent"])
    scan(client, a, s["a_devices"][0].serial)
    second, third = s["a_devices"][1], s["a_devices"][2]
    form = {**handover_form(), "recipient_role": "", f"reason-{second.id}": "damaged"}
    refused = client.post(f"/deliveries/{a}/handover", data=form)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'value="Mme Naima Alaoui"' in html
    assert form["signature"][:60] in html  # the drawing is sent back, to be drawn again
    chosen = re.search(rf'<select name="reason-{second.id}".*?</select>', html, re.S).group(0)
    assert '<option value="damaged" selected>' in chosen
    untouched = re.search(rf'<select name="reason-{third.id}".*?</select>', html, re.S).group(0)
    assert "selected" not in untouched


def test_handover_form_records_signature_photo_and_place(client, delivery_setting):
    s = delivery_setting
    a = dispatched(s)
    login(client, s["agent"])
    for device in s["a_devices"][:2]:
        scan(client, a, device.serial)
    missing = s["a_devices"][2]
    form = handover_form()
    refused = client.post(f"/deliveries/{a}/handover", data=form)
    assert refused.status_code == 422
    assert f"Say why {missing.asset_tag} was not handed over" in text_of(refused)
    photo = io.BytesIO()
    Image.new("RGB", (2400, 1800), "orange").save(photo, "JPEG")
    photo.seek(0)
    done = client.post(
        f"/deliveries/{a}/handover",
        data={**form, f"reason-{missing.id}": "missing", "photo": (photo, "IMG_0001.jpg")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 302
    page = text_of(client.get(f"/deliveries/{a}"))
    assert "Partly delivered" in page and "Received by Mme Naima Alaoui (Directrice)" in page
    assert "35.75950, -5.83400" in page
    stored = Image.open(io.BytesIO(client.get(f"/deliveries/{a}/photo").data))
    assert stored.format == "JPEG" and max(stored.size) == 1600
    assert client.get(f"/deliveries/{a}/signature").mimetype == "image/png"
    statuses = [db.session.get(Device, d.id).status for d in s["a_devices"]]
    assert statuses == ["delivered", "delivered", "lost"]
    # The page shows both pictures from their own addresses, and never reads them itself:
    # they are up to megabytes each, and the page is opened far more often than they are.
    sent = []

    def record(_connection, _cursor, statement, *_args):
        sent.append(statement)

    db.session.expire_all()
    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        page = client.get(f"/deliveries/{a}").get_data(as_text=True)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert f'src="/deliveries/{a}/signature"' in page and f'src="/deliveries/{a}/photo"' in page
    read = [statement for statement in sent if "SELECT" in statement.upper()]
    picture = re.compile(r"deliveries\.(signature_png|photo_jpeg)(?! IS NOT NULL)")
    assert not [statement for statement in read if picture.search(statement)], read
    assert len(read) <= 3, read  # the user, the delivery with its school and people, its tablets


def _pdf_text_and_codes(data: bytes):
    document = pdfium.PdfDocument(data)
    text = "".join(page.get_textpage().get_text_range() for page in document)
    image = document[0].render(scale=3).to_pil()
    return text, [code.text for code in zxingcpp.read_barcodes(image)]


def test_delivery_note_lists_the_tablets_and_carries_the_delivery_qr(client, delivery_setting):
    s = delivery_setting
    a = planned(s)[s["school_a"].id]
    login(client, s["coordinator"])
    response = client.get(f"/deliveries/{a}/note.pdf")
    assert response.mimetype == "application/pdf"
    text, codes = _pdf_text_and_codes(response.data)
    assert "Bon de livraison" in text and "École Al Amal" in text
    for device in s["a_devices"]:
        assert device.asset_tag in text and device.serial in text
    assert f"{BASE_URL}/deliveries/{a}" in codes


def test_receipt_after_the_handover(client, delivery_setting):
    s = delivery_setting
    a = dispatched(s)
    login(client, s["agent"])
    assert client.get(f"/deliveries/{a}/receipt.pdf").status_code == 404  # not yet
    for device in s["a_devices"]:
        scan(client, a, device.asset_tag)
    client.post(
        f"/deliveries/{a}/handover",
        data={
            "recipient_name": "M. Youssef",
            "recipient_role": "Directeur",
            "signature": signature_data_url(),
        },
    )
    text, _codes = _pdf_text_and_codes(client.get(f"/deliveries/{a}/receipt.pdf").data)
    assert "Preuve de livraison" in text and "M. Youssef" in text
    assert "3 tablettes livrées sur 3" in text


def test_planning_deliveries_from_the_plan_page(client, delivery_setting):
    s = delivery_setting
    login(client, s["coordinator"])
    plan_page = text_of(client.get(f"/plans/{s['plan'].id}"))
    assert "Plan deliveries" in plan_page
    form = text_of(client.get(f"/deliveries/new?plan={s['plan'].id}"))
    assert "3 tablets waiting" in form and "2 tablets waiting" in form
    response = client.post(
        f"/deliveries/new?plan={s['plan'].id}",
        data={
            "assigned_to_id": str(s["agent"].id),
            "planned_on": "2026-12-01",
            "school": [str(s["school_b"].id)],
        },
    )
    assert response.status_code == 302
    made = db.session.scalars(sa.select(Delivery)).all()
    assert [(d.school_id, d.planned_on, len(d.items)) for d in made] == [
        (s["school_b"].id, date(2026, 12, 1), 2)
    ]


def test_planning_deliveries_starts_from_a_plan(client, delivery_setting):
    login(client, delivery_setting["coordinator"])
    response = client.get("/deliveries/new")
    assert response.headers["Location"] == "/plans/"
    assert "Deliveries are planned from an approved plan" in text_of(client.get("/plans/"))


def test_packing_and_dispatch_through_the_pages(client, delivery_setting):
    s = delivery_setting
    a = planned(s)[s["school_a"].id]
    login(client, s["coordinator"])
    packed = scan(client, a, s["a_devices"][0].asset_tag).get_json()
    assert packed["kind"] == "packed" and packed["counts"]["packed"] == 1
    packing = client.post(f"/deliveries/{a}/finish-packing")
    reference = db.session.get(Delivery, a).reference
    # Each action says what it did, not "done".
    said = text_of(client.get(packing.headers["Location"]))
    assert f"{reference} is packed: 1 tablet in the box." in said
    dispatching = client.post(f"/deliveries/{a}/dispatch")
    said = text_of(client.get(dispatching.headers["Location"]))
    assert f"{reference} is on the road" in said and "0 still to scan" not in said
    delivery = db.session.get(Delivery, a)
    assert delivery.status == "dispatched"
    assert [i.status for i in delivery.items] == ["packed", "removed", "removed"]


def test_manifest_round_trip_records_the_same_events_as_scanning(
    client, delivery_setting, tmp_path
):
    s = delivery_setting
    a = dispatched(s)
    login(client, s["agent"])
    response = download(client, f"/deliveries/{a}/manifest.xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = workbook["Manifest"]
    header = [c.value for c in sheet[1]]
    assert header[:8] == [
        "Delivery",
        "School code",
        "School",
        "Asset tag",
        "Serial number",
        "IMEI",
        "Model",
        "Received (yes/no)",
    ]
    assert sheet.data_validations.dataValidation  # the dropdowns are there
    rows = list(sheet.iter_rows(min_row=2))
    assert [r[3].value for r in rows] == [d.asset_tag for d in s["a_devices"]]
    # The team fills it in: two received, one damaged; the recipient on the first row.
    rows[0][7].value, rows[1][7].value = "oui", "yes"
    rows[2][7].value, rows[2][8].value = "no", "endommagé"
    rows[0][10].value, rows[0][11].value = "Mme Khadija", "Directrice"
    dispatched_on = local_today()
    # A day before the box left, or one that is no day, is refused on its row and column.
    for typed, problem in (
        (dispatched_on - timedelta(days=1), "before it left on"),
        ("31/02/2026", "not a date: write the day as"),
        (dispatched_on + timedelta(days=1), "after today"),
    ):
        rows[0][12].value = typed
        workbook.save(tmp_path / "wrong.xlsx")
        with client.application.test_request_context(method="POST"), force_locale("en"):
            refused = import_file(
                "manifest",
                tmp_path / "wrong.xlsx",
                "wrong.xlsx",
                commit=True,
                actor=s["coordinator"],
            )
        # (what the reason says, whatever the language the import was read in)
        assert not refused.ok and problem in kept(refused.problems[0].reason)["m"]
        assert refused.problems[0].row == 2 and refused.problems[0].column == "Date received"
        assert db.session.get(Delivery, a).status == "dispatched"
    # The day typed as text, as a French reader writes it.
    rows[0][12].value = dispatched_on.strftime("%d/%m/%Y")
    filled = tmp_path / "filled.xlsx"
    workbook.save(filled)
    with client.application.test_request_context(method="POST"), force_locale("fr"):
        report = import_file("manifest", filled, "filled.xlsx", commit=True, actor=s["coordinator"])
    assert report.ok, [str(p) for p in report.problems]
    delivery = db.session.get(Delivery, a)
    assert delivery.status == "partially_delivered" and delivery.handover_via == "manifest"
    assert delivery.recipient_name == "Mme Khadija"
    assert local(delivery.delivered_at).date() == dispatched_on
    assert [db.session.get(Device, d.id).status for d in s["a_devices"]] == [
        "delivered",
        "delivered",
        "faulty",
    ]
    # The same file again says what is recorded: unchanged, nothing refused or changed.
    again = import_file("manifest", filled, "filled.xlsx", commit=True, actor=s["coordinator"])
    assert again.ok and again.unchanged == 3 and again.updated == 0
    # A file that says otherwise is a conflict, named on its row.
    rows[2][7].value, rows[2][8].value = "oui", None
    workbook.save(filled)
    other = import_file("manifest", filled, "filled.xlsx", commit=True, actor=s["coordinator"])
    assert not other.ok
    assert f"{delivery.reference} was already handed over (imported)" in str(other.problems[0])


def test_manifest_import_reports_a_device_not_in_the_delivery(client, delivery_setting, tmp_path):
    s = delivery_setting
    a = dispatched(s)
    reference = db.session.get(Delivery, a).reference
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Delivery", "Asset tag", "Received (yes/no)", "Received by (name)", "Role"])
    sheet.append([reference, s["a_devices"][0].asset_tag, "yes", "M. Ali", "Directeur"])
    sheet.append([reference, s["b_devices"][0].asset_tag, "yes", "", ""])
    sheet.append([reference, s["a_devices"][1].asset_tag, "maybe", "", ""])
    path = tmp_path / "manifest.xlsx"
    workbook.save(path)
    report = import_file("manifest", path, "manifest.xlsx", commit=True, actor=None)
    problems = [str(p) for p in report.problems]
    assert any("row 3" in p and "reserved for another school" in p for p in problems), problems
    assert any("row 4" in p and "write yes or no" in p for p in problems), problems
    assert db.session.get(Delivery, a).status == "dispatched"  # nothing written


def test_the_manifest_preview_and_the_screen_refuse_a_hand_over_in_the_same_words(
    client, delivery_setting, tmp_path
):
    """One hand-over check (handover.handover_problems): the preview of a filled manifest
    lists every problem the screen would refuse, each on its own row, in the same words."""
    s = delivery_setting
    a = dispatched(s)
    reference = db.session.get(Delivery, a).reference
    first, second, third = s["a_devices"]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Delivery", "Asset tag", "Received (yes/no)", "Received by (name)", "Role"])
    sheet.append([reference, first.asset_tag, "yes", "M. Ali", ""])
    sheet.append([reference, second.asset_tag, "yes", "", ""])
    sheet.append([reference, third.asset_tag, "", "", ""])
    path = tmp_path / "manifest.xlsx"
    workbook.save(path)
    report = import_file("manifest", path, "manifest.xlsx", commit=False, actor=None)
    problems = [str(p) for p in report.problems]
    role = "Write the role of the person (head teacher, …)."
    why = f"Say why {third.asset_tag} was not handed over"
    assert any("row 2" in p and f"{reference}: {role}" in p for p in problems), problems
    assert any("row 4" in p and f"{reference}: {why}" in p for p in problems), problems
    # The screen refuses the same hand-over with the same sentence.
    from tracker.deliveries import handover
    from tracker.errors import ValidationFailed

    for device in (first, second):
        handover.field_scan(a, device.asset_tag, s["agent"])
    try:
        handover.confirm_handover(
            a,
            actor=s["agent"],
            recipient_name="M. Ali",
            recipient_role="Directeur",
            signature=signature_data_url(),
        )
    except ValidationFailed as refusal:
        assert why in str(refusal)
    else:
        raise AssertionError("the screen accepted a tablet with no answer")
    db.session.rollback()


def test_a_filled_manifest_uploaded_on_the_import_page(client, delivery_setting, tmp_path):
    s = delivery_setting
    a = dispatched(s)
    login(client, s["coordinator"])
    # The other school's delivery is still to pack: its labels print from its page.
    b = db.session.scalar(sa.select(Delivery.id).where(Delivery.school_id == s["school_b"].id))
    page = client.get(f"/deliveries/{b}").get_data(as_text=True)
    labels = re.search(r'href="(/labels/\?[^"]+)"', page).group(1).replace("&amp;", "&")
    assert labels.count("device=") == 2
    assert client.get(labels).status_code == 200
    workbook = openpyxl.load_workbook(
        io.BytesIO(download(client, f"/deliveries/{a}/manifest.xlsx").data)
    )
    sheet = workbook["Manifest"]
    for row in sheet.iter_rows(min_row=2, max_row=4):
        row[7].value = "yes"
    sheet["K2"], sheet["L2"] = "M. Hamid", "Directeur"
    path = tmp_path / "back.xlsx"
    workbook.save(path)
    response = client.post(
        "/imports/",
        data={"kind": "manifest", "file": (io.BytesIO(path.read_bytes()), "back.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    commit_url = re.search(r'action="(/imports/\d+/commit)"', preview).group(1)
    client.post(commit_url)
    delivery = db.session.get(Delivery, a)
    assert delivery.status == "delivered" and delivery.recipient_name == "M. Hamid"
    assert delivery.delivered_by_id == s["coordinator"].id


def test_the_delivery_page_does_not_query_per_tablet(client, delivery_setting):
    from test_plans_views import count_queries

    s = delivery_setting
    ids = planned(s)
    login(client, s["coordinator"])
    three = count_queries(client, f"/deliveries/{ids[s['school_a'].id]}")
    two = count_queries(client, f"/deliveries/{ids[s['school_b'].id]}")
    assert three == two <= 8


def test_the_history_speaks_the_readers_language_not_the_agents(client, delivery_setting):
    """An agent reading Arabic records a tablet as damaged; a manager reading English sees
    "damaged at the hand-over" in the history and the alerts, never "تالفة"."""
    s = delivery_setting
    a = dispatched(s)
    s["agent"].locale = "ar"
    db.session.commit()
    login(client, s["agent"])
    for device in s["a_devices"][:2]:
        scan(client, a, device.serial)
    damaged = s["a_devices"][2]
    client.post(
        f"/deliveries/{a}/handover", data={**handover_form(), f"reason-{damaged.id}": "damaged"}
    )
    assert db.session.get(Device, damaged.id).status == "faulty"
    client.post("/logout")
    login(client, s["manager"])
    for page in ("/history", "/alerts", f"/devices/{damaged.id}"):
        text = text_of(client.get(page))
        assert "تالفة" not in text and "Endommagée" not in text, page
    assert "damaged at the hand-over" in text_of(client.get(f"/devices/{damaged.id}"))
    assert "damaged at the hand-over" in text_of(client.get("/history"))


def test_a_tablet_scanned_into_the_box_by_mistake_comes_out_before_dispatch(
    client, delivery_setting
):
    s = delivery_setting
    a = planned(s)[s["school_a"].id]
    login(client, s["coordinator"])
    first, second, _third = s["a_devices"]
    for device in (first, second):
        scan(client, a, device.asset_tag)
    page = client.get(f"/deliveries/{a}").get_data(as_text=True)
    assert f"/deliveries/{a}/items/{second.id}/unpack" in page
    out = client.post(f"/deliveries/{a}/items/{second.id}/unpack")
    assert f"{second.asset_tag} is out of the box" in text_of(client.get(out.headers["Location"]))
    delivery = db.session.get(Delivery, a)
    assert {i.device_id: i.status for i in delivery.items}[second.id] == "expected"
    assert db.session.get(Device, second.id).status == "reserved"  # still the school's
    from tracker.devices.models import DeviceEvent

    events = db.session.scalars(
        sa.select(DeviceEvent.type)
        .where(DeviceEvent.device_id == second.id)
        .order_by(DeviceEvent.id)
    ).all()
    assert events[-2:] == ["packed", "unpacked"]
    # Not in the box any more: taking it out again says so; once on the road, nothing moves.
    again = client.post(f"/deliveries/{a}/items/{second.id}/unpack")
    assert "is not in the box" in text_of(client.get(again.headers["Location"]))
    client.post(f"/deliveries/{a}/finish-packing")
    client.post(f"/deliveries/{a}/dispatch")
    late = client.post(f"/deliveries/{a}/items/{first.id}/unpack")
    assert late.status_code in (302, 403)
    assert db.session.get(Device, first.id).status == "in_transit"


def test_one_search_box_finds_a_tablet_a_school_a_delivery_or_a_plan(client, delivery_setting):
    """Straight to the one thing found; each finds only what they may see."""
    s = delivery_setting
    a = dispatched(s)
    reference = db.session.get(Delivery, a).reference
    device = s["a_devices"][0]
    login(client, s["agent"])
    for query, where in (
        (device.asset_tag.lower(), f"/devices/{device.id}"),
        (device.imei, f"/devices/{device.id}"),
        (reference, f"/deliveries/{a}"),
        (s["school_a"].code, f"/schools/{s['school_a'].id}"),
        ("مدرسة الأمل", f"/schools/{s['school_a'].id}"),
    ):
        answer = client.get("/search", query_string={"q": query})
        assert answer.status_code == 302 and answer.headers["Location"] == where, query
    # A plan is the office's: the agent finds none; nor another agent's delivery.
    assert "Nothing matches" in text_of(client.get("/search", query_string={"q": s["plan"].name}))
    client.post("/logout")
    login(client, s["other_agent"])
    assert "Nothing matches" in text_of(client.get("/search", query_string={"q": reference}))
    client.post("/logout")
    login(client, s["coordinator"])
    answer = client.get("/search", query_string={"q": s["plan"].name[:6]})
    assert answer.headers["Location"] == f"/plans/{s['plan'].id}"
    page = client.get("/").get_data(as_text=True)
    assert 'role="search"' in page and 'name="q"' in page  # in every page's header


def test_the_office_finds_deliveries_by_agent_school_region_day_and_reference(
    client, delivery_setting
):
    s = delivery_setting
    ids = planned(s, planned_on=date(2026, 12, 3))
    a, b = ids[s["school_a"].id], ids[s["school_b"].id]
    db.session.get(Delivery, b).assigned_to_id = s["other_agent"].id
    db.session.get(Delivery, b).planned_on = date(2026, 12, 9)
    db.session.commit()
    ref_a = db.session.get(Delivery, a).reference
    ref_b = db.session.get(Delivery, b).reference
    login(client, s["coordinator"])

    def listed(**args):
        page = text_of(client.get("/deliveries/", query_string=args))
        return {ref for ref in (ref_a, ref_b) if ref in page}

    assert listed() == {ref_a, ref_b}
    assert listed(agent=s["other_agent"].id) == {ref_b}
    assert listed(school=s["school_a"].code) == {ref_a}
    assert listed(school="مدرسة الأمل") == {ref_a}
    assert listed(region=s["school_a"].region) >= {ref_a}
    assert listed(**{"from": "2026-12-05"}) == {ref_b}
    assert listed(to="2026-12-05") == {ref_a}
    assert listed(ref=ref_b.lower()) == {ref_b}
    assert listed(ref=str(a)) == {ref_a}
    assert client.get("/deliveries/", query_string={"from": "not-a-day"}).status_code == 200
    # The day typed as the reader writes it (here in French), and shown back so.
    client.post("/language", data={"language": "fr"})
    assert listed(**{"from": "05/12/2026"}) == {ref_b}
    page = client.get("/deliveries/", query_string={"from": "05/12/2026"}).get_data(as_text=True)
    assert 'name="from" value="05/12/2026"' in page and 'type="date"' not in page


def test_a_coordinator_corrects_a_confirmed_hand_over_with_new_events(client, delivery_setting):
    """A tablet ticked delivered was not in the box; one said missing turned up: the office
    corrects each with a reason, the history keeps both records, the delivery follows."""
    from tracker.devices.models import DeviceEvent

    s = delivery_setting
    a = dispatched(s)
    login(client, s["agent"])
    first, second, third = s["a_devices"]
    for device in (first, second):
        scan(client, a, device.serial)
    client.post(
        f"/deliveries/{a}/handover", data={**handover_form(), f"reason-{third.id}": "missing"}
    )
    assert db.session.get(Delivery, a).status == "partially_delivered"
    client.post("/logout")
    login(client, s["coordinator"])
    page = client.get(f"/deliveries/{a}").get_data(as_text=True)
    assert f"/deliveries/{a}/items/{third.id}/correct" in page
    unexplained = client.post(
        f"/deliveries/{a}/items/{third.id}/correct", data={"outcome": "delivered"}
    )
    assert "Say why" in text_of(client.get(unexplained.headers["Location"]))
    client.post(
        f"/deliveries/{a}/items/{third.id}/correct",
        data={"outcome": "delivered", "reason": "found under the head teacher's desk"},
    )
    client.post(
        f"/deliveries/{a}/items/{second.id}/correct",
        data={"outcome": "refused", "reason": "school sent it back the same day"},
    )
    delivery = db.session.get(Delivery, a)
    assert {i.device_id: i.status for i in delivery.items} == {
        first.id: "delivered",
        second.id: "refused",
        third.id: "delivered",
    }
    assert delivery.status == "partially_delivered"
    assert db.session.get(Device, third.id).status == "delivered"
    assert db.session.get(Device, second.id).status == "reserved"  # its school's again
    history = db.session.scalars(
        sa.select(DeviceEvent.type)
        .where(DeviceEvent.device_id == third.id)
        .order_by(DeviceEvent.id)
    ).all()
    assert history[-2:] == ["reported_lost", "corrected_delivered"]  # both kept
    assert "found under the head teacher" in text_of(client.get(f"/devices/{third.id}"))
    # The agent cannot correct.
    client.post("/logout")
    login(client, s["agent"])
    refused = client.post(
        f"/deliveries/{a}/items/{first.id}/correct", data={"outcome": "missing", "reason": "x"}
    )
    assert refused.status_code == 403


def test_every_row_of_the_allocation_workbook_adds_up(client, delivery_setting):
    """A school whose third tablet arrived damaged: allocated 3 = 2 handed over + 1 faulty,
    with 1 still to hand over, where the row said 3 = 0 + 0 + 2."""
    s = delivery_setting
    a = dispatched(s)
    login(client, s["agent"])
    first, second, third = s["a_devices"]
    for device in (first, second):
        scan(client, a, device.serial)
    client.post(
        f"/deliveries/{a}/handover", data={**handover_form(), f"reason-{third.id}": "damaged"}
    )
    client.post("/logout")
    login(client, s["coordinator"])
    workbook = openpyxl.load_workbook(
        io.BytesIO(download(client, f"/plans/{s['plan'].id}/allocations.xlsx").data)
    )
    sheet = workbook["By school"]
    header = [c.value for c in sheet[1]]
    row = next(
        dict(zip(header, (c.value for c in r), strict=False))
        for r in sheet.iter_rows(min_row=2)
        if r[3].value == s["school_a"].code
    )
    parts = (
        "Tablets reserved",
        "Tablets on the road",
        "Tablets handed over",
        "Tablets faulty",
        "Tablets lost",
    )
    assert row["Allocated"] == sum(row[name] for name in parts) == 3
    assert (row["Tablets handed over"], row["Tablets faulty"], row["Outstanding"]) == (2, 1, 1)
