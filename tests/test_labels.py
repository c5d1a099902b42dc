"""QR codes and label sheets, checked by decoding them with a real decoder (zxing-cpp)."""

import io
import math

import pypdfium2
import pytest
import resvg_py
import zxingcpp
from PIL import Image

from conftest import BASE_URL, download, login, text_of
from tracker.devices.models import DeviceEvent
from tracker.extensions import db
from tracker.labels.sheets import LAYOUTS, Label, render_labels, render_test_page

MM = 72 / 25.4  # PDF points per millimetre


def decode(image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


def pdf_pages(content: bytes, dpi: int = 200):
    document = pypdfium2.PdfDocument(content)
    return [page.render(scale=dpi / 72).to_pil() for page in document]


def url_of(device) -> str:
    return f"{BASE_URL}/d/{device.qr_token}"


# --- images ----------------------------------------------------------------------------------


def test_png_decodes_to_the_device_url(signed_in, client, create_device):
    device = create_device()
    signed_in("field")
    response = client.get(f"/devices/{device.id}/qr.png")
    assert response.headers["Content-Type"] == "image/png"
    assert decode(Image.open(io.BytesIO(response.data))) == [url_of(device)]


def test_svg_is_vector_and_decodes_once_rendered(signed_in, client, create_device):
    device = create_device()
    signed_in("coordinator")
    response = client.get(f"/devices/{device.id}/qr.svg")
    svg = response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("image/svg+xml")
    assert "<path" in svg and "<image" not in svg
    png = resvg_py.svg_to_bytes(svg_string=svg, width=330, height=330)
    assert decode(Image.open(io.BytesIO(bytes(png)))) == [url_of(device)]


def test_qr_points_at_the_configured_base_url_not_the_host_header(
    client, create_user, create_device
):
    device = create_device()
    user = create_user("coordinator")
    forged = "http://evil.example"
    client.post(
        "/login", base_url=forged, data={"email": user.email, "password": "correct horse battery"}
    )
    response = client.get(f"/devices/{device.id}/qr.png", base_url=forged)
    assert response.status_code == 200
    assert decode(Image.open(io.BytesIO(response.data))) == [url_of(device)]


def test_images_are_cached_until_the_label_changes(signed_in, client, create_device):
    device = create_device()
    signed_in("coordinator")
    first = client.get(f"/devices/{device.id}/qr.svg")
    assert first.headers["Cache-Control"] == "private, max-age=86400"
    again = client.get(
        f"/devices/{device.id}/qr.svg", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    client.post(f"/devices/{device.id}/replace-label", data={"note": "copied"})
    changed = client.get(
        f"/devices/{device.id}/qr.svg", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert changed.status_code == 200


def test_device_page_shows_the_code_with_its_tag(signed_in, client, create_device):
    device = create_device()
    signed_in("field")
    html = client.get(f"/devices/{device.id}").get_data(as_text=True)
    assert f'src="/devices/{device.id}/qr.svg"' in html
    assert f"<figcaption><strong>{device.asset_tag}</strong></figcaption>" in html


# --- the scan landing and replaced labels -----------------------------------------------------


def test_signed_out_scan_signs_in_then_opens_the_device(client, create_device, create_user):
    device = create_device()
    response = client.get(f"/d/{device.qr_token}")
    assert response.status_code == 302
    user = create_user("field")
    back = client.post(
        response.headers["Location"],
        data={"email": user.email, "password": "correct horse battery"},
    )
    assert back.headers["Location"] == f"/d/{device.qr_token}"
    assert device.asset_tag in text_of(client.get(back.headers["Location"]))


@pytest.mark.parametrize("role", ["admin", "coordinator", "manager", "field"])
def test_scan_shows_the_actions_the_role_may_take(client, create_user, create_device, role):
    device = create_device()
    login(client, create_user(role))
    html = client.get(f"/d/{device.qr_token}").get_data(as_text=True)
    may_change = role in ("admin", "coordinator")
    assert (f"/devices/{device.id}/edit" in html) is may_change
    assert (f"/devices/{device.id}/move" in html) is may_change
    assert (f"/devices/{device.id}/replace-label" in html) is may_change


def test_unknown_code_reveals_nothing(signed_in, client, create_device):
    create_device()
    signed_in("coordinator")
    response = client.get("/d/AAAAAAAAAAAAAAAAAAAAAA")
    assert response.status_code == 404
    assert "This code is not registered in the tracker." in text_of(response)
    assert "TAB-" not in text_of(response)


def test_replaced_label_says_so_and_the_new_one_works(signed_in, client, create_device):
    device = create_device()
    old_token = device.qr_token
    signed_in("coordinator")
    response = client.post(f"/devices/{device.id}/replace-label", data={"note": "Label torn"})
    assert response.status_code == 302
    db.session.refresh(device)
    assert device.qr_token != old_token
    stale = client.get(f"/d/{old_token}")
    assert stale.status_code == 410
    assert "This label was replaced" in text_of(stale)
    assert client.get(f"/d/{device.qr_token}").status_code == 200
    event = db.session.query(DeviceEvent).filter_by(type="label_replaced").one()
    assert event.details["note"] == "Label torn"


# --- label sheets ----------------------------------------------------------------------------


def test_200_devices_on_3x7_fill_ten_pages_and_every_label_decodes(
    app, create_device, create_donation
):
    from tracker.labels.services import labels_for

    donation = create_donation()
    devices = [create_device(donation=donation) for _ in range(200)]
    labels = labels_for(device_ids=[device.id for device in devices])
    pages = pdf_pages(render_labels(labels, LAYOUTS["a4-3x7"]))
    assert len(pages) == math.ceil(200 / 21) == 10
    decoded = [text for page in pages for text in decode(page)]
    assert sorted(decoded) == sorted(url_of(device) for device in devices)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_layout_prints_codes_that_decode(layout):
    labels = [
        Label(f"{BASE_URL}/d/token{n:017d}", f"TAB-{n:05d}", "MatePad T10\nDonor")
        for n in range(1, 4)
    ]
    pages = pdf_pages(render_labels(labels, LAYOUTS[layout]), dpi=300)
    chosen = LAYOUTS[layout]
    assert len(pages) == math.ceil(3 / chosen.per_page)
    assert sorted(text for page in pages for text in decode(page)) == [
        label.payload for label in labels
    ]


def test_qr_is_drawn_as_vector_paths_not_an_image():
    pdf = render_labels([Label(f"{BASE_URL}/d/x", "TAB-00001", "m")], LAYOUTS["a4-3x7"])
    page = pypdfium2.PdfDocument(pdf)[0]
    kinds = {obj.type for obj in page.get_objects()}
    assert pypdfium2.raw.FPDF_PAGEOBJ_PATH in kinds
    assert pypdfium2.raw.FPDF_PAGEOBJ_IMAGE not in kinds


def qr_centre_mm(image, dpi) -> tuple[float, float]:
    [result] = zxingcpp.read_barcodes(image)
    corners = result.position
    x = (corners.top_left.x + corners.bottom_right.x) / 2 * 25.4 / dpi
    y = (corners.top_left.y + corners.bottom_right.y) / 2 * 25.4 / dpi
    return x, y


def test_start_position_and_printer_offset_move_the_label():
    layout = LAYOUTS["a4-3x7"]
    label = [Label(f"{BASE_URL}/d/start", "TAB-00001", "m")]
    x1, y1 = qr_centre_mm(pdf_pages(render_labels(label, layout))[0], 200)
    x5, y5 = qr_centre_mm(pdf_pages(render_labels(label, layout, start=5))[0], 200)
    # Position 5 is the middle of the second row.
    assert x5 - x1 == pytest.approx(layout.pitch_x, abs=0.5)
    assert y5 - y1 == pytest.approx(layout.pitch_y, abs=0.5)
    xs, ys = qr_centre_mm(pdf_pages(render_labels(label, layout, offset_x=3, offset_y=-2))[0], 200)
    assert (xs - x1, ys - y1) == (pytest.approx(3, abs=0.3), pytest.approx(-2, abs=0.3))


def test_test_page_numbers_every_label_position():
    for layout in LAYOUTS.values():
        page = pypdfium2.PdfDocument(render_test_page(layout))[0]
        text = page.get_textpage().get_text_range().split()
        assert text == [str(n) for n in range(1, layout.per_page + 1)]


# --- the labels page and CLI -----------------------------------------------------------------


def test_labels_page_prints_what_the_filter_matches(signed_in, client, create_device):
    devices = [create_device() for _ in range(3)]
    from tracker.devices.services import move_device

    move_device(devices[0], "reported_faulty", None)
    db.session.commit()
    signed_in("coordinator")
    assert "2 devices match" in text_of(client.get("/labels/?status=in_stock"))
    response = download(
        client, "/labels/sheet.pdf", {"status": "in_stock", "layout": "thermal-50x25"}
    )
    assert response.headers["Content-Type"] == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    pages = pdf_pages(response.data, dpi=300)
    assert [decode(page) for page in pages] == [[url_of(devices[1])], [url_of(devices[2])]]


def test_labels_for_picked_devices(signed_in, client, create_device):
    devices = [create_device() for _ in range(4)]
    signed_in("admin")
    picked = f"device={devices[1].id}&device={devices[3].id}"
    assert "2 devices picked by hand." in text_of(client.get(f"/labels/?{picked}"))
    [page] = pdf_pages(download(client, f"/labels/sheet.pdf?{picked}&layout=a4-2x7").data)
    assert sorted(decode(page)) == sorted([url_of(devices[1]), url_of(devices[3])])


def test_device_list_offers_labels_for_picks_and_for_all_matching(signed_in, client, create_device):
    device = create_device()
    signed_in("coordinator")
    html = client.get("/devices/?status=in_stock").get_data(as_text=True)
    assert f'name="device" value="{device.id}"' in html
    assert 'href="/labels/?status=in_stock' in html


def test_bad_options_and_empty_choice_get_a_clear_answer(signed_in, client, create_device):
    create_device()
    signed_in("coordinator")
    bad_layout = client.post("/labels/sheet.pdf", data={"layout": "a3-giant"})
    assert bad_layout.status_code == 400 and "Label stock" in text_of(bad_layout)
    bad_start = client.post("/labels/sheet.pdf", data={"start": "0"})
    assert bad_start.status_code == 400 and "Start at label number" in text_of(bad_start)
    # Nothing chosen: the job says so on its page, and makes no file.
    nothing = client.post("/labels/sheet.pdf", data={"status": "lost"}, follow_redirects=True)
    assert "No device is chosen: there is nothing to print." in text_of(nothing)
    assert 'data-testid="download"' not in nothing.get_data(as_text=True)


def test_test_page_download(signed_in, client):
    signed_in("coordinator")
    response = client.get("/labels/test-page.pdf?layout=a4-2x7")
    assert response.headers["Content-Type"] == "application/pdf"
    assert len(pypdfium2.PdfDocument(response.data)) == 1


def test_cli_writes_a_sheet_for_a_donation(runner, create_device, create_donation, tmp_path):
    other = create_donation(reference="OTHER-1")
    mine = [create_device() for _ in range(2)]
    create_device(donation=other)
    output = tmp_path / "labels.pdf"
    result = runner.invoke(
        args=[
            "labels",
            str(output),
            "--donation",
            mine[0].donation.reference,
            "--state",
            "in_stock",
            "--layout",
            "a4-3x7",
            "--start",
            "3",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Wrote 2 labels on 1 page(s)" in result.output
    [page] = pdf_pages(output.read_bytes())
    assert sorted(decode(page)) == sorted(url_of(device) for device in mine)


def test_cli_refuses_an_unknown_donation_and_an_empty_choice(runner, create_device, tmp_path):
    create_device()
    unknown = runner.invoke(args=["labels", str(tmp_path / "a.pdf"), "--donation", "NOPE"])
    assert unknown.exit_code == 1 and "No donation with reference 'NOPE'." in unknown.output
    empty = runner.invoke(args=["labels", str(tmp_path / "b.pdf"), "--status", "lost"])
    assert empty.exit_code == 1 and "No device matches" in empty.output
    assert not (tmp_path / "a.pdf").exists() and not (tmp_path / "b.pdf").exists()
