"""The school signs for what it receives: it sees what is coming, confirms from its own
account or with a receipt signed on its phone, both sides are matched tablet by tablet,
and no receipt the agent could make alone confirms anything."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from receipt_signer import Phone

from conftest import handover_form, login, text_of, token_for
from tracker.dashboard.alerts import alert_counts, alerts
from tracker.database import utcnow
from tracker.deliveries import handover, receipts
from tracker.deliveries.models import Delivery, DeliveryItem, PhoneKey, SchoolReceipt
from tracker.errors import NotFound, ValidationFailed
from tracker.extensions import db
from tracker.messages.models import OutboxMessage
from tracker.schools.models import SchoolStaff
from tracker.timezone import local_today


@pytest.fixture
def school(delivery_setting, create_user):
    """School A's head teacher with a registered phone, and its delivery on the road."""
    from conftest import dispatched_delivery

    s = delivery_setting
    head = create_user("school", email="head@amal.ma")
    # The school's head teacher for years: staff long before the box left.
    since = utcnow() - timedelta(days=300)
    db.session.add(SchoolStaff(user_id=head.id, school_id=s["school_a"].id, added_at=since))
    db.session.commit()
    phone = Phone()
    phone.key_id = receipts.register_key(head, phone.public_key, "Samsung A14").id
    db.session.commit()
    s["head"], s["phone"] = head, phone
    s["delivery_id"] = dispatched_delivery(s)
    return s


def _delivery(s) -> Delivery:
    db.session.expire_all()
    return db.session.get(Delivery, s["delivery_id"])


def _ids(s) -> list[int]:
    return sorted(d.id for d in s["a_devices"])


def _agent_hands_over(s, **extra) -> Delivery:
    for device in s["a_devices"]:
        handover.field_scan(s["delivery_id"], device.asset_tag, s["agent"])
    form = handover_form()
    done = handover.confirm_handover(
        s["delivery_id"],
        actor=s["agent"],
        recipient_name=form["recipient_name"],
        recipient_role=form["recipient_role"],
        signature=form["signature"],
        no_code_reason="no phone",
        **extra,
    )
    db.session.commit()
    return done


def _sync(client, headers, *actions):
    answer = client.post("/api/v1/sync", json={"actions": list(actions)}, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["results"]


def _handover_action(s, receipt: str, n: int = 1) -> dict:
    form = handover_form()
    return {
        "id": f"handover-{n:04d}",
        "type": "handover",
        "delivery_id": s["delivery_id"],
        "recipient_name": form["recipient_name"],
        "recipient_role": form["recipient_role"],
        "signature": form["signature"],
        "no_code_reason": "the head teacher signed on her phone",
        "school_receipt": receipt,
    }


def _scan_actions(s) -> list[dict]:
    return [
        {
            "id": f"scan-{n:04d}",
            "type": "scan",
            "delivery_id": s["delivery_id"],
            "code": d.asset_tag,
        }
        for n, d in enumerate(s["a_devices"])
    ]


# --- 1. the school sees what is coming --------------------------------------------------


def test_school_staff_see_their_delivery_from_dispatch_on_and_are_told(client, school, create_user):
    s = school
    headers = token_for(s["head"])
    listed = client.get("/api/v1/my-school/deliveries", headers=headers).get_json()
    (one,) = listed["deliveries"]
    assert one["reference"] == f"DEL-{s['delivery_id']:05d}"
    assert one["agent"] == s["agent"].display_name
    assert sorted(t["id"] for t in one["tablets"]) == _ids(s)
    assert one["receipt"] is None
    # Told at dispatch, by e-mail, as the school's contact is.
    told = db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.kind == "delivery_dispatched", OutboxMessage.user_id == s["head"].id
        )
    ).one()
    assert one["reference"] in told.subject and told.recipient == "head@amal.ma"
    # On My school, with a way to confirm it.
    login(client, s["head"])
    page = text_of(client.get("/my-school"))
    assert one["reference"] in page and "Confirm what you received" in page
    # Staff of another school see nothing of it.
    other = create_user("school")
    db.session.add(SchoolStaff(user_id=other.id, school_id=s["school_b"].id))
    db.session.commit()
    theirs = token_for(other)
    assert client.get("/api/v1/my-school/deliveries", headers=theirs).get_json() == {
        "deliveries": []
    }
    assert (
        client.get(f"/api/v1/my-school/deliveries/{s['delivery_id']}", headers=theirs).status_code
        == 404
    )


def test_a_delivery_not_yet_dispatched_is_not_shown_to_the_school(
    client, delivery_setting, create_user
):
    from tracker.deliveries import services

    s = delivery_setting
    head = create_user("school")
    db.session.add(SchoolStaff(user_id=head.id, school_id=s["school_a"].id))
    services.create_deliveries(
        s["plan"].id,
        actor=s["coordinator"],
        assigned_to_id=s["agent"].id,
        planned_on=None,
        school_ids=[s["school_a"].id],
    )
    db.session.commit()
    found = client.get("/api/v1/my-school/deliveries", headers=token_for(head)).get_json()
    assert found == {"deliveries": []}


# --- 2. confirmed from the school's account ----------------------------------------------


def test_the_school_confirms_from_its_account_and_the_hand_over_agrees(school):
    s = school
    receipt, problem = receipts.confirm_receipt(s["head"], s["delivery_id"], received=set(_ids(s)))
    db.session.commit()
    assert problem == "" and receipt.proof == "account" and receipt.matched == ""
    done = _agent_hands_over(s)
    assert done.receipt.matched == "agrees"
    assert receipts.proof_of(_delivery(s)) == "school_account"
    assert receipts.differences(_delivery(s)) == []


def test_a_school_receipt_sent_from_its_phones_queue_is_applied_once(client, school):
    s = school
    headers = token_for(s["head"])
    action = {
        "id": "receipt-0001",
        "type": "receipt",
        "delivery_id": s["delivery_id"],
        "received": _ids(s)[:2],
        "damaged": _ids(s)[2:],
        "at": utcnow().isoformat(),
    }
    (first,) = _sync(client, headers, action)
    (again,) = _sync(client, headers, action)
    assert first["status"] == "applied" and again["status"] == "duplicate"
    said = dict(
        db.session.execute(
            sa.select(DeliveryItem.device_id, DeliveryItem.school_said).where(
                DeliveryItem.delivery_id == s["delivery_id"]
            )
        ).all()
    )
    assert said == {i: ("received" if i in _ids(s)[:2] else "damaged") for i in _ids(s)}


def test_staff_of_another_school_cannot_confirm_a_delivery(school, create_user):
    s = school
    other = create_user("school")
    db.session.add(SchoolStaff(user_id=other.id, school_id=s["school_b"].id))
    db.session.commit()
    with pytest.raises(NotFound):
        receipts.confirm_receipt(other, s["delivery_id"], received=set(_ids(s)))


# --- 3. both sides, tablet by tablet ----------------------------------------------------


def test_where_the_sides_differ_the_office_is_alerted_naming_the_tablets(app, client, school):
    s = school
    first, *rest = s["a_devices"]
    receipts.confirm_receipt(
        s["head"],
        s["delivery_id"],
        received={d.id for d in rest},
        extras=[s["b_devices"][0].asset_tag],
    )
    db.session.commit()
    _agent_hands_over(s)
    assert _delivery(s).receipt.matched == "differs"
    assert alert_counts(local_today())["receipt_differs"] == 1
    with app.test_request_context():
        (alert,) = alerts("receipt_differs", local_today())
    detail = alert.detail.replace("\u2068", "").replace("\u2069", "")
    assert f"{first.asset_tag}: handed over by the agent, not received by the school" in detail
    assert s["b_devices"][0].asset_tag in detail
    # The delivery's page shows both sides.
    login(client, s["coordinator"])
    page = text_of(client.get(f"/deliveries/{s['delivery_id']}"))
    assert "not received by the school" in page and "confirmed from the school's account" in page


def test_an_unconfirmed_hand_over_is_an_alert_after_the_days_and_not_the_day_before(app, school):
    s = school
    _agent_hands_over(s)
    days = app.config["RECEIPT_DAYS"]
    delivery = _delivery(s)
    delivery.delivered_at = utcnow() - timedelta(days=days) + timedelta(minutes=1)
    db.session.commit()
    assert alert_counts(local_today())["receipt_missing"] == 0
    delivery.delivered_at = utcnow() - timedelta(days=days) - timedelta(minutes=1)
    db.session.commit()
    assert alert_counts(local_today())["receipt_missing"] == 1
    # A school with no staff account cannot confirm: no alert for it.
    db.session.execute(sa.delete(SchoolStaff))
    db.session.commit()
    assert alert_counts(local_today())["receipt_missing"] == 0


# --- 4. the phones shake hands ----------------------------------------------------------


def test_a_receipt_signed_on_the_schools_phone_confirms_the_agents_hand_over(client, school):
    s = school
    phone = s["phone"]
    text = phone.receipt(s["delivery_id"], len(_ids(s)), utcnow())
    headers = token_for(s["agent"])
    # The agent's manifest carries the school's public key, nothing to sign with.
    manifest = client.get(f"/api/v1/deliveries/{s['delivery_id']}", headers=headers).get_json()
    assert manifest["school_keys"] == [
        {"id": phone.key_id, "public_key": phone.public_key, "name": s["head"].display_name}
    ]
    results = _sync(client, headers, *_scan_actions(s), _handover_action(s, text))
    assert results[-1]["status"] == "applied" and "warning" not in results[-1]
    delivery = _delivery(s)
    assert receipts.proof_of(delivery) == "school_signed"
    assert delivery.receipt.brought_by_id == s["agent"].id
    assert delivery.receipt.user_id == s["head"].id and delivery.receipt.matched == "agrees"
    # The school's own phone sends the same receipt later: it is the same one.
    (same,) = _sync(
        client,
        token_for(s["head"]),
        {
            "id": "receipt-0002",
            "type": "receipt",
            "delivery_id": s["delivery_id"],
            "received": _ids(s),
            "signed": text,
        },
    )
    assert same["status"] == "applied"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SchoolReceipt)) == 1


def _refused_on_sync(client, s, text: str) -> tuple[dict, Delivery]:
    results = _sync(client, token_for(s["agent"]), *_scan_actions(s), _handover_action(s, text))
    return results[-1], _delivery(s)


def _flip(text: str) -> str:
    """One character of the signature changed, as a damaged or forged QR would be."""
    place = len(text) - 10
    return text[:place] + ("A" if text[place] != "A" else "B") + text[place + 1 :]


@pytest.mark.parametrize(
    "case",
    [
        "forged_signature",
        "altered_content",
        "other_delivery",
        "old",
        "revoked",
        "not_staff",
        "unreadable",
        "unknown_key",
    ],
)
def test_a_bad_receipt_is_refused_and_the_hand_over_stays_unconfirmed(
    client, school, create_user, case
):
    s = school
    phone, n = s["phone"], len(_ids(s))
    now = utcnow()
    if case == "forged_signature":
        text = _flip(phone.receipt(s["delivery_id"], n, now))
    elif case == "altered_content":
        # The agent turns "one missing" into "all received" and keeps the signature.
        signed = phone.receipt(s["delivery_id"], n, now, missing=[0])
        body, signature = signed.rsplit(".", 1)
        parts = body.split(".")
        parts[5] = ""
        text = ".".join(parts) + "." + signature
    elif case == "other_delivery":
        text = phone.receipt(s["delivery_id"] + 1, n, now)
    elif case == "old":
        text = phone.receipt(s["delivery_id"], n, now - timedelta(days=30))
    elif case == "revoked":
        receipts.revoke_key(s["coordinator"], phone.key_id)
        db.session.commit()
        text = phone.receipt(s["delivery_id"], n, now)
    elif case == "not_staff":
        # A phone registered by someone who is not staff of this school (the agent's
        # accomplice with a school account elsewhere).
        stranger = create_user("school")
        db.session.add(SchoolStaff(user_id=stranger.id, school_id=s["school_b"].id))
        other = Phone()
        other.key_id = receipts.register_key(stranger, other.public_key).id
        db.session.commit()
        text = other.receipt(s["delivery_id"], n, now)
    elif case == "unknown_key":
        text = Phone().receipt(s["delivery_id"], n, now, key_id=9999)
    else:
        text = "TR1.not-a-receipt"
    answer, delivery = _refused_on_sync(client, s, text)
    assert answer["status"] == "applied" and answer["warning"] is True
    assert "not confirmed by the school" in answer["message"]
    assert delivery.status == "delivered"  # the hand-over is recorded
    assert delivery.receipt is None  # and nothing is falsely confirmed
    assert (
        delivery.receipt_refused
        == {
            "forged_signature": "forged",
            "altered_content": "forged",
            "other_delivery": "other_delivery",
            "old": "old",
            "revoked": "revoked",
            "not_staff": "not_staff",
            "unreadable": "unreadable",
            "unknown_key": "unknown_key",
        }[case]
    )
    assert receipts.proof_of(delivery) == "agent_only"


def test_a_receipt_signed_just_before_the_clock_skew_is_refused_and_just_after_is_not(school):
    s = school
    phone, n = s["phone"], len(_ids(s))
    delivery = _delivery(s)
    delivery.dispatched_at = left = delivery.dispatched_at.replace(microsecond=0)
    db.session.commit()
    # A receipt's time is in whole seconds: exactly the earliest allowed, and one before.
    late = phone.receipt(s["delivery_id"], n, left - receipts.CLOCK_SKEW)
    early = phone.receipt(s["delivery_id"], n, left - receipts.CLOCK_SKEW - timedelta(seconds=1))
    assert receipts.check_signed(late, _delivery(s))[0].delivery_id == s["delivery_id"]
    with pytest.raises(ValidationFailed) as refused:
        receipts.check_signed(early, _delivery(s))
    assert refused.value.reason == "old"


def test_a_receipt_with_another_count_of_tablets_is_refused(school):
    s = school
    text = s["phone"].receipt(s["delivery_id"], len(_ids(s)) + 1, utcnow())
    with pytest.raises(ValidationFailed) as refused:
        receipts.check_signed(text, _delivery(s))
    assert refused.value.reason == "tablets"


def test_a_signed_receipt_saying_one_missing_makes_the_sides_differ(client, school):
    s = school
    text = s["phone"].receipt(s["delivery_id"], len(_ids(s)), utcnow(), missing=[1])
    _sync(client, token_for(s["agent"]), *_scan_actions(s), _handover_action(s, text))
    delivery = _delivery(s)
    assert receipts.proof_of(delivery) == "school_signed"
    assert delivery.receipt.matched == "differs"
    second = sorted(s["a_devices"], key=lambda d: d.id)[1]
    assert [d.asset_tag for d in receipts.differences(delivery)] == [second.asset_tag]


# --- phones: registered, several, revoked ------------------------------------------------


def test_phone_keys_are_registered_checked_and_revoked_only_by_who_may(client, school, create_user):
    s = school
    headers = token_for(s["head"])
    second = Phone()
    made = client.post(
        "/api/v1/phone-keys",
        json={"public_key": second.public_key, "label": "Tablet"},
        headers=headers,
    )
    assert made.status_code == 201
    again = client.post(
        "/api/v1/phone-keys", json={"public_key": second.public_key}, headers=headers
    )
    assert again.get_json()["phone_key"]["id"] == made.get_json()["phone_key"]["id"]
    mine = client.get("/api/v1/phone-keys", headers=headers).get_json()["phone_keys"]
    assert len(mine) == 2  # a user may have several phones
    for bad, words in (
        ("not base64!", "could not be read"),
        ("QUJD", "could not be read"),
        (_p384_key(), "must be an ECDSA P-256 key"),
    ):
        refused = client.post("/api/v1/phone-keys", json={"public_key": bad}, headers=headers)
        assert refused.status_code == 400 and words in refused.get_json()["error"]
    # An agent cannot register a key for a school.
    agent = client.post(
        "/api/v1/phone-keys",
        json={"public_key": Phone().public_key},
        headers=token_for(s["agent"]),
    )
    assert agent.status_code == 403
    # Staff of another school cannot revoke it (it looks like it does not exist).
    other = create_user("school")
    db.session.add(SchoolStaff(user_id=other.id, school_id=s["school_b"].id))
    db.session.commit()
    login(client, other)
    assert client.post(f"/phones/{s['phone'].key_id}/revoke").status_code == 404
    assert db.session.get(PhoneKey, s["phone"].key_id).revoked_at is None
    # Its own owner can.
    client.post("/logout")
    login(client, s["head"])
    assert client.post(f"/phones/{s['phone'].key_id}/revoke").status_code == 302
    db.session.expire_all()
    assert db.session.get(PhoneKey, s["phone"].key_id).revoked_at is not None


def _p384_key() -> str:
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    der = (
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return base64.b64encode(der).decode()


def test_the_agent_cannot_confirm_from_a_school_account_it_does_not_have(client, school):
    s = school
    results = _sync(
        client,
        token_for(s["agent"]),
        {
            "id": "receipt-0009",
            "type": "receipt",
            "delivery_id": s["delivery_id"],
            "received": _ids(s),
        },
    )
    assert results[0]["status"] == "rejected"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SchoolReceipt)) == 0


# --- what an attacker tried (a review before this landed) --------------------------------


def test_an_account_made_the_schools_after_dispatch_cannot_confirm_or_sign(
    client, school, create_user
):
    s = school
    late = create_user("school")
    db.session.add(SchoolStaff(user_id=late.id, school_id=s["school_a"].id))  # now
    phone = Phone()
    phone.key_id = receipts.register_key(late, phone.public_key).id
    db.session.commit()
    with pytest.raises(ValidationFailed) as refused:
        receipts.confirm_receipt(late, s["delivery_id"], received=set(_ids(s)))
    assert "became this school's after" in str(refused.value)
    db.session.rollback()
    text = phone.receipt(s["delivery_id"], len(_ids(s)), utcnow())
    answer, delivery = _refused_on_sync(client, s, text)
    assert answer["warning"] is True and delivery.receipt_refused == "not_staff"


def test_the_agent_cannot_sign_their_own_hand_over_with_a_key_of_a_former_school_account(
    client, school
):
    s = school
    agent = s["agent"]
    # Once the school's staff, now its agent (the role changed; the link and key stayed).
    db.session.add(
        SchoolStaff(
            user_id=agent.id, school_id=s["school_a"].id, added_at=utcnow() - timedelta(days=90)
        )
    )
    phone = Phone()
    db.session.add(PhoneKey(user_id=agent.id, public_key=_der(phone)))
    db.session.commit()
    phone.key_id = db.session.scalar(sa.select(PhoneKey.id).where(PhoneKey.user_id == agent.id))
    manifest = client.get(
        f"/api/v1/deliveries/{s['delivery_id']}", headers=token_for(agent)
    ).get_json()
    assert phone.key_id not in [k["id"] for k in manifest["school_keys"]]
    answer, delivery = _refused_on_sync(
        client, s, phone.receipt(s["delivery_id"], len(_ids(s)), utcnow())
    )
    assert answer["warning"] is True and delivery.receipt_refused == "not_staff"


P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _der(phone: Phone) -> bytes:
    import base64

    return base64.b64decode(phone.public_key)


def test_a_delivery_failed_or_a_tablet_reported_lost_after_the_school_confirmed_it_differs(
    school,
):
    s = school
    receipts.confirm_receipt(s["head"], s["delivery_id"], received=set(_ids(s)))
    db.session.commit()
    lost = s["a_devices"][0]
    handover.report_device(s["delivery_id"], lost.asset_tag, "lost", s["agent"])
    for device in s["a_devices"][1:]:
        handover.field_scan(s["delivery_id"], device.asset_tag, s["agent"])
    form = handover_form()
    handover.confirm_handover(
        s["delivery_id"],
        actor=s["agent"],
        recipient_name=form["recipient_name"],
        recipient_role=form["recipient_role"],
        signature=form["signature"],
        no_code_reason="no phone",
    )
    db.session.commit()
    delivery = _delivery(s)
    assert delivery.receipt.matched == "differs"
    assert [d.asset_tag for d in receipts.differences(delivery)] == [lost.asset_tag]


def test_a_failed_delivery_the_school_said_it_received_differs(school):
    s = school
    receipts.confirm_receipt(s["head"], s["delivery_id"], received=set(_ids(s)))
    handover.fail_delivery(s["delivery_id"], s["agent"], "school closed")
    db.session.commit()
    delivery = _delivery(s)
    assert delivery.receipt.matched == "differs" and len(receipts.differences(delivery)) == 3


def test_a_key_number_past_any_id_is_an_unknown_key_not_a_server_error(school):
    s = school
    text = s["phone"].receipt(s["delivery_id"], len(_ids(s)), utcnow(), key_id=9_999_999_999)
    with pytest.raises(ValidationFailed) as refused:
        receipts.check_signed(text, _delivery(s))
    assert refused.value.reason == "unknown_key"


def test_control_characters_are_refused_in_a_label_notes_and_extras(school):
    s = school
    with pytest.raises(ValidationFailed):
        receipts.register_key(s["head"], Phone().public_key, "A14\x00")
    for extra in ({"notes": "n\x00o"}, {"extras": ["X\x07Y"]}):
        with pytest.raises(ValidationFailed):
            receipts.confirm_receipt(s["head"], s["delivery_id"], received=set(_ids(s)), **extra)
        db.session.rollback()


def test_the_same_receipt_with_its_signature_spelled_otherwise_is_the_same_receipt(client, school):
    """ECDSA's (r, s) and (r, n - s) both verify: the same statement, not a second one."""
    import base64

    s = school
    text = s["phone"].receipt(s["delivery_id"], len(_ids(s)), utcnow())
    body, signature = text.rsplit(".", 1)
    raw = base64.b32decode(signature + "=" * (-len(signature) % 8))
    r, sig_s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    other = r.to_bytes(32, "big") + (P256_ORDER - sig_s).to_bytes(32, "big")
    twin = f"{body}.{base64.b32encode(other).decode().rstrip('=')}"
    assert receipts.check_signed(twin, _delivery(s))
    _sync(client, token_for(s["agent"]), *_scan_actions(s), _handover_action(s, text))
    (again,) = _sync(
        client,
        token_for(s["head"]),
        {
            "id": "receipt-0003",
            "type": "receipt",
            "delivery_id": s["delivery_id"],
            "received": _ids(s),
            "signed": twin,
        },
    )
    assert again["status"] == "applied" and "warning" not in again


def test_the_schools_phone_syncs_first_then_the_agent_brings_the_same_signed_receipt(
    client, school
):
    s = school
    text = s["phone"].receipt(s["delivery_id"], len(_ids(s)), utcnow())
    (first,) = _sync(
        client,
        token_for(s["head"]),
        {
            "id": "receipt-0004",
            "type": "receipt",
            "delivery_id": s["delivery_id"],
            "received": _ids(s),
            "signed": text,
        },
    )
    assert first["status"] == "applied" and _delivery(s).receipt.matched == ""
    results = _sync(client, token_for(s["agent"]), *_scan_actions(s), _handover_action(s, text))
    assert "warning" not in results[-1]
    delivery = _delivery(s)
    assert receipts.proof_of(delivery) == "school_signed"
    assert delivery.receipt.matched == "agrees" and delivery.receipt.brought_by_id == s["agent"].id


def test_a_partly_handed_over_delivery_says_what_was_not_handed_over_not_still_to_scan(
    client, school
):
    """After the gate: a partial hand-over's page said "1 still to scan"."""
    s = school
    first, *rest = s["a_devices"]
    for device in rest:
        handover.field_scan(s["delivery_id"], device.asset_tag, s["agent"])
    form = handover_form()
    handover.confirm_handover(
        s["delivery_id"],
        actor=s["agent"],
        recipient_name=form["recipient_name"],
        recipient_role=form["recipient_role"],
        signature=form["signature"],
        reasons={first.id: "missing"},
        no_code_reason="no phone",
    )
    db.session.commit()
    login(client, s["coordinator"])
    page = text_of(client.get(f"/deliveries/{s['delivery_id']}"))
    assert "still to scan" not in page
    assert "2 handed over to the school" in page and "1 not handed over" in page
