"""What an attacker and a malformed phone found in the offline sync, closed: a field report
changes only a tablet on the agent's own delivery under way; malformed actions are refused
one by one with a message and never answer 500; ids belong to their user."""

import uuid

import pytest
import sqlalchemy as sa

from conftest import dispatched_delivery, handover_form, login, signature_data_url, token_for
from tracker.api.models import SyncAction
from tracker.deliveries import handover, services
from tracker.deliveries.models import Delivery
from tracker.devices.models import Device
from tracker.extensions import db

HUGE = 2**64  # past any key; 2**31 is past PostgreSQL's integer keys too


def new_id() -> str:
    return str(uuid.uuid4())


def sync(client, headers, *actions):
    response = client.post("/api/v1/sync", headers=headers, json={"actions": list(actions)})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()["results"]


def report(delivery_id, device, reason="lost", **extra):
    return {
        "id": new_id(),
        "type": "report",
        "delivery_id": delivery_id,
        "code": device.asset_tag,
        "reason": reason,
        **extra,
    }


def status_of(device) -> str:
    db.session.expire_all()
    return db.session.get(Device, device.id).status


# 1. A field report changes only a tablet on the reporting agent's delivery under way -------


def test_a_handed_over_tablet_cannot_be_reported_lost_from_the_field(app, client, delivery_setting):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    for device in s["a_devices"]:
        handover.field_scan(delivery_id, device.asset_tag, s["agent"])
    handover.confirm_handover(
        delivery_id,
        actor=s["agent"],
        **{
            "recipient_name": "Mme Alaoui",
            "recipient_role": "Directrice",
            "signature": signature_data_url(),
        },
    )
    db.session.commit()
    (answer,) = sync(client, token_for(s["agent"]), report(delivery_id, s["a_devices"][0]))
    assert answer["status"] == "rejected" and "DEL-" in answer["message"]
    assert status_of(s["a_devices"][0]) == "delivered"


def test_a_tablet_back_in_stock_after_a_failed_delivery_cannot_be_reported(
    app, client, delivery_setting
):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    handover.fail_delivery(delivery_id, s["agent"], "School closed")
    db.session.commit()
    (answer,) = sync(
        client, token_for(s["agent"]), report(delivery_id, s["a_devices"][1], "faulty")
    )
    assert answer["status"] == "rejected"
    device = db.session.get(Device, s["a_devices"][1].id)
    assert device.status == "reserved" and device.school_id == s["school_a"].id


def test_a_tablet_now_on_another_agents_delivery_cannot_be_pulled_off_it(
    app, client, delivery_setting
):
    s = delivery_setting
    first = dispatched_delivery(s)
    handover.fail_delivery(first, s["agent"], "Road cut")
    db.session.commit()
    (second,) = services.create_deliveries(
        s["plan"].id,
        actor=s["coordinator"],
        assigned_to_id=s["other_agent"].id,
        planned_on=None,
        school_ids=[s["school_a"].id],
    )
    for device in s["a_devices"]:
        services.pack_scan(second.id, device.asset_tag, s["coordinator"])
    services.finish_packing(second.id, s["coordinator"])
    services.dispatch(second.id, s["coordinator"])
    db.session.commit()
    (answer,) = sync(client, token_for(s["agent"]), report(first, s["a_devices"][0]))
    assert answer["status"] == "rejected"
    assert status_of(s["a_devices"][0]) == "in_transit"
    item_statuses = {item.status for item in db.session.get(Delivery, second.id).items}
    assert item_statuses == {"packed"}


def test_a_tablet_on_the_road_with_the_agent_can_still_be_reported(app, client, delivery_setting):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    (answer,) = sync(client, token_for(s["agent"]), report(delivery_id, s["a_devices"][2]))
    assert answer["status"] == "applied", answer
    assert status_of(s["a_devices"][2]) == "lost"


# 2. No request answers 500, and the actions after a bad one are still answered ----------


def malformed_actions(delivery_id: int, device) -> list[tuple[str, dict]]:
    base = {
        "type": "handover",
        "delivery_id": delivery_id,
        "recipient_name": "Mme Salma",
        "recipient_role": "Directrice",
        "signature": signature_data_url(),
    }
    return [
        ("no signature", {**base, "signature": None}),
        ("empty signature", {**base, "signature": ""}),
        ("signature not a string", {**base, "signature": {"png": 1}}),
        ("accuracy not a number", {**base, "latitude": 31.6, "longitude": -8, "accuracy": "x"}),
        ("missing not a list of objects", {**base, "missing": ["TAB-00001"]}),
        ("missing a string", {**base, "missing": "all"}),
        (
            "report reason a list",
            {
                "type": "report",
                "delivery_id": delivery_id,
                "code": device.asset_tag,
                "reason": ["lost"],
            },
        ),
        ("delivery id above 2^63", {"type": "scan", "delivery_id": HUGE, "code": "x"}),
        ("delivery id above 2^31", {"type": "scan", "delivery_id": 2**31, "code": "x"}),
        ("device id above 2^63", {**base, "missing": [{"device_id": HUGE, "reason": "missing"}]}),
        ("delivery id a string", {"type": "scan", "delivery_id": str(delivery_id), "code": "x"}),
        ("delivery id a float", {"type": "scan", "delivery_id": delivery_id + 0.9, "code": "x"}),
        ("delivery id true", {"type": "scan", "delivery_id": True, "code": "x"}),
        ("recipient a dict", {**base, "recipient_name": {"a": 1}}),
        ("code a dict", {"type": "scan", "delivery_id": delivery_id, "code": {"a": 1}}),
        ("at past the year 9999", {**base, "at": "9999-12-31T23:59:59-12:00"}),
        ("at at year 1", {**base, "at": "0001-01-01T00:00:00+14:00"}),
        ("at a number", {**base, "at": 1700000000}),
        ("type a list", {"type": ["scan"], "delivery_id": delivery_id}),
        ("latitude infinite", {**base, "latitude": 1e400, "longitude": 0}),
        ("control character", {**base, "recipient_name": "Mme\x1b[31m Salma"}),
    ]


def test_every_malformed_action_is_refused_with_a_message_and_the_next_one_applied(
    app, client, delivery_setting
):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    headers = token_for(s["agent"])
    cases = malformed_actions(delivery_id, s["a_devices"][0])
    good = {
        "id": new_id(),
        "type": "scan",
        "delivery_id": delivery_id,
        "code": s["a_devices"][0].serial,
    }
    actions = [{"id": new_id(), **action} for _name, action in cases] + [good]
    results = sync(client, headers, *actions)
    for (name, _action), result in zip(cases, results, strict=False):
        assert result["status"] == "rejected", name
        assert result["message"], name
    assert results[-1]["status"] == "applied", results[-1]
    assert status_of(s["a_devices"][0]) == "in_transit"
    assert db.session.get(Delivery, delivery_id).status == "dispatched"
    stored = db.session.scalars(sa.select(SyncAction.message)).all()
    assert not any("{'a': 1}" in message for message in stored)


def test_a_deeply_nested_body_and_huge_ids_in_routes_answer_4xx(app, client, delivery_setting):
    s = delivery_setting
    headers = token_for(s["agent"])
    nested = "[" * 100_000 + "]" * 100_000
    response = client.post(
        "/api/v1/sync", headers={**headers, "Content-Type": "application/json"}, data=nested
    )
    assert response.status_code == 400 and response.is_json
    assert client.get(f"/api/v1/deliveries/{HUGE}", headers=headers).status_code == 404
    login(client, s["coordinator"])
    routes = [
        f"/deliveries/{HUGE}",
        f"/devices/{HUGE}",
        f"/schools/{HUGE}",
        f"/plans/{HUGE}",
        f"/donations/{HUGE}",
        f"/imports/{HUGE}",
        f"/deliveries/new?plan={HUGE}",
        f"/history?user={HUGE}",
        f"/devices/?donation={HUGE}",
        f"/devices/?school={HUGE}",
        f"/devices/?sort=registered&after={HUGE}",
        f"/exports/history.xlsx?device={HUGE}",
        f"/alerts?before={HUGE}",
    ]
    for route in routes + [r.replace(str(HUGE), str(2**31)) for r in routes]:
        assert client.get(route).status_code < 500, route


def test_the_phones_time_is_kept_but_bounded_and_the_receipt_time_recorded(
    app, client, delivery_setting
):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    headers = token_for(s["agent"])
    scans = [
        {"id": new_id(), "type": "scan", "delivery_id": delivery_id, "code": d.serial}
        for d in s["a_devices"]
    ]
    future = {
        "id": new_id(),
        "type": "handover",
        "delivery_id": delivery_id,
        "at": "2099-06-01T10:00:00Z",
        "recipient_name": "Mme Salma",
        "recipient_role": "Directrice",
        "signature": signature_data_url(),
    }
    results = sync(client, headers, *scans, future)
    assert [r["status"] for r in results] == ["applied"] * 4, results
    delivery = db.session.get(Delivery, delivery_id)
    assert delivery.delivered_at.year < 2099
    assert delivery.dispatched_at <= delivery.delivered_at <= delivery.handover_recorded_at
    phone_time = db.session.scalar(
        sa.select(SyncAction.client_time).where(SyncAction.type == "handover")
    )
    assert phone_time.year == 2099  # what the phone said is kept beside


def test_the_web_hand_over_refuses_an_accuracy_that_is_not_a_number(app, client, delivery_setting):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    login(client, s["agent"])
    for device in s["a_devices"]:
        client.post(f"/deliveries/{delivery_id}/scan", data={"code": device.serial})
    response = client.post(
        f"/deliveries/{delivery_id}/handover", data={**handover_form(), "accuracy": "near"}
    )
    assert response.status_code in (200, 400, 422)
    assert "The position could not be read" in response.get_data(as_text=True)
    assert db.session.get(Delivery, delivery_id).status == "dispatched"


# 4. An offline action's id belongs to its user ------------------------------------------


def test_the_same_id_from_two_users_is_two_actions(app, client, delivery_setting):
    s = delivery_setting
    mine = dispatched_delivery(s)
    theirs = dispatched_delivery(s, "school_b")
    db.session.get(Delivery, theirs).assigned_to_id = s["other_agent"].id
    db.session.commit()
    shared_id = "same-id-0001"
    first = sync(
        client,
        token_for(s["other_agent"]),
        {"id": shared_id, "type": "scan", "delivery_id": theirs, "code": s["b_devices"][0].serial},
    )
    assert first[0]["status"] == "applied"
    second = sync(
        client,
        token_for(s["agent"]),
        {"id": shared_id, "type": "scan", "delivery_id": mine, "code": s["a_devices"][0].serial},
    )
    assert second[0]["status"] == "applied", second  # not the other user's duplicate
    assert (
        "B" not in second[0]["message"] or s["b_devices"][0].asset_tag not in second[0]["message"]
    )
    again = sync(
        client,
        token_for(s["agent"]),
        {"id": shared_id, "type": "scan", "delivery_id": mine, "code": s["a_devices"][0].serial},
    )
    assert again[0]["status"] == "duplicate" and again[0]["original"] == "applied"


def test_an_action_queued_by_another_user_is_refused(app, client, delivery_setting):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    action = {
        "id": new_id(),
        "type": "scan",
        "delivery_id": delivery_id,
        "code": s["a_devices"][0].serial,
        "user_id": s["other_agent"].id,
    }
    (answer,) = sync(client, token_for(s["agent"]), action)
    assert answer["status"] == "rejected" and "another user" in answer["message"]
    assert db.session.get(Delivery, delivery_id).items[0].status == "packed"


@pytest.mark.parametrize("offset", ["-5", "null", "abc", str(HUGE)])
def test_a_bad_offset_is_refused(app, client, create_user, offset):
    headers = token_for(create_user("field"))
    response = client.get(f"/api/v1/schools?offset={offset}", headers=headers)
    assert response.status_code == 400 and "offset" in response.get_json()["error"]


def test_the_api_answers_json_for_404_405_and_413(app, client, create_user):
    headers = token_for(create_user("field"))
    for response, code in (
        (client.get("/api/v1/nothing-here", headers=headers), 404),
        (client.delete("/api/v1/me", headers=headers), 405),
        (
            client.post(
                "/api/v1/sync",
                headers={**headers, "Content-Type": "application/json"},
                data=b" " * (app.config["MAX_CONTENT_LENGTH"] + 1),
            ),
            413,
        ),
    ):
        assert response.status_code == code and response.is_json, (code, response.data[:200])
        assert response.get_json()["error"]


def test_a_nul_in_an_address_or_query_answers_400(app, client, signed_in):
    headers = token_for(signed_in("coordinator"))
    for url in (
        "/api/v1/schools?q=a%00b",
        "/api/v1/devices/lookup?code=%00",
        "/api/v1/deliveries?status=%00",
        "/devices/?q=TAB%00",
        "/schools/?q=%00",
        "/d/abc%00def",
        "/history?code=%00",
    ):
        response = client.get(url, headers=headers if url.startswith("/api/") else {})
        assert response.status_code == 400, url
