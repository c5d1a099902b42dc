"""Hardening III: no one can write what the record is there to check. An account cannot
be taken over through an invitation; no live secret stays at rest once its message left."""

import re

import sqlalchemy as sa

from conftest import login, text_of
from tracker.auth.models import User
from tracker.extensions import db
from tracker.messages.models import OutboxMessage
from tracker.schools.models import SchoolStaff


def _invite(client, school_id, email):
    return client.post(f"/schools/{school_id}/staff", data={"email": email, "name": "X"})


def test_inviting_someone_with_an_account_adds_the_school_and_gives_no_link(
    client, create_user, create_school
):
    first, second = create_school(name_fr="École Une"), create_school(name_fr="École Deux")
    head = create_user("school", email="head@school.ma", password="their own pw 1")
    db.session.add(SchoolStaff(user_id=head.id, school_id=first.id))
    db.session.commit()
    hash_before, key_before = head.password_hash, head.session_key
    # The head teacher is signed in on their own phone.
    phone = client.application.test_client()
    login(phone, head, password="their own pw 1")
    assert phone.get("/my-school").status_code == 200

    coordinator = create_user("coordinator")
    login(client, coordinator)
    answer = _invite(client, second.id, "Head@School.ma")
    assert answer.status_code == 302
    page = text_of(client.get(answer.headers["Location"]))
    assert "already has an account: the school was added to it" in page
    assert "/invitation" not in client.get(answer.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    head = db.session.get(User, head.id)
    assert (head.password_hash, head.session_key) == (hash_before, key_before)
    assert db.session.get(SchoolStaff, (head.id, second.id)) is not None
    # Told, with no link that sets a password.
    letter = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.recipient == "head@school.ma")
    ).one()
    assert "École Deux" in letter.body and "/invitation" not in letter.body
    assert not letter.sealed
    # Their session still works, and sees the new school.
    assert "École Deux" in text_of(phone.get(f"/my-school?school={second.id}"))


def test_someone_invited_who_never_used_their_link_gets_a_new_one(
    client, create_user, create_school
):
    school = create_school()
    login(client, create_user("coordinator"))
    _invite(client, school.id, "new@school.ma")
    again = _invite(client, school.id, "new@school.ma")
    assert again.status_code == 200
    assert re.search(r"/invitation#[A-Za-z0-9_-]{40,}", again.get_data(as_text=True))


def test_only_an_admin_resets_a_password_and_the_person_is_told(client, create_user):
    person = create_user("field", email="agent@prog.ma")
    coordinator, admin = create_user("coordinator"), create_user("admin")
    login(client, coordinator)
    form = {"pw-password": "a new password 9", "pw-confirm": "a new password 9"}
    assert client.post(f"/admin/users/{person.id}/password", data=form).status_code == 403
    client.post("/logout")
    login(client, admin)
    assert client.post(f"/admin/users/{person.id}/password", data=form).status_code == 302
    told = db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.recipient == "agent@prog.ma", OutboxMessage.kind == "password_reset"
        )
    ).one()
    assert admin.email in told.body or (admin.name and admin.name in told.body)


def _every_text(caplog_text: str) -> list[str]:
    """Every text and binary value of every table, and the logs."""
    found = [caplog_text]
    for table in db.metadata.sorted_tables:
        columns = [
            c
            for c in table.columns
            if isinstance(c.type, sa.String | sa.Text | sa.JSON | sa.LargeBinary)
        ]
        if not columns:
            continue
        for row in db.session.execute(sa.select(*columns)):
            found.extend(str(value) for value in row if value is not None)
    return found


def test_no_invitation_link_stays_at_rest_once_the_message_left(
    client, wired, create_user, create_school, caplog
):
    caplog.set_level("DEBUG")
    school = create_school()
    login(client, create_user("coordinator"))
    html = _invite(client, school.id, "fresh@school.ma").get_data(as_text=True)
    token = re.search(r"/invitation#([A-Za-z0-9_-]{40,})", html).group(1)
    # The e-mail went out (a real SMTP server, started by the test) with the working link.
    mails = "".join(p.read_text() for p in wired["maildir"].rglob("*") if p.is_file())
    assert token in mails.replace("=\n", "")
    db.session.expire_all()
    message = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "invitation")
    ).one()
    assert message.state == "sent" and message.sealed == ""
    assert not [text for text in _every_text(caplog.text) if token in text]


def _bomb_png() -> bytes:
    """A small PNG whose header declares 20000 x 20000 pixels (400 Mpx)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * 20001 * 64)  # a few rows: the rest is never decoded
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def test_a_picture_declaring_huge_dimensions_is_a_refused_field_never_a_500(delivery_setting):
    import base64

    import pytest

    from tracker.deliveries.media import clean_photo, clean_signature
    from tracker.errors import ValidationFailed

    bomb = _bomb_png()
    assert len(bomb) < 100_000
    for clean, field in ((clean_photo, "photo"), (clean_signature, "signature")):
        with pytest.raises(ValidationFailed, match="too large") as refused:
            clean(bomb)
        assert refused.value.field == field
    data_url = "data:image/png;base64," + base64.b64encode(bomb).decode()
    with pytest.raises(ValidationFailed, match="too large"):
        clean_signature(data_url)


def test_a_bomb_in_a_sync_batch_refuses_its_action_and_the_next_ones_still_run(
    client, delivery_setting
):
    import base64

    from conftest import dispatched_delivery, token_for
    from tracker.deliveries.models import DeliveryItem

    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    bomb = "data:image/png;base64," + base64.b64encode(_bomb_png()).decode()
    actions = [
        {
            "type": "handover",
            "id": "handover-bomb-1",
            "delivery_id": delivery_id,
            "recipient_name": "Mme Naima",
            "recipient_role": "Directrice",
            "signature": bomb,
        },
        {
            "type": "scan",
            "id": "scan-after-bomb",
            "delivery_id": delivery_id,
            "code": s["a_devices"][0].asset_tag,
        },
    ]
    answer = client.post("/api/v1/sync", headers=token_for(s["agent"]), json={"actions": actions})
    assert answer.status_code == 200
    first, second = answer.get_json()["results"]
    assert first["status"] == "rejected" and "too large" in first["message"]
    assert second["status"] == "applied"
    item = db.session.scalars(
        sa.select(DeliveryItem).where(DeliveryItem.device_id == s["a_devices"][0].id)
    ).one()
    assert item.status == "scanned"


def test_a_handover_names_at_most_its_deliverys_tablets_missing(client, delivery_setting):
    """60 hand-overs each naming 5,000 tablets missing (13 MB): each refused at once, by its
    bound (the delivery's own tablets), with no lookup per entry."""
    from conftest import dispatched_delivery, handover_form, token_for

    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    missing = [{"code": f"TAB-{n:05d}", "reason": "missing"} for n in range(5000)]
    actions = [
        {
            "type": "handover",
            "id": f"handover-big-{n:03d}",
            "delivery_id": delivery_id,
            "recipient_name": "Mme Naima",
            "recipient_role": "Directrice",
            "signature": handover_form()["signature"],
            "missing": missing,
        }
        for n in range(60)
    ]
    answer = client.post("/api/v1/sync", headers=token_for(s["agent"]), json={"actions": actions})
    results = answer.get_json()["results"]
    assert len(results) == 60 and {r["status"] for r in results} == {"rejected"}
    assert "'missing' has more than 3 entries" in results[0]["message"]


def test_a_request_past_its_work_budget_leaves_the_rest_for_the_next(
    client, delivery_setting, monkeypatch
):
    from conftest import dispatched_delivery, token_for
    from tracker.api import sync

    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    monkeypatch.setattr(sync, "WORK_PER_REQUEST", 2)
    actions = [
        {"type": "scan", "id": f"scan-budget-{n}", "delivery_id": delivery_id, "code": d.asset_tag}
        for n, d in enumerate(s["a_devices"])
    ]
    answer = client.post(
        "/api/v1/sync", headers=token_for(s["agent"]), json={"actions": actions}
    ).get_json()
    assert len(answer["results"]) == 2 and answer["unanswered"] == 1
    # The phone sends what was left: it goes through with the next request.
    answer = client.post(
        "/api/v1/sync", headers=token_for(s["agent"]), json={"actions": actions[2:]}
    ).get_json()
    assert answer["results"][0]["status"] == "applied"


def test_a_refusal_names_the_plans_state_in_the_readers_language(app, delivery_setting):
    """ "Le plan « Round 1 » est approuvé", never "est approved"."""
    import pytest
    from flask_babel import force_locale

    from tracker.allocations import services as plans
    from tracker.errors import DomainError

    s = delivery_setting
    for language, word, code in (("fr", "approuvé", "approved"), ("ar", "مصادق عليها", "approved")):
        with app.test_request_context(), force_locale(language):
            with pytest.raises(DomainError) as refused:
                plans.approve_plan(s["plan"].id, s["manager"])
            db.session.rollback()
            assert code not in str(refused.value), str(refused.value)
            assert word in str(refused.value), str(refused.value)


def test_after_an_admin_sets_a_password_an_invitation_gives_no_link(
    client, create_user, create_school
):
    """An invited person who never used their link, whose password an admin then set: a
    coordinator "inviting" them to another school gets no link that would take it over."""
    first, second = create_school(), create_school()
    coordinator, admin = create_user("coordinator"), create_user("admin")
    login(client, coordinator)
    assert _invite(client, first.id, "late@school.ma").status_code == 200  # a link
    person = db.session.scalar(sa.select(User).where(User.email == "late@school.ma"))
    client.post("/logout")
    login(client, admin)
    form = {"pw-password": "set by admin 1", "pw-confirm": "set by admin 1"}
    assert client.post(f"/admin/users/{person.id}/password", data=form).status_code == 302
    client.post("/logout")
    login(client, coordinator)
    answer = _invite(client, second.id, "late@school.ma")
    assert answer.status_code == 302  # the school added, the person told: no link
    assert "/invitation#" not in client.get(answer.headers["Location"]).get_data(as_text=True)


def test_staff_added_once_the_box_left_do_not_see_its_code(client, create_user, delivery_setting):
    """A "head teacher" the office makes after dispatch is not the school's word."""
    from datetime import timedelta

    from conftest import dispatched_delivery
    from tracker.database import utcnow

    s = delivery_setting
    s["school_a"].contact_phone = "+212 611 22 33 44"
    db.session.commit()
    before = create_user("school", email="before@school.ma")
    db.session.add(
        SchoolStaff(
            user_id=before.id, school_id=s["school_a"].id, added_at=utcnow() - timedelta(days=30)
        )
    )
    db.session.commit()
    delivery_id = dispatched_delivery(s)
    code = s["codes"][delivery_id]
    printed = f"{code[:3]} {code[3:]}"
    after = create_user("school", email="after@school.ma")
    db.session.add(SchoolStaff(user_id=after.id, school_id=s["school_a"].id))
    db.session.commit()
    login(client, before)
    assert printed in text_of(client.get("/my-school"))
    client.post("/logout")
    login(client, after)
    assert printed not in text_of(client.get("/my-school"))


def test_a_transfers_receiving_school_gets_its_code_and_it_is_gone_after_the_hand_over(
    delivery_setting, wired
):
    from conftest import dispatched_delivery, handed_over
    from tracker.deliveries.models import Delivery

    s = delivery_setting
    s["school_a"].contact_phone = "+212 611 22 33 44"
    db.session.commit()
    delivery_id = dispatched_delivery(s)
    code = s["codes"][delivery_id]
    assert db.session.get(Delivery, delivery_id).code_sealed
    handed_over(s, delivery_id, school_code=code)
    delivery = db.session.get(Delivery, delivery_id)
    assert delivery.handover_confirmation == "code"
    assert delivery.code_sealed == delivery.code_hash == ""  # nothing of it kept


def test_codes_a_phone_scans_that_name_nothing_are_kept_within_a_bound(delivery_setting):
    from conftest import dispatched_delivery
    from tracker.deliveries import handover
    from tracker.deliveries.models import Delivery

    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    for n in range(handover.MAX_UNEXPECTED + 5):
        result = handover.field_scan(delivery_id, f"JUNK-{n:04d}-" + "x" * 300, s["agent"])
        assert not result.ok
    db.session.commit()
    kept = db.session.get(Delivery, delivery_id).unexpected
    assert len(kept) == handover.MAX_UNEXPECTED
    assert max(len(entry["code"]) for entry in kept) <= handover.UNEXPECTED_CODE_CHARS


def test_a_link_planted_in_the_session_never_sets_the_password_of_an_unseen_account(
    app, client, create_user, create_school
):
    """A victim has their own password page open; another link is posted in their session
    (another tab, a page elsewhere): their submit sets no one's password."""
    school = create_school()
    login(client, create_user("coordinator"))
    mine = re.search(
        r"/invitation#([\w-]{40,})", _invite(client, school.id, "mine@school.ma").get_data(True)
    ).group(1)
    theirs = re.search(
        r"/invitation#([\w-]{40,})",
        _invite(client, school.id, "attacker@x.test").get_data(as_text=True),
    ).group(1)
    victim = app.test_client()
    victim.post("/invitation/open", data={"token": mine})
    page = victim.get("/invitation/password").get_data(as_text=True)
    shown = re.search(r'name="invitation" value="(\d+)"', page).group(1)
    assert "mine@school.ma" in page
    # The legacy route plants nothing: it only sends the browser to the page with the link.
    legacy = victim.get(f"/invitation/{theirs}")
    assert legacy.headers["Location"].startswith("/invitation#")
    victim.post("/invitation/open", data={"token": theirs})  # planted
    answer = victim.post(
        "/invitation/password",
        data={"password": "victim's pw 1", "again": "victim's pw 1", "invitation": shown},
    )
    assert answer.status_code == 409 and "out of date" in text_of(answer)
    from werkzeug.security import check_password_hash

    attacker = db.session.scalar(sa.select(User).where(User.email == "attacker@x.test"))
    assert not check_password_hash(attacker.password_hash, "victim's pw 1")


def test_an_account_whose_link_was_used_after_dispatch_does_not_see_the_code(
    client, create_user, delivery_setting
):
    """Invited before the box left, but signed in only after: not the school's word then."""
    from conftest import dispatched_delivery

    s = delivery_setting
    s["school_a"].contact_phone = "+212 611 22 33 44"
    db.session.commit()
    login(client, s["coordinator"])
    html = _invite(client, s["school_a"].id, "late.head@school.ma").get_data(as_text=True)
    token = re.search(r"/invitation#([\w-]{40,})", html).group(1)
    delivery_id = dispatched_delivery(s)
    code = s["codes"][delivery_id]
    head = client.application.test_client()
    head.post("/invitation/open", data={"token": token})
    shown = re.search(
        r'name="invitation" value="(\d+)"', head.get("/invitation/password").get_data(True)
    ).group(1)
    form = {"password": "a long pass 2", "again": "a long pass 2", "invitation": shown}
    assert head.post("/invitation/password", data=form).status_code == 302
    assert f"{code[:3]} {code[3:]}" not in text_of(head.get("/my-school"))


def test_a_transfer_is_handed_over_with_the_receiving_schools_word(
    client, create_user, create_school, create_device
):
    from conftest import handover_form, token_for
    from tracker.deliveries import handover
    from tracker.deliveries.models import Delivery
    from tracker.errors import DomainError
    from tracker.transfers import services as transfers

    rich = create_school(name_fr="École Riche", need=0)
    poor = create_school(name_fr="École Pauvre", need=2, contact_phone="+212 600 11 22 33")
    tablet = create_device(serial="SN-TRF-1")
    tablet.status, tablet.school_id = "delivered", rich.id
    coordinator, manager, agent = create_user(), create_user("manager"), create_user("field")
    db.session.commit()
    transfer = transfers.create_transfer(coordinator, rich.id, poor.id, 1)
    transfers.submit(coordinator, transfer.id)
    transfers.approve(manager, transfer.id)
    transfers.assign(coordinator, transfer.id, agent.id)
    transfers.scan_out(agent, transfer.id, tablet.asset_tag)
    db.session.commit()
    delivery = db.session.get(Delivery, transfer.delivery_id)
    assert delivery.status == "dispatched" and delivery.code_sealed  # the code went at once
    # Straight to the second school, without "leave": the code is still asked for.
    handover.field_scan(delivery.id, tablet.asset_tag, agent)
    db.session.commit()
    action = {
        "type": "handover",
        "id": "transfer-no-code-1",
        "delivery_id": delivery.id,
        "recipient_name": "X",
        "recipient_role": "Y",
        "signature": handover_form()["signature"],
    }
    answer = client.post("/api/v1/sync", headers=token_for(agent), json={"actions": [action]})
    assert answer.get_json()["results"][0]["status"] == "rejected"
    assert "Type the code the school received" in answer.get_json()["results"][0]["message"]
    handover.confirm_handover(
        delivery.id,
        actor=agent,
        recipient_name="X",
        recipient_role="Y",
        signature=handover_form()["signature"],
        no_code_reason="Le directeur était absent",
    )
    db.session.commit()
    import pytest

    with pytest.raises(DomainError, match="handed over already"):
        transfers.leave(agent, transfer.id)


def test_a_school_number_past_any_key_is_not_found(client, create_user):
    login(client, create_user("school"))
    answer = client.get("/my-school?school=99999999999999999999999")
    assert answer.status_code == 200  # taken as no choice: the user's first school


def test_a_proof_of_delivery_stays_readable_whatever_a_phone_scanned(client, delivery_setting):
    from pypdfium2 import PdfDocument

    from conftest import dispatched_delivery, handed_over
    from tracker.deliveries import handover

    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    for n in range(40):
        handover.field_scan(delivery_id, f"JUNK-{n:03d}-" + "x" * 70, s["agent"])
    db.session.commit()
    handed_over(s, delivery_id)
    login(client, s["coordinator"])
    receipt = PdfDocument(client.get(f"/deliveries/{delivery_id}/receipt.pdf").data)
    assert len(receipt) == 1
    text = receipt[0].get_textpage().get_text_range()
    assert "JUNK-000" in text and "(+28)" in text
