"""The dashboard shows the figures a coordinator expects."""

from tracker.devices.services import move_device
from tracker.extensions import db


def figure(html: str, testid: str) -> str:
    marker = f'data-testid="{testid}">'
    start = html.index(marker) + len(marker)
    return html[start : html.index("<", start)]


def test_counts_by_state_and_schools(signed_in, client, create_device, create_school):
    devices = [create_device() for _ in range(5)]
    move_device(devices[0], "reported_faulty", None)
    move_device(devices[1], "reported_lost", None)
    db.session.commit()
    create_school(need=12)
    create_school(need=8, region="Souss-Massa")
    signed_in("manager")
    html = client.get("/").get_data(as_text=True)
    assert figure(html, "total-devices") == "5"
    assert figure(html, "count-in_stock") == "3"
    assert figure(html, "count-faulty") == "1"
    assert figure(html, "count-lost") == "1"
    assert figure(html, "school-count") == "2"
    assert "2 regions" in html and "20 tablets needed" in html
    assert "DON-001" in html


def test_dashboard_has_the_code_box(signed_in, client):
    signed_in("field")
    html = client.get("/").get_data(as_text=True)
    assert 'action="/devices/"' in html and 'name="q"' in html
