"""Messages out: the school told of its delivery by SMS and e-mail in its language, the
proof of delivery sent at the hand-over, approvers told of a plan, the morning's digest;
through a real SMTP server (aiosmtpd) and a stand-in SMS gateway, each a process started
here; retried, recorded, and turned off by the programme or by each user."""

import json
import mailbox
import re
from datetime import timedelta
from email.header import decode_header, make_header
from pathlib import Path

import sqlalchemy as sa

from conftest import dispatched_delivery, handed_over, login, text_of
from tracker.database import utcnow
from tracker.deliveries.models import Delivery
from tracker.extensions import db
from tracker.messages.models import MessageAttempt, OutboxMessage
from tracker.messages.services import send_due
from tracker.timezone import local_today


def emails(folder: Path) -> list:
    if not folder.exists():
        return []
    return sorted(mailbox.Maildir(folder, create=False), key=lambda m: m["Subject"] or "")


def subject_of(mail) -> str:
    return str(make_header(decode_header(mail["Subject"])))


def text_part(mail) -> str:
    for part in mail.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    return ""


def sms_sent(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_a_dispatch_tells_the_school_by_sms_and_email_in_its_language(wired, delivery_setting):
    s = delivery_setting
    school = s["school_a"]
    school.contact_phone, school.contact_email = "+212 612 34 56 78", "amal@ecole.example"
    school.contact_language = "ar"
    db.session.commit()
    delivery_id = dispatched_delivery(s, planned_on=local_today() + timedelta(days=1))

    code_sms, sms = sms_sent(wired["sms"])  # the school's code first, then the notice
    assert re.search(r"DEL-\d{5}.*\b\d{3} \d{4}\b", code_sms["body"]["text"])
    assert sms["auth"] == "Bearer gateway-secret"
    assert sms["body"]["to"] == "+212 612 34 56 78" and sms["body"]["from"] == "TRACKER"
    text = sms["body"]["text"]
    assert f"DEL-{delivery_id:05d}" in text and "مدرسة الأمل" in text and "3" in text
    assert s["agent"].display_name in text
    [mail] = [m for m in emails(wired["maildir"]) if m["To"] == "amal@ecole.example"]
    assert f"DEL-{delivery_id:05d}" in subject_of(mail)
    assert "مدرسة الأمل" in text_part(mail)
    sent = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "delivery_dispatched")
    ).all()
    assert {(m.channel, m.state, m.language) for m in sent} == {
        ("sms", "sent", "ar"),
        ("email", "sent", "ar"),
    }
    assert all(m.attempts == 1 for m in sent)


def test_the_hand_over_sends_its_proof_to_the_school_and_the_coordinator(wired, delivery_setting):
    s = delivery_setting
    s["school_a"].contact_email = "amal@ecole.example"
    s["coordinator"].locale = "fr"
    db.session.commit()
    delivery_id = dispatched_delivery(s)
    handed_over(s, delivery_id)
    told = {
        m["To"]: m
        for m in emails(wired["maildir"])
        if "remise" in subject_of(m).lower() or "handed" in subject_of(m).lower()
    }
    assert set(told) == {"amal@ecole.example", s["coordinator"].email}
    for mail in told.values():
        [pdf] = [part for part in mail.walk() if part.get_content_type() == "application/pdf"]
        assert pdf.get_filename() == f"DEL-{delivery_id:05d}-recu.pdf"
        assert pdf.get_payload(decode=True).startswith(b"%PDF")
        assert "Mme Naima Alaoui" in text_part(mail)
    assert "remise" in subject_of(told[s["coordinator"].email]).lower()  # in French


def test_a_gateway_that_refuses_is_tried_again_then_the_message_marked_failed(
    wired, delivery_setting
):
    s = delivery_setting
    s["school_a"].contact_phone = "+212 600 00 00 01"
    db.session.commit()
    wired["sms"].with_suffix(".fail").touch()
    dispatched_delivery(s)
    message = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "delivery_dispatched")
    ).one()
    assert (message.state, message.attempts) == ("queued", 1)
    assert "HTTP 503" in message.last_error
    assert message.next_attempt_at > utcnow()
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id != message.id)
        .values(state="sent")  # only this one left to try
    )
    db.session.commit()
    assert send_due() == 0  # not due yet: nothing tried
    message.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    send_due()
    db.session.refresh(message)
    assert (message.state, message.attempts) == ("failed", 2)
    assert db.session.query(MessageAttempt).filter_by(message_id=message.id).count() == 2
    assert sms_sent(wired["sms"]) == []


def test_a_message_tried_again_when_the_gateway_is_back_is_sent_once(wired, delivery_setting):
    s = delivery_setting
    s["school_a"].contact_phone = "+212 600 00 00 02"
    db.session.commit()
    wired["sms"].with_suffix(".fail").touch()
    dispatched_delivery(s)
    wired["sms"].with_suffix(".fail").unlink()
    db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))
    db.session.commit()
    assert send_due() == 2  # the school's code and the notice
    assert send_due() == 0
    assert len(sms_sent(wired["sms"])) == 2


def test_approvers_hear_of_a_submitted_plan_but_its_submitter_and_who_turned_it_off(
    app, client, create_user, create_school, create_device
):
    from tracker.allocations import services as plans

    admin, manager, quiet = create_user("admin"), create_user("manager"), create_user("manager")
    coordinator = create_user("coordinator")
    login(client, quiet)
    client.post("/account/messages", data={"kind": ["delivery_dispatched"]})
    client.post("/logout")
    device = create_device()
    school = create_school(need=1)
    plan = plans.create_plan(name="Rentrée", donation_id=device.donation_id, actor=admin)
    plans.propose_plan(plan.id, total=1, school_ids=[school.id], actor=admin)
    plans.submit_plan(plan.id, admin)
    db.session.commit()
    told = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "plan_submitted")
    ).all()
    assert [m.recipient for m in told] == [manager.email]  # not the admin who submitted
    assert "Rentrée" in told[0].subject and f"/plans/{plan.id}" in told[0].body
    assert coordinator.email not in {m.recipient for m in told}


def test_the_programme_turns_a_kind_off_for_everyone(app, delivery_setting):
    app.config["MESSAGES_OFF"] = "delivery_dispatched, overdue_digest"
    s = delivery_setting
    s["school_a"].contact_phone = "+212 600 00 00 03"
    db.session.commit()
    dispatched_delivery(s)
    assert db.session.query(OutboxMessage).filter_by(kind="delivery_dispatched").count() == 0


def test_the_morning_digest_lists_the_late_deliveries_for_the_office(app, delivery_setting):
    from tracker.dashboard.digest import send_overdue_digest

    s = delivery_setting
    late = dispatched_delivery(s, planned_on=local_today() - timedelta(days=2))
    assert send_overdue_digest() >= 1
    digest = db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.kind == "overdue_digest",
            OutboxMessage.recipient == s["coordinator"].email,
        )
    ).one()
    assert f"DEL-{late:05d}" in digest.body and f"/deliveries/{late}" in digest.body
    assert digest.body.count("https://tracker.example.org/") >= 1
    # Each worker's scheduler asks for it: only the first queues it that day.
    assert send_overdue_digest() == 0


def test_no_message_carries_a_qr_token_or_a_password(app, delivery_setting):
    s = delivery_setting
    s["school_a"].contact_phone, s["school_a"].contact_email = "+212 600 00 00 04", "a@b.example"
    db.session.commit()
    delivery_id = dispatched_delivery(s)
    handed_over(s, delivery_id, no_code_reason="the head teacher was away")
    bodies = [f"{m.subject} {m.body}" for m in db.session.scalars(sa.select(OutboxMessage))]
    bodies += [a.detail for a in db.session.scalars(sa.select(MessageAttempt))]
    assert len(bodies) >= 4
    delivery = db.session.get(Delivery, delivery_id)
    secrets = [d.qr_token for d in s["a_devices"] + s["b_devices"]] + ["correct horse battery"]
    # The school has a phone: it was sent a code (handed over without it, for a reason);
    # nothing of the code is kept once the tablets are handed over.
    assert delivery.handover_confirmation == "no_code" and delivery.code_sealed == ""
    assert not [secret for secret in secrets for body in bodies if secret in body]


def test_my_messages_and_the_outbox_pages(client, create_user, delivery_setting):
    s = delivery_setting
    s["school_a"].contact_phone = "+212 600 00 00 05"
    db.session.commit()
    dispatched_delivery(s)
    send_due()  # (however the outbox was sent meanwhile: every message tried once)
    db.session.commit()
    login(client, s["coordinator"])
    answer = client.get("/admin/messages")
    outbox, page = answer.get_data(as_text=True), text_of(answer)
    assert "+212 600 00 00 05" in page and "A delivery is on its way" in page
    # No gateway is set here: the SMS was written to the log only, and says so; the code
    # it carried is neither kept nor shown as a placeholder.
    assert 'data-testid="not-sent"' in outbox
    assert "{code}" not in page
    assert "A plan waits for my approval" in page
    mine = client.get("/account/messages").get_data(as_text=True)
    assert 'value="overdue_digest" checked' in mine
    assert "plan_submitted" not in mine  # a coordinator approves no plan
    assert "delivery_dispatched" not in mine  # a school's message, not a user's
    client.post("/account/messages", data={"kind": ["handover_confirmed"]})
    mine = client.get("/account/messages").get_data(as_text=True)
    assert 'value="overdue_digest" checked' not in mine
    assert 'value="handover_confirmed" checked' in mine
    client.post("/logout")
    login(client, s["agent"])
    assert client.get("/admin/messages").status_code == 403
