"""The JSON API: tokens, the OpenAPI document (validated, every path called), role and
object rules, and the sync endpoint that applies each queued action exactly once."""

import threading
import uuid

import pytest
import sqlalchemy as sa
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from conftest import (
    BASE_URL,
    dispatched_delivery,
    login,
    make_app,
    signature_data_url,
    token_for,
)
from tracker.api.models import SyncAction
from tracker.auth.models import ApiToken
from tracker.deliveries.models import Delivery
from tracker.devices.models import Device, DeviceEvent
from tracker.extensions import db
from tracker.timezone import local_today


def new_id() -> str:
    return str(uuid.uuid4())


def whole_delivery(s, delivery_id) -> list[dict]:
    """What a phone queues for a delivery done offline: three scans and the hand-over."""
    scans = [
        {
            "id": new_id(),
            "type": "scan",
            "delivery_id": delivery_id,
            "at": f"2026-11-23T09:1{n}:00+01:00",
            "code": f"{BASE_URL}/d/{device.qr_token}",
        }
        for n, device in enumerate(s["a_devices"])
    ]
    return [
        *scans,
        {
            "id": new_id(),
            "type": "handover",
            "delivery_id": delivery_id,
            "at": "2026-11-23T09:20:00+01:00",
            "recipient_name": "Mme Salma",
            "recipient_role": "Directrice",
            "signature": signature_data_url(),
            "latitude": 31.63,
            "longitude": -8.0,
            "accuracy": 20,
        },
    ]


def delivered_events() -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(DeviceEvent).where(DeviceEvent.type == "delivered")
    )


def test_token_made_on_the_command_line_is_shown_once_and_stored_hashed(
    app, runner, create_user, client
):
    agent = create_user("field", email="agent@example.org")
    result = runner.invoke(args=["users", "token", "agent@example.org", "--label", "phone"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[0]
    assert secret.startswith("trk_")
    stored = db.session.scalar(sa.select(ApiToken))
    assert stored.user_id == agent.id and secret not in stored.token_hash
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=headers).get_json()["email"] == "agent@example.org"
    # A token opens the API, not the web pages.
    assert client.get("/deliveries/", headers=headers).status_code == 302
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer trk_nope"}).status_code == 401
    assert client.get("/api/v1/me").status_code == 401


def test_a_token_is_revoked_from_the_users_page(app, client, create_user):
    admin, agent = create_user("admin"), create_user("field")
    headers = token_for(agent)
    login(client, admin)
    page = client.get(f"/admin/users/{agent.id}").get_data(as_text=True)
    assert "test phone" in page
    token_id = db.session.scalar(sa.select(ApiToken.id))
    assert client.post(f"/admin/users/{agent.id}/tokens/{token_id}/revoke").status_code == 302
    client.post("/logout")
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def _schema_validator(document, schema):
    return Draft202012Validator({**schema, "components": document["components"]})


def test_openapi_document_validates_and_every_path_answers_as_described(
    app, client, delivery_setting, create_user
):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    headers = token_for(s["agent"])
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)

    from tracker.counts.services import open_count

    count = open_count(
        None,
        name="Juin",
        scope="school",
        scope_value=str(s["school_a"].id),
        starts_on=local_today(),
        ends_on=local_today(),
    )
    from receipt_signer import Phone

    from tracker.schools.models import SchoolStaff

    head = create_user("school")
    db.session.add(SchoolStaff(user_id=head.id, school_id=s["school_a"].id))
    db.session.commit()
    school = token_for(head)
    calls = {
        ("get", "/my-school/deliveries"): {"headers": school},
        ("get", "/my-school/deliveries/{delivery_id}"): {"headers": school},
        ("get", "/phone-keys"): {"headers": school},
        ("post", "/phone-keys"): {"headers": school, "json": {"public_key": Phone().public_key}},
        ("get", "/me"): {},
        ("get", "/deliveries"): {},
        ("get", "/deliveries/{delivery_id}"): {},
        ("get", "/devices/lookup"): {"query_string": {"code": s["a_devices"][0].serial}},
        ("get", "/schools"): {"query_string": {"q": "Amal"}},
        ("post", "/sync"): {"json": {"actions": whole_delivery(s, delivery_id)[:1]}},
        ("get", "/openapi.json"): {},
        ("get", "/counts"): {},
        ("get", "/counts/{count_id}/schools/{school_id}"): {},
        ("get", "/schools/{school_id}/borrowers"): {"headers": school},
        ("get", "/schools/{school_id}/loans"): {"headers": school},
    }
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert documented == set(calls), "every documented endpoint is called here"
    for (method, path), options in calls.items():
        url = "/api/v1" + path.replace("{delivery_id}", str(delivery_id)).replace(
            "{count_id}", str(count.id)
        ).replace("{school_id}", str(s["school_a"].id))
        options = {"headers": headers, **options}
        response = client.open(url, method=method.upper(), **options)
        status = "201" if (method, path) == ("post", "/phone-keys") else "200"
        assert response.status_code == int(status), (path, response.get_json())
        schema = document["paths"][path][method]["responses"][status].get("content")
        if schema:
            body_schema = schema["application/json"]["schema"]
            _schema_validator(document, body_schema).validate(response.get_json())
    manifest = client.get(f"/api/v1/deliveries/{delivery_id}", headers=headers).get_json()
    assert [item["asset_tag"] for item in manifest["items"]] == [
        d.asset_tag for d in s["a_devices"]
    ]
    assert manifest["items"][0]["qr_token"] == s["a_devices"][0].qr_token


def test_an_agent_reads_only_their_deliveries_and_a_manager_cannot_act(
    app, client, delivery_setting
):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    mine = client.get("/api/v1/deliveries", headers=token_for(s["agent"])).get_json()
    assert {d["id"] for d in mine["deliveries"]} >= {delivery_id}
    other = token_for(s["other_agent"])
    assert client.get("/api/v1/deliveries", headers=other).get_json() == {"deliveries": []}
    assert client.get(f"/api/v1/deliveries/{delivery_id}", headers=other).status_code == 404
    action = whole_delivery(s, delivery_id)[0]
    answer = client.post("/api/v1/sync", headers=other, json={"actions": [action]}).get_json()
    assert answer["results"][0]["status"] == "rejected"
    assert answer["results"][0]["message"] == f"No delivery with number {delivery_id}."
    manager = token_for(s["manager"])
    assert client.get(f"/api/v1/deliveries/{delivery_id}", headers=manager).status_code == 200
    again = dict(action, id=new_id())
    refused = client.post("/api/v1/sync", headers=manager, json={"actions": [again]})
    assert "You may not act on DEL-" in refused.get_json()["results"][0]["message"]


def test_the_same_batch_sent_three_times_counts_once(app, client, delivery_setting):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    headers = token_for(s["agent"])
    batch = {"actions": whole_delivery(s, delivery_id)}
    first = client.post("/api/v1/sync", headers=headers, json=batch).get_json()["results"]
    assert [r["status"] for r in first] == ["applied"] * 4, first
    for _ in range(2):
        again = client.post("/api/v1/sync", headers=headers, json=batch).get_json()["results"]
        assert [(r["status"], r["original"]) for r in again] == [("duplicate", "applied")] * 4
    assert delivered_events() == 3
    delivery = db.session.get(Delivery, delivery_id)
    assert delivery.status == "delivered" and delivery.recipient_name == "Mme Salma"
    # The phone's time is kept beside the server's; the hand-over's own time cannot be
    # before the tablets left (this phone's clock was days behind).
    assert delivery.delivered_at == delivery.dispatched_at
    event = db.session.scalar(sa.select(DeviceEvent).where(DeviceEvent.type == "delivered"))
    assert event.client_time.isoformat() == "2026-11-23T08:20:00+00:00"
    assert event.occurred_at != event.client_time
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncAction)) == 4


def test_one_bad_action_does_not_stop_the_others(app, client, delivery_setting):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    headers = token_for(s["agent"])
    good = whole_delivery(s, delivery_id)
    bad = [
        {"id": new_id(), "type": "scan", "delivery_id": delivery_id, "code": "TAB-99999"},
        {"id": new_id(), "type": "teleport", "delivery_id": delivery_id},
        {"id": "x", "type": "scan", "delivery_id": delivery_id, "code": "x"},
        {"id": new_id(), "type": "scan", "delivery_id": delivery_id, "at": "yesterday"},
    ]
    actions = [good[0], *bad, *good[1:]]
    results = client.post("/api/v1/sync", headers=headers, json={"actions": actions}).get_json()
    statuses = [r["status"] for r in results["results"]]
    assert statuses == ["applied", "rejected", "rejected", "rejected", "rejected", *["applied"] * 3]
    messages = [r["message"] for r in results["results"]]
    assert messages[1] == "No tablet has the code TAB-99999."
    assert "'type' must be one of: scan, handover, report" in messages[2]
    assert "needs an id" in messages[3] and "ISO 8601" in messages[4]
    assert db.session.get(Delivery, delivery_id).status == "delivered"
    # A refused action keeps its answer: sent again, it is not retried.
    resent = client.post("/api/v1/sync", headers=headers, json={"actions": [bad[0]]}).get_json()
    assert resent["results"][0] == {
        "id": bad[0]["id"],
        "status": "duplicate",
        "original": "rejected",
        "message": "No tablet has the code TAB-99999.",
    }


def test_a_change_at_the_office_meanwhile_is_answered_and_nothing_is_overwritten(
    app, client, delivery_setting
):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    headers = token_for(s["agent"])
    actions = whole_delivery(s, delivery_id)
    client.post("/api/v1/sync", headers=headers, json={"actions": actions[:1]})
    # The office hands it over by paper meanwhile...
    from tracker.deliveries.handover import confirm_handover

    confirm_handover(
        delivery_id,
        actor=s["coordinator"],
        recipient_name="M. Office",
        recipient_role="Directeur",
        received={d.id for d in s["a_devices"]},
        via="manifest",
    )
    db.session.commit()
    late = client.post("/api/v1/sync", headers=headers, json={"actions": actions[1:]}).get_json()
    assert [r["status"] for r in late["results"]] == ["rejected"] * 3
    assert "cannot be scanned at the school: it is delivered" in late["results"][0]["message"]
    assert "cannot be handed over: it is delivered" in late["results"][2]["message"]
    assert db.session.get(Delivery, delivery_id).recipient_name == "M. Office"
    assert delivered_events() == 3


def test_racing_copies_of_a_batch_record_once(app, client, delivery_setting):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    headers = token_for(s["agent"])
    batch = {"actions": whole_delivery(s, delivery_id)}
    start = threading.Barrier(3)
    answers = []

    def send():
        with app.app_context():  # each thread its own connection, as each server worker
            local = app.test_client()
            start.wait()
            answers.append(local.post("/api/v1/sync", headers=headers, json=batch).get_json())
            db.session.remove()

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == 3
    for position in range(4):
        statuses = sorted(a["results"][position]["status"] for a in answers)
        assert statuses.count("applied") == 1, statuses
        assert statuses.count("duplicate") + statuses.count("applied") == 3, statuses
    assert delivered_events() == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncAction)) == 4


def test_the_browser_session_may_sync_only_with_its_csrf_token(app, database_url, delivery_setting):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    strict = make_app(database_url, WTF_CSRF_ENABLED=True)
    # Each request in its own app context, as a server runs them (g is per request).
    browser = strict.test_client()
    page = browser.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    browser.post(
        "/login",
        data={
            "email": s["agent"].email,
            "password": "correct horse battery",
            "csrf_token": token,
        },
    )
    # Signing in starts a new session: the app asks /me for the session's token.
    token = browser.get("/api/v1/me").get_json()["csrf_token"]
    action = {"actions": whole_delivery(s, delivery_id)[:1]}
    assert browser.post("/api/v1/sync", json=action).status_code == 400
    ok = browser.post("/api/v1/sync", json=action, headers={"X-CSRFToken": token})
    assert ok.status_code == 200, ok.get_data(as_text=True)[:300]
    assert ok.get_json()["results"][0]["status"] == "applied"
    db.session.expire_all()
    scanned = db.session.get(Device, s["a_devices"][0].id)
    assert scanned.status == "in_transit"


@pytest.mark.parametrize("body", [None, {"actions": "all"}, [1, 2]])
def test_a_malformed_body_is_refused_with_the_shape_expected(app, client, create_user, body):
    headers = token_for(create_user("field"))
    response = client.post("/api/v1/sync", headers=headers, json=body)
    assert response.status_code == 400 and "actions" in response.get_json()["error"]


def test_a_tablet_reported_from_the_phone_and_one_taken_off_by_the_office(
    app, client, delivery_setting
):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    headers = token_for(s["agent"])
    broken, taken, _third = s["a_devices"]
    # The office reports one lost meanwhile: it leaves the delivery.
    from tracker.devices.services import move_device

    move_device(db.session.get(Device, taken.id), "reported_lost", s["coordinator"])
    db.session.commit()
    actions = [
        {
            "id": new_id(),
            "type": "report",
            "delivery_id": delivery_id,
            "at": "2026-11-23T10:00:00Z",
            "code": broken.asset_tag,
            "reason": "faulty",
            "note": "screen cracked",
        },
        {"id": new_id(), "type": "scan", "delivery_id": delivery_id, "code": taken.serial},
        {"id": new_id(), "type": "report", "delivery_id": delivery_id, "code": "x", "reason": "?"},
    ]
    results = client.post("/api/v1/sync", headers=headers, json={"actions": actions}).get_json()
    assert [r["status"] for r in results["results"]] == ["applied", "rejected", "rejected"]
    assert results["results"][0]["message"] == f"{broken.asset_tag} reported faulty."
    assert "is not in this delivery (it is lost)" in results["results"][1]["message"]
    assert db.session.get(Device, broken.id).status == "faulty"
    event = db.session.scalar(sa.select(DeviceEvent).where(DeviceEvent.type == "reported_faulty"))
    assert event.delivery_id == delivery_id and event.details["note"] == "screen cracked"
    assert event.client_time.isoformat() == "2026-11-23T10:00:00+00:00"
