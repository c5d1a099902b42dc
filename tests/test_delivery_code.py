"""A code only the school can give: sent by SMS at dispatch (through the stand-in gateway,
a real process), asked at the hand-over, checked against its salted hash on the server and
on the phone, never shown to the agent, and named on the proof of delivery and the donor
report."""

import io
import json
import logging
import re
from datetime import timedelta

import openpyxl
import pytest
import sqlalchemy as sa
from stdnum import damm

from conftest import (
    dispatched_delivery,
    download,
    handed_over,
    handover_form,
    login,
    text_of,
    token_for,
)
from tracker.database import utcnow
from tracker.deliveries import handover
from tracker.deliveries.models import Delivery, DeliveryCodeSending
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.messages.models import MessageAttempt, OutboxMessage
from tracker.schools.models import SchoolStaff
from tracker.timezone import local_today
from tracker.transaction import committed


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
    texts = [
        m["body"]["text"]
        for m in map(json.loads, wired["sms"].read_text().splitlines())
        if "Code" in m["body"]["text"]
    ]
    [sms] = texts
    printed = re.search(r"\b(\d{3} \d{4})\b", sms).group(1)
    return {
        **s,
        "delivery_id": delivery_id,
        "code": printed.replace(" ", ""),
        "printed": printed,
        "sms": sms,
        "caplog": caplog,
    }


def wrong_code(right: str) -> str:
    """A well-formed code (its check digit right) that is not the school's."""
    for n in range(1_000_000):
        digits = f"{n:06d}"
        code = digits + damm.calc_check_digit(digits)
        if code != right:
            return code
    raise AssertionError


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


def school_head(c, create_user):
    """The school's head teacher, staff since before the box left."""
    head = create_user("school", email="head@school.test")
    since = utcnow() - timedelta(days=30)
    db.session.add(SchoolStaff(user_id=head.id, school_id=c["school_a"].id, added_at=since))
    db.session.commit()
    return head


def test_the_code_is_sealed_has_a_check_digit_and_nothing_derived_from_it_leaves(client, coded):
    c = coded
    delivery = db.session.get(Delivery, c["delivery_id"])
    assert "Donnez-le à l’agent" in c["sms"]  # in the school's language
    assert damm.is_valid(c["code"]) and len(c["code"]) == 7  # printed `123 4567`
    # Kept sealed with the server's key: neither the code nor a hash of it in the row.
    assert delivery.code_sealed and c["code"] not in delivery.code_sealed
    assert delivery.code_hash == delivery.code_salt == ""
    # The outbox kept the message with a {code} placeholder; the sealed copy is erased.
    message = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "delivery_code")
    ).one()
    assert "{code}" in message.body and message.sealed == "" and message.state == "sent"
    stored = [
        f"{m.body} {m.subject} {m.sealed}" for m in db.session.scalars(sa.select(OutboxMessage))
    ]
    stored += [a.detail for a in db.session.scalars(sa.select(MessageAttempt))]
    assert not [text for text in stored if c["code"] in text or c["printed"] in text]
    assert c["code"] not in c["caplog"].text and c["printed"] not in c["caplog"].text
    # Neither the agent, nor the office, nor a manager get the code or anything derived
    # from it: the phone learns only how a code is written.
    for who in ("agent", "coordinator", "manager"):
        login(client, c[who])
        page = client.get(f"/deliveries/{c['delivery_id']}").get_data(as_text=True)
        answer = client.get(f"/api/v1/deliveries/{c['delivery_id']}")
        text = answer.get_data(as_text=True)
        for secret in (c["code"], c["printed"], delivery.code_sealed):
            assert secret not in page and secret not in text
        if who == "agent":
            check = answer.get_json()["school_code_check"]
            assert check == {
                "digits": 7,
                "check_digit": "damm",
                "expires_on": delivery.code_expires_on.isoformat(),
            }
        client.post("/logout")


def test_the_schools_own_staff_see_the_code_in_their_account(client, coded, create_user):
    c = coded
    head = school_head(c, create_user)
    login(client, head)
    page = client.get("/my-school")
    assert c["printed"] in text_of(page)
    # Another school's staff do not.
    other = create_user("school", email="other@school.test")
    since = utcnow() - timedelta(days=30)
    db.session.add(SchoolStaff(user_id=other.id, school_id=c["school_b"].id, added_at=since))
    db.session.commit()
    client.post("/logout")
    login(client, other)
    assert c["printed"] not in client.get("/my-school").get_data(as_text=True)


def test_the_right_code_confirms_the_hand_over_and_the_papers_say_so(client, coded):
    c = coded
    hand_over(c, school_code=f" {c['printed']} ")  # as printed, with spaces
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


def test_a_mistyped_digit_is_caught_without_spending_a_try(coded):
    c = coded
    code = c["code"]
    typo = code[:2] + str((int(code[2]) + 1) % 10) + code[3:]
    swapped = code[1] + code[0] + code[2:] if code[0] != code[1] else typo
    for attempt in (typo, swapped, code[:6]):
        with pytest.raises(ValidationFailed, match="A digit of the code is mistyped"):
            hand_over(c, school_code=attempt)
        db.session.rollback()
    assert db.session.get(Delivery, c["delivery_id"]).code_tries == 0


def test_wrong_codes_are_counted_even_when_refused_and_five_end_the_code(client, coded):
    c = coded
    login(client, c["agent"])
    wrong = wrong_code(c["code"])
    for attempt in range(1, 6):
        answer = client.post(
            f"/deliveries/{c['delivery_id']}/handover",
            data={**handover_form(), "school_code": wrong},
        )
        assert answer.status_code == 422
        assert "This is not the school's code" in text_of(answer)
        db.session.expire_all()
        assert db.session.get(Delivery, c["delivery_id"]).code_tries == attempt
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


def test_the_fourth_wrong_code_leaves_one_try_for_the_right_one(client, coded):
    """The limit's edge: four wrong, then the right code still works (five tries in all)."""
    c = coded
    wrong = wrong_code(c["code"])
    for _attempt in range(4):
        with pytest.raises(ValidationFailed, match="not the school's code"):
            committed(lambda: hand_over(c, school_code=wrong))
    committed(lambda: hand_over(c, school_code=c["code"]))
    assert db.session.get(Delivery, c["delivery_id"]).handover_confirmation == "code"


def test_a_batch_of_guesses_in_one_sync_is_counted_one_by_one(client, coded):
    c = coded
    headers = token_for(c["agent"])
    base = {
        "type": "handover",
        "delivery_id": c["delivery_id"],
        "recipient_name": "Mme Naima Alaoui",
        "recipient_role": "Directrice",
        "signature": handover_form()["signature"],
    }
    guesses = []
    n = 0
    while len(guesses) < 20:
        digits = f"{n:06d}"
        n += 1
        guess = digits + damm.calc_check_digit(digits)
        if guess != c["code"]:
            guesses.append(guess)
    guesses.append(c["code"])  # the right one, last: too late
    answer = client.post(
        "/api/v1/sync",
        headers=headers,
        json={
            "actions": [
                {**base, "id": f"guess-{i:04d}", "school_code": guess}
                for i, guess in enumerate(guesses)
            ]
        },
    ).get_json()
    messages = [result["message"] for result in answer["results"]]
    assert all(r["status"] == "rejected" for r in answer["results"])
    assert sum("not the school's code" in m for m in messages) == 5
    assert sum("Too many wrong codes" in m for m in messages) == 16
    db.session.expire_all()
    delivery = db.session.get(Delivery, c["delivery_id"])
    assert delivery.code_tries == 5 and delivery.status == "dispatched"


def test_a_code_typed_offline_is_judged_on_sync_and_a_wrong_one_is_an_alert(client, coded):
    c = coded
    headers = token_for(c["agent"])
    action = {
        "type": "handover",
        "id": "handover-offline-1",
        "delivery_id": c["delivery_id"],
        "recipient_name": "Mme Naima Alaoui",
        "recipient_role": "Directrice",
        "signature": handover_form()["signature"],
        "school_code": wrong_code(c["code"]),
        "code_typed_offline": True,
    }
    answer = client.post("/api/v1/sync", headers=headers, json={"actions": [action]}).get_json()
    assert answer["results"][0]["status"] == "applied", answer
    # The agent's phone says so at once: recorded, not confirmed by the school.
    assert answer["results"][0]["warning"] is True
    assert "not confirmed by the school" in answer["results"][0]["message"]
    db.session.expire_all()
    delivery = db.session.get(Delivery, c["delivery_id"])
    assert delivery.status == "delivered" and delivery.handover_confirmation == "code_wrong"
    login(client, c["coordinator"])
    page = text_of(client.get(f"/deliveries/{delivery.id}"))
    assert "not confirmed by the school: the code typed offline was wrong" in page
    alerts = text_of(client.get("/alerts?kind=not_confirmed"))
    assert delivery.reference in alerts
    assert "Hand-overs the school's code did not confirm" in alerts


def test_a_right_code_typed_offline_confirms_with_its_verdict(client, coded):
    c = coded
    action = {
        "type": "handover",
        "id": "handover-offline-2",
        "delivery_id": c["delivery_id"],
        "recipient_name": "Mme Naima Alaoui",
        "recipient_role": "Directrice",
        "signature": handover_form()["signature"],
        "school_code": c["code"],
        "code_typed_offline": True,
    }
    answer = client.post(
        "/api/v1/sync", headers=token_for(c["agent"]), json={"actions": [action]}
    ).get_json()
    assert answer["results"][0]["status"] == "applied", answer
    delivery = db.session.get(Delivery, c["delivery_id"])
    assert delivery.handover_confirmation == "code_offline"
    login(client, c["coordinator"])
    assert "typed offline, checked on sync" in text_of(client.get(f"/deliveries/{delivery.id}"))
    assert delivery.reference not in text_of(client.get("/alerts?kind=not_confirmed"))


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


def test_a_code_still_works_on_its_last_day(coded):
    db.session.get(Delivery, coded["delivery_id"]).code_expires_on = local_today()
    db.session.commit()
    hand_over(coded, school_code=coded["code"])
    assert db.session.get(Delivery, coded["delivery_id"]).handover_confirmation == "code"


def test_a_new_code_replaces_the_old_one_says_why_and_is_limited(client, coded, wired, app):
    c = coded
    login(client, c["coordinator"])
    page = text_of(client.get(f"/deliveries/{c['delivery_id']}"))
    assert "The school received its delivery code by SMS" in page
    answer = client.post(f"/deliveries/{c['delivery_id']}/resend-code", follow_redirects=True)
    assert "Say why the school needs a new code" in text_of(answer)
    answer = client.post(
        f"/deliveries/{c['delivery_id']}/resend-code",
        data={"reason": "Le téléphone du directeur a été volé"},
        follow_redirects=True,
    )
    assert "A new code is on its way to the school by SMS" in text_of(answer)
    assert "Le téléphone du directeur a été volé" in text_of(answer)  # who and why, kept
    sendings = db.session.scalars(sa.select(DeliveryCodeSending)).all()
    assert [(x.reason, x.sent_by_id) for x in sendings][1] == (
        "Le téléphone du directeur a été volé",
        c["coordinator"].id,
    )
    codes = [
        re.search(r"\b(\d{3} \d{4})\b", m["body"]["text"]).group(1).replace(" ", "")
        for m in map(json.loads, wired["sms"].read_text().splitlines())
        if "Code" in m["body"]["text"]
    ]
    assert len(codes) == 2
    if codes[0] != codes[1]:
        with pytest.raises(ValidationFailed, match="not the school's code"):
            hand_over(c, school_code=codes[0])
        db.session.rollback()
    # At most DELIVERY_CODE_RESENDS new codes per delivery (3): the fourth is refused.
    for n in (2, 3):
        client.post(f"/deliveries/{c['delivery_id']}/resend-code", data={"reason": f"n{n}"})
    answer = client.post(
        f"/deliveries/{c['delivery_id']}/resend-code",
        data={"reason": "encore"},
        follow_redirects=True,
    )
    assert "already had 3 new codes" in text_of(answer)
    assert len(db.session.scalars(sa.select(DeliveryCodeSending)).all()) == 4
    client.post("/logout")
    login(client, c["agent"])
    answer = client.post(f"/deliveries/{c['delivery_id']}/resend-code", data={"reason": "x"})
    assert answer.status_code == 403


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
    wrong = wrong_code(c["code"])
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


def test_a_refused_code_keeps_everything_typed_and_the_photo_for_the_retry(client, coded):
    """A wrong code sends the page back with the name, the signature and the photo taken:
    the retry with the right code saves the proof with that photo, not without it."""
    from PIL import Image

    c = coded
    login(client, c["agent"])
    picture = io.BytesIO()
    Image.new("RGB", (800, 600), (20, 120, 200)).save(picture, "JPEG")
    refused = client.post(
        f"/deliveries/{c['delivery_id']}/handover",
        data={
            **handover_form(),
            "notes": "Carton ouvert devant la directrice",
            "school_code": wrong_code(c["code"]),
            "photo": (io.BytesIO(picture.getvalue()), "remise.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'data-testid="photo-kept"' in page
    assert "Mme Naima Alaoui" in page and "Carton ouvert devant la directrice" in page
    kept = re.search(r'name="photo_kept"[^>]*value="(data:image/jpeg;base64,[^"]+)"', page)
    kept = kept or re.search(r'value="(data:image/jpeg;base64,[^"]+)"[^>]*name="photo_kept"', page)
    assert kept is not None
    assert db.session.get(Delivery, c["delivery_id"]).photo_jpeg is None
    # The retry sends what the page kept, and no new file.
    client.post(
        f"/deliveries/{c['delivery_id']}/handover",
        data={**handover_form(), "school_code": c["code"], "photo_kept": kept.group(1)},
    )
    db.session.expire_all()
    delivery = db.session.get(Delivery, c["delivery_id"])
    assert delivery.handover_confirmation == "code"
    assert delivery.photo_jpeg is not None
    assert Image.open(io.BytesIO(delivery.photo_jpeg)).size == (800, 600)
