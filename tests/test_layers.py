"""Rules that were written twice and drifted, now with one home each (see
docs/architecture.md): the codes a tablet has had, plan fulfilment, cancelling in bulk."""

from conftest import BASE_URL, dispatched_delivery, login, scan, token_for
from tracker.deliveries import handover
from tracker.devices.services import replace_label
from tracker.extensions import db


def test_a_replaced_label_answers_replaced_in_every_scan_and_lookup(app, client, delivery_setting):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    device = s["a_devices"][0]
    old = device.qr_token
    replace_label(device.id, s["coordinator"], "label torn")
    db.session.commit()
    expected = f"This label was replaced: {device.asset_tag} now carries a new label"
    # At the school, by the service the page and the phone use.
    result = handover.field_scan(delivery_id, f"{BASE_URL}/d/{old}", s["agent"])
    assert not result.ok and expected in result.message
    db.session.rollback()
    # The API's lookup and the offline sync.
    headers = token_for(s["agent"])
    lookup = client.get("/api/v1/devices/lookup", query_string={"code": old}, headers=headers)
    assert lookup.status_code == 404 and expected in lookup.get_json()["error"]
    answer = client.post(
        "/api/v1/sync",
        headers=headers,
        json={
            "actions": [
                {"id": "old-label-01", "type": "scan", "delivery_id": delivery_id, "code": old}
            ]
        },
    ).get_json()["results"][0]
    assert answer["status"] == "rejected" and expected in answer["message"]
    # Packing at the office.
    from tracker.deliveries import services

    (planned,) = services.create_deliveries(
        s["plan"].id,
        actor=s["coordinator"],
        assigned_to_id=None,
        planned_on=None,
        school_ids=[s["school_b"].id],
    )
    db.session.commit()
    login(client, s["coordinator"])
    packed = scan(client, planned.id, old).get_json()
    assert not packed["ok"] and expected in packed["message"]
    # The history still finds the tablet by its old label.
    page = client.get("/history", query_string={"code": old})
    assert device.asset_tag in page.get_data(as_text=True)
