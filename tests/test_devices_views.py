"""Device pages: the list with search, filters, sorting and keyset pages; detail; forms."""

import re

from conftest import download, text_of
from tracker.devices.models import Device
from tracker.devices.services import move_device
from tracker.extensions import db


def tags_on(response) -> list[str]:
    return re.findall(r"<strong>(TAB-\d{5})</strong>", response.get_data(as_text=True))


def test_pages_walk_the_whole_list_forward_and_back(app, signed_in, client, create_device):
    app.config["PAGE_SIZE"] = 4
    for _ in range(10):
        create_device()
    signed_in("manager")
    seen, pages, url = [], [], "/devices/"
    while url:
        response = client.get(url)
        pages.append(tags_on(response))
        seen += pages[-1]
        match = re.search(r'href="([^"]+)"[^>]*rel="next"', response.get_data(as_text=True))
        url = match.group(1).replace("&amp;", "&") if match else None
    assert seen == [f"TAB-{n:05d}" for n in range(1, 11)]
    assert [len(page) for page in pages] == [4, 4, 2]
    assert "10 devices match." in text_of(response)
    previous = re.search(r'href="([^"]+)"[^>]*rel="prev"', response.get_data(as_text=True))
    assert tags_on(client.get(previous.group(1).replace("&amp;", "&"))) == pages[1]


def test_sorting_newest_first(signed_in, client, create_device):
    for _ in range(3):
        create_device()
    signed_in("coordinator")
    assert tags_on(client.get("/devices/?sort=newest")) == ["TAB-00003", "TAB-00002", "TAB-00001"]


def test_filters_by_state_and_donation(signed_in, client, create_device, create_donation):
    other = create_donation(reference="OTHER-1")
    first = create_device()
    create_device()
    create_device(donation=other)
    move_device(first, "reported_faulty", None)
    db.session.commit()
    signed_in("coordinator")
    assert tags_on(client.get("/devices/?status=faulty")) == ["TAB-00001"]
    assert tags_on(client.get(f"/devices/?donation={other.id}")) == ["TAB-00003"]


def test_code_box_goes_straight_to_the_device(signed_in, client, create_device):
    device = create_device(serial="AGR9X20C14000013")
    signed_in("field")
    for code in ("tab1", "agr9x20c14000013", device.imei, f"http://x/d/{device.qr_token}"):
        response = client.get("/devices/", query_string={"q": code})
        assert response.headers["Location"] == f"/devices/{device.id}", code


def test_serial_prefix_lists_the_matches(signed_in, client, create_device):
    create_device(serial="ABC001")
    create_device(serial="ABC002")
    create_device(serial="XYZ003")
    signed_in("coordinator")
    assert tags_on(client.get("/devices/?q=abc")) == ["TAB-00001", "TAB-00002"]
    assert "No device matches." in text_of(client.get("/devices/?q=nothing"))
    # Wildcards typed into the box are characters like any other, on either database.
    for typed in ("AB*", "A?C", "A[B]C", "A_C", "AB%"):
        assert "No device matches." in text_of(client.get("/devices/", query_string={"q": typed}))


def test_detail_shows_identity_and_history_newest_first(signed_in, client, create_device):
    user = signed_in("coordinator")
    device = create_device(actor=user)
    move_device(device, "reported_faulty", user, note="Screen cracked")
    db.session.commit()
    page = text_of(client.get(f"/devices/{device.id}"))
    assert device.serial in page and device.imei in page
    assert page.index("Reported faulty") < page.index("Registered")
    assert "Screen cracked" in page and user.email in page


def test_register_form_shows_the_error_next_to_the_field(signed_in, client, create_device):
    existing = create_device(serial="TAKEN1")
    signed_in("coordinator")
    response = client.post(
        "/devices/new",
        data={"donation_id": existing.donation_id, "serial": "taken1", "condition": "new"},
    )
    html = response.get_data(as_text=True)
    assert 'id="serial-error"' in html
    assert "Serial number &#39;TAKEN1&#39; is already registered on TAB-00001." in html
    assert db.session.query(Device).count() == 1


def test_register_form_creates_a_tagged_device(signed_in, client, create_donation):
    donation = create_donation()
    signed_in("coordinator")
    response = client.post(
        "/devices/new",
        data={
            "donation_id": donation.id,
            "serial": "new123",
            "imei": "49-015420-323751-8",
            "model": "T10",
            "condition": "good",
        },
    )
    device = db.session.query(Device).one()
    assert response.headers["Location"] == f"/devices/{device.id}"
    assert (device.asset_tag, device.serial, device.imei) == (
        "TAB-00001",
        "new123",
        "490154203237518",
    )


def test_the_donors_extra_fields_are_entered_shown_and_found(
    signed_in, client, create_device, create_donation
):
    """A second IMEI, brand, the donor's inventory number and the two dates: typed in the
    form, shown on the tablet's page, and the second IMEI finds the tablet in the code box;
    a second IMEI that is another tablet's first is refused beside its field."""
    other = create_device(imei="490154203237518")
    signed_in("coordinator")
    form = {
        "donation_id": other.donation_id,
        "serial": "TWO-SIM-1",
        "imei2": "490154203237518",
        "brand": "Lenovo",
        "donor_ref": "ICE-77",
        "donor_delivered_on": "2020-12-28",
        "warranty_until": "2027-12-31",
        "condition": "new",
    }
    refused = client.post("/devices/new", data=form).get_data(as_text=True)
    assert 'id="imei2-error"' in refused
    assert f"is already registered on {other.asset_tag}" in refused
    form["imei2"] = "35-209900-176148-1"
    response = client.post("/devices/new", data=form)
    device = db.session.query(Device).filter_by(serial="TWO-SIM-1").one()
    assert (device.imei2, device.brand, device.donor_ref) == ("352099001761481", "Lenovo", "ICE-77")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    for shown in ("352099001761481", "Lenovo", "ICE-77", "Dec 31, 2027", "Warranty until"):
        assert shown in html
    found = client.get("/devices/?q=352099001761481")
    assert found.headers["Location"].endswith(f"/devices/{device.id}")


def test_second_editor_is_told_to_reload(signed_in, client, create_device):
    device = create_device()
    signed_in("coordinator")
    form = {
        "donation_id": device.donation_id,
        "serial": device.serial,
        "condition": "new",
        "version": str(device.version),
    }
    assert client.post(f"/devices/{device.id}/edit", data={**form, "model": "A"}).status_code == 302
    response = client.post(f"/devices/{device.id}/edit", data={**form, "model": "B"})
    assert "changed by someone else" in text_of(response)
    assert db.session.get(Device, device.id).model == "A"


def test_state_change_from_the_device_page(signed_in, client, create_device):
    device = create_device()
    signed_in("coordinator")
    response = client.post(
        f"/devices/{device.id}/move",
        data={"event": "reported_lost", "note": "Not in carton 6", "version": device.version},
    )
    assert response.status_code == 302
    assert db.session.get(Device, device.id).status == "lost"
    current = db.session.get(Device, device.id).version
    refused = client.post(
        f"/devices/{device.id}/move", data={"event": "repaired", "version": current}
    )
    assert refused.status_code == 409
    assert "TAB-00001 cannot be marked repaired: it is lost." in text_of(refused)
    stale = client.post(
        f"/devices/{device.id}/move", data={"event": "found", "version": current - 1}
    )
    assert "changed since you opened the page" in text_of(stale)
    assert db.session.get(Device, device.id).status == "lost"


def test_manager_sees_no_edit_or_state_controls(signed_in, client, create_device):
    device = create_device()
    signed_in("manager")
    html = client.get(f"/devices/{device.id}").get_data(as_text=True)
    assert f"/devices/{device.id}/edit" not in html and f"/devices/{device.id}/move" not in html


def test_scan_landing_opens_the_device_and_unknown_codes_say_so(signed_in, client, create_device):
    device = create_device()
    signed_in("field")
    response = client.get(f"/d/{device.qr_token}")
    assert response.status_code == 200 and device.asset_tag in text_of(response)
    unknown = client.get("/d/not-a-real-token")
    assert unknown.status_code == 404
    assert "This code is not registered in the tracker." in text_of(unknown)


def test_names_are_escaped(signed_in, client, create_device):
    device = create_device(model='"><img src=x onerror=alert(1)>', notes="<script>x</script>")
    signed_in("coordinator")
    html = client.get(f"/devices/{device.id}").get_data(as_text=True)
    assert "<img src=x" not in html and "<script>x" not in html
    assert "&lt;script&gt;" in html


def test_filter_by_school_code(signed_in, client, create_device, create_school):
    school = create_school(code="07123C")
    device = create_device()
    create_device()
    move_device(device, "reserved", None, school=school)
    db.session.commit()
    signed_in("coordinator")
    assert tags_on(client.get("/devices/?school_code=07123c")) == [device.asset_tag]
    assert tags_on(client.get(f"/devices/?school={school.id}")) == [device.asset_tag]
    unknown = text_of(client.get("/devices/?school_code=NOPE"))
    assert "No school has the code NOPE." in unknown and "0 devices match." in unknown


def test_state_form_makes_the_user_choose(signed_in, client, create_device):
    device = create_device()
    signed_in("coordinator")
    html = client.get(f"/devices/{device.id}").get_data(as_text=True)
    assert 'id="event" name="event" required><option value="">Choose an action…</option>' in html
    response = client.post(f"/devices/{device.id}/move", data={"event": "", "version": 1})
    assert response.status_code == 400
    assert db.session.get(Device, device.id).status == "in_stock"


def test_ticked_tablets_move_together_by_the_rules_of_one_or_not_at_all(
    signed_in, client, create_device
):
    """A coordinator ticks tablets on the list: one move for all (every one must be allowed
    it, or none moves), their labels, their workbook."""
    import io

    import openpyxl

    from tracker.devices.models import Device

    first, second, third = create_device(), create_device(), create_device()
    signed_in("coordinator")
    page = client.get("/devices/").get_data(as_text=True)
    assert 'action="/devices/picked"' in page and 'name="device"' in page
    ticked = {"device": [str(first.id), str(second.id)], "back": "/devices/"}
    done = client.post("/devices/picked", data={**ticked, "event": "reported_faulty", "move": "1"})
    assert "2 tablets: Reported faulty." in text_of(client.get(done.headers["Location"]))
    assert [db.session.get(Device, d.id).status for d in (first, second, third)] == [
        "faulty",
        "faulty",
        "in_stock",
    ]
    # Repaired is for faulty tablets only: with an in-stock one ticked, nothing moves.
    mixed = {"device": [str(first.id), str(third.id)], "back": "/devices/"}
    refused = client.post("/devices/picked", data={**mixed, "event": "repaired", "move": "1"})
    assert f"{third.asset_tag} cannot be marked repaired" in text_of(
        client.get(refused.headers["Location"])
    )
    assert db.session.get(Device, first.id).status == "faulty"
    labels = client.post("/devices/picked", data={**ticked, "labels": "1"})
    assert labels.headers["Location"].startswith("/labels/?device=")
    workbook = client.post("/devices/picked", data={**ticked, "workbook": "1"})
    assert workbook.status_code == 307  # the same POST, to the export
    sheet = openpyxl.load_workbook(
        io.BytesIO(download(client, workbook.headers["Location"], ticked).data)
    ).active
    tags = {row[0].value for row in sheet.iter_rows(min_row=2)}
    assert tags == {first.asset_tag, second.asset_tag}
