"""A code only the school can give: sent by SMS at dispatch (through the stand-in gateway,
a real process), asked at the hand-over, checked against its salted hash on the server and
on the phone, never shown to the agent, and named on the proof of delivery and the donor
report."""

import hashlib
import io
import json
import logging
import re
from datetime import timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from conftest import (
    dispatched_delivery,
    download,
    handed_over,
    handover_form,
    login,
    text_of,
    token_for,
)
from tracker.deliveries import handover
from tracker.deliveries.models import Delivery
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.messages.models import MessageAttempt, OutboxMessage
from tracker.timezone import local_today


@pytest.fixture
def coded(wired, delivery_setting, caplog):
    """A dispatched delivery whose school has a phone: its code, as the school read it."""
    caplog.set_level(logging.DEBUG)
    s = delivery_setting
    s["school_a"].contact_phone = "+212 611 22 33 44"
    s["school_a"].contact_language = "fr"
    db.session.commit()
    delivery_id = dispatched_delivery(s, planned_on=local_today())
    for device in s["a_devices"]:
        handover.field_scan(delivery_id, device.asset_tag, s["agent"])
    db.session.commit()
    [sms] = [
        m["body"]["text"]
        for m in map(json.loads, wired["sms"].read_text().splitlines())
        if "Code" in m["body"]["text"]
    ]
    code = re.search(r"\b(\d{6})\b", sms).group(1)
    return {**s, "delivery_id": delivery_id, "code": code, "sms": sms, "caplog": caplog}


def hand_over(c, **extra):
    form = handover_form()
    return handover.confirm_handover(
        c["delivery_id"],
        actor=c["agent"],
        recipient_name=form["recipient_name"],
        recipient_role=form["recipient_role"],
        signature=form["signature"],
        **extra,
    )


def test_only_a_salted_hash_is_kept_and_the_code_is_nowhere_else(client, coded):
    c = coded
    delivery = db.session.get(Delivery, c["delivery_id"])
    assert "Donnez-le à l’agent" in c["sms"]  # in the school's language
    salt = bytes.fromhex(delivery.code_salt)
    assert (
        delivery.code_hash == hashlib.pbkdf2_hmac("sha256", c["code"].encode(), salt, 100_000).hex()
    )
    # The outbox kept the message with a {code} placeholder; the sealed copy is erased.
    message = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "delivery_code")
    ).one()
    assert "{code}" in message.body and message.sealed == "" and message.state == "sent"
    stored = [
        f"{m.body} {m.subject} {m.sealed}" for m in db.session.scalars(sa.select(OutboxMessage))
    ]
    stored += [a.detail for a in db.session.scalars(sa.select(MessageAttempt))]
    assert not [text for text in stored if c["code"] in text]
    assert c["code"] not in c["caplog"].text
    # Neither the agent's page and API answer, nor the office's page, show it.
    for who in ("agent", "coordinator"):
        login(client, c[who])
        page = client.get(f"/deliveries/{c['delivery_id']}").get_data(as_text=True)
        answer = client.get(f"/api/v1/deliveries/{c['delivery_id']}").get_data(as_text=True)
        assert c["code"] not in page and c["code"] not in answer
        client.post("/logout")


def test_the_phone_gets_what_checks_the_code_offline_and_it_works(client, coded):
    c = coded
    login(client, c["agent"])
    check = client.get(f"/api/v1/deliveries/{c['delivery_id']}").get_json()["school_code_check"]
    assert set(check) == {"salt", "hash", "iterations", "tries", "expires_on"}
    derived = hashlib.pbkdf2_hmac(
        "sha256", c["code"].encode(), bytes.fromhex(check["salt"]), check["iterations"]
    )
    assert derived.hex() == check["hash"] and check["tries"] == 3


def test_the_right_code_confirms_the_hand_over_and_the_papers_say_so(client, coded):
    c = coded
    hand_over(c, school_code=f" {c['code'][:3]} {c['code'][3:]} ")  # as typed, with spaces
    db.session.commit()
    delivery = db.session.get(Delivery, c["delivery_id"])
    assert delivery.handover_confirmation == "code"
    login(client, c["coordinator"])
    assert "Confirmation: confirmed with the school's code." in text_of(
        client.get(f"/deliveries/{delivery.id}")
    )
    receipt = client.get(f"/deliveries/{delivery.id}/receipt.pdf").data
    from pypdfium2 import PdfDocument

    text = "".join(page.get_textpage().get_text_range() for page in PdfDocument(receipt))
    assert "confirmée avec le code de l’école" in text
    book = openpyxl.load_workbook(
        io.BytesIO(download(client, f"/donations/{c['plan'].donation_id}/report.xlsx").data)
    )
    sheet = book["Deliveries"]
    header = [cell.value for cell in sheet[1]]
    assert (
        sheet.cell(2, header.index("Confirmation") + 1).value == "confirmed with the school's code"
    )


def test_wrong_codes_are_counted_even_when_refused_and_five_end_the_code(client, coded):
    c = coded
    login(client, c["agent"])
    wrong = "000000" if c["code"] != "000000" else "111111"
    for _attempt in range(5):
        answer = client.post(
            f"/deliveries/{c['delivery_id']}/handover",
            data={**handover_form(), "school_code": wrong},
        )
        assert answer.status_code == 422
        assert "This is not the school's code" in text_of(answer)
    assert db.session.get(Delivery, c["delivery_id"]).code_tries == 5
    answer = client.post(
        f"/deliveries/{c['delivery_id']}/handover",
        data={**handover_form(), "school_code": c["code"]},
    )
    assert "Too many wrong codes" in text_of(answer)
    client.post(
        f"/deliveries/{c['delivery_id']}/handover",
        data={**handover_form(), "no_code_reason": "Le directeur était absent"},
    )
    delivery = db.session.get(Delivery, c["delivery_id"])
    assert (delivery.handover_confirmation, delivery.no_code_reason) == (
        "no_code",
        "Le directeur était absent",
    )


def test_neither_a_code_nor_a_reason_is_refused(coded):
    with pytest.raises(ValidationFailed, match="or say why you hand over without it"):
        hand_over(coded)


def test_an_expired_code_is_refused(coded):
    db.session.get(Delivery, coded["delivery_id"]).code_expires_on = local_today() - timedelta(
        days=1
    )
    db.session.commit()
    with pytest.raises(ValidationFailed, match="has expired"):
        hand_over(coded, school_code=coded["code"])


def test_a_new_code_replaces_the_old_one(client, coded, wired):
    c = coded
    login(client, c["coordinator"])
    page = text_of(client.get(f"/deliveries/{c['delivery_id']}"))
    assert "The school received its delivery code by SMS" in page
    answer = client.post(f"/deliveries/{c['delivery_id']}/resend-code", follow_redirects=True)
    assert "A new code is on its way to the school by SMS" in text_of(answer)
    codes = [
        re.search(r"\b(\d{6})\b", m["body"]["text"]).group(1)
        for m in map(json.loads, wired["sms"].read_text().splitlines())
        if "Code" in m["body"]["text"]
    ]
    assert len(codes) == 2
    with pytest.raises(ValidationFailed, match="not the school's code"):
        hand_over(c, school_code=codes[0]) if codes[0] != codes[1] else hand_over(
            c, school_code="x"
        )
    db.session.rollback()
    hand_over(c, school_code=codes[1])
    db.session.commit()
    assert db.session.get(Delivery, c["delivery_id"]).handover_confirmation == "code"
    client.post("/logout")
    login(client, c["agent"])
    assert client.post(f"/deliveries/{c['delivery_id']}/resend-code").status_code == 403


def test_the_offline_sync_checks_the_code_again(client, coded):
    c = coded
    headers = token_for(c["agent"])
    base = {
        "type": "handover",
        "delivery_id": c["delivery_id"],
        "recipient_name": "Mme Naima Alaoui",
        "recipient_role": "Directrice",
        "signature": handover_form()["signature"],
    }
    wrong = "000000" if c["code"] != "000000" else "111111"
    answer = client.post(
        "/api/v1/sync",
        headers=headers,
        json={"actions": [{**base, "id": "handover-wrong-1", "school_code": wrong}]},
    ).get_json()
    assert answer["results"][0]["status"] == "rejected"
    assert "not the school's code" in answer["results"][0]["message"]
    answer = client.post(
        "/api/v1/sync",
        headers=headers,
        json={"actions": [{**base, "id": "handover-right-1", "school_code": c["code"]}]},
    ).get_json()
    assert answer["results"][0]["status"] == "applied", answer
    assert db.session.get(Delivery, c["delivery_id"]).handover_confirmation == "code"


def test_a_school_without_a_phone_gets_no_code_and_the_hand_over_says_so(delivery_setting):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    handed_over(s, delivery_id)
    assert db.session.get(Delivery, delivery_id).handover_confirmation == "none_sent"
