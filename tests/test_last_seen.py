"""When each tablet was last in someone's hands, and the alert for delivered tablets nobody
has seen for long: a scan, a hand-over or a return says so; a reservation does not."""

from datetime import timedelta

import sqlalchemy as sa

from conftest import dispatched_delivery, handed_over, login, text_of
from tracker.database import utcnow
from tracker.deliveries import handover
from tracker.devices.models import Device
from tracker.extensions import db


def test_scans_and_the_hand_over_say_when_a_tablet_was_last_seen(delivery_setting):
    s = delivery_setting
    first = s["a_devices"][0]
    registered = db.session.get(Device, first.id).last_seen_at
    assert registered is not None  # registered: in the office's hands
    reserved = db.session.get(Device, s["b_devices"][0].id)
    assert reserved.status == "reserved" and reserved.last_seen_at == reserved.created_at
    delivery_id = dispatched_delivery(s)  # packed by scan: seen again
    packed = db.session.get(Device, first.id).last_seen_at
    assert packed > registered
    handover.field_scan(delivery_id, first.asset_tag, s["agent"])
    db.session.commit()
    scanned = db.session.get(Device, first.id).last_seen_at
    assert scanned > packed
    handed_over(s, delivery_id)
    assert db.session.get(Device, first.id).last_seen_at > scanned


def test_schools_with_tablets_unseen_for_long_are_an_alert(app, client, delivery_setting):
    s = delivery_setting
    handed_over(s, dispatched_delivery(s))
    login(client, s["manager"])
    assert 'data-testid="alert-unseen"' not in client.get("/").get_data(as_text=True)
    long_ago = utcnow() - timedelta(days=app.config["ALERT_UNSEEN_DAYS"] + 10)
    db.session.execute(
        sa.update(Device)
        .where(Device.id.in_([d.id for d in s["a_devices"][:2]]))
        .values(last_seen_at=long_ago)
    )
    db.session.commit()
    home = client.get("/").get_data(as_text=True)
    assert 'data-testid="alert-unseen">1<' in home
    page = text_of(client.get("/alerts?kind=unseen"))
    assert s["school_a"].code in page and "2 tablets delivered here and not seen since" in page
    device_page = text_of(client.get(f"/devices/{s['a_devices'][0].id}"))
    assert "Last seen" in device_page
