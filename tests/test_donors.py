"""Donors see their own: a donor's people read what their donations became (progress, reach,
regions, hand-overs, alerts, the report), nothing of another donor's and no one's personal
data; invited like a school's staff; a monthly letter; a donation's open figures."""

import io
import re
from datetime import UTC, date, datetime, time, timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from conftest import PASSWORD, login, statements_of, text_of, token_for
from tracker.auth.models import User
from tracker.counts.models import Count, CountLine
from tracker.database import utcnow
from tracker.deliveries.models import Delivery, DeliveryItem
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.loans.models import Borrower, Loan
from tracker.messages.models import MessageOptOut, OutboxMessage
from tracker.reports.donor_mail import send_donor_letters
from tracker.timezone import local_today

# Personal data the programme holds that no donor page, report or open page may carry.
PUPIL, GUARDIAN, PHONE, TEACHER = "Yasmine Secret", "Nadia Tuteur", "+212 661 99 88 77", "M. Prof"
RECIPIENT = "Mme Directrice Signataire"
HEAD, SCHOOL_PHONE = "M. Chef Établissement", "+212 537 00 11 22"  # the school's contact


@pytest.fixture
def gifts(create_user, create_school, create_device, create_donation):
    """Huawei's donation (six tablets: at school, lent to a pupil and to a teacher, in
    repair, lost, in stock) handed over with a signature and counted; and another donor's."""
    huawei = create_donation(reference="HW-2020", donor="Huawei Technologies Morocco")
    other = create_donation(reference="ORANGE-24", donor="Fondation Orange")
    school = create_school(
        code="SCH-RABAT",
        name_fr="École Al Amal",
        region="Rabat-Salé-Kénitra",
        contact_name=HEAD,
        contact_phone=SCHOOL_PHONE,
    )
    far = create_school(code="SCH-SOUSS", name_fr="École du Sud", region="Souss-Massa")
    tablets = [create_device(donation=huawei, serial=f"SN-HW-{n}") for n in range(6)]
    theirs = create_device(donation=other, serial="SN-ORANGE-1")
    states = ["delivered", "on_loan", "on_loan", "faulty", "lost", "in_stock"]
    for device, status in zip(tablets, states, strict=True):
        device.status = status
        if status != "in_stock":
            device.school_id = (far if status == "faulty" else school).id
    theirs.status, theirs.school_id = "delivered", far.id
    delivery = Delivery(
        school_id=school.id,
        status="delivered",
        delivered_at=utcnow(),
        recipient_name=RECIPIENT,
        recipient_role="Directrice",
        signature_png=b"\x89PNG-signature",
        handover_via="screen",
        handover_confirmation="code",
    )
    db.session.add(delivery)
    db.session.flush()
    for device in tablets[:3]:
        db.session.add(
            DeliveryItem(delivery_id=delivery.id, device_id=device.id, status="delivered")
        )
    pupil = Borrower(
        school_id=school.id,
        code="P-1",
        name=PUPIL,
        kind="pupil",
        guardian_name=GUARDIAN,
        guardian_phone=PHONE,
    )
    teacher = Borrower(school_id=school.id, code="T-1", name=TEACHER, kind="teacher")
    db.session.add_all([pupil, teacher])
    db.session.flush()
    for device, borrower in ((tablets[1], pupil), (tablets[2], teacher)):
        db.session.add(
            Loan(
                device_id=device.id,
                borrower_id=borrower.id,
                school_id=school.id,
                due_on=date(2027, 6, 30),
                agreement_version="2026-1",
                signature_png=b"\x89PNG-loan-signature",
                accessories_back="",
            )
        )
    count = Count(
        name="Fin d'année",
        scope="programme",
        starts_on=date(2026, 6, 1),
        ends_on=date(2026, 6, 30),
        status="closed",
        closed_at=utcnow(),
    )
    db.session.add(count)
    db.session.flush()
    db.session.add_all(
        [
            CountLine(
                count_id=count.id, school_id=school.id, device_id=tablets[0].id, status="found"
            ),
            CountLine(
                count_id=count.id, school_id=school.id, device_id=tablets[4].id, status="missing"
            ),
        ]
    )
    db.session.commit()
    return {
        "huawei": huawei,
        "other": other,
        "tablets": tablets,
        "reader": create_user("donor", donor="Huawei Technologies Morocco"),
        "orange": create_user("donor", donor="Fondation Orange"),
        "office": create_user("coordinator"),
    }


PERSONAL = (PUPIL, GUARDIAN, PHONE, TEACHER, "PNG-signature", "PNG-loan-signature")


def test_a_donor_reads_what_their_donation_became_and_no_ones_personal_data(client, gifts):
    g = gifts
    login(client, g["reader"])
    assert client.get("/").headers["Location"] == "/donor/"
    home = text_of(client.get("/donor/"))
    assert "HW-2020" in home and "ORANGE-24" not in home
    response = client.get(f"/donor/donations/{g['huawei'].id}")
    page = text_of(response)
    # Registered 6; handed over 4 of them (at school 1, lent 2, ... in repair and lost are
    # not handed over now); pupils 1, teachers 1; the last count found 1 of 2 (50 %).
    for figure in (
        "6 Tablets registered",
        "3 Handed over to schools (50.0 %)",
        "1 At school",
        "2 Lent to pupils and teachers",
        "1 In repair",
        "1 Lost",
        "50.0 % Seen at the last count",
        "1 Pupils",
        "1 Teachers",
    ):
        assert figure in page, figure
    assert "Rabat-Salé-Kénitra" in page and "DEL-" in page and "the school's code" in page
    assert "SN-HW-4" not in page  # tablets are named by their asset tag only
    assert g["tablets"][4].asset_tag in page  # (the lost one, in the alerts)
    html = response.get_data(as_text=True)
    for secret in (*PERSONAL, RECIPIENT, HEAD, SCHOOL_PHONE):
        assert secret not in html, secret
    # A hand-over's proof, as the donor reads it: their tablets, no one named, no signature.
    from pypdfium2 import PdfDocument

    delivery_id = db.session.scalar(sa.select(Delivery.id))
    proof = client.get(f"/donor/donations/{g['huawei'].id}/proofs/{delivery_id}.pdf")
    assert proof.status_code == 200 and proof.mimetype == "application/pdf"
    text = " ".join(p.get_textpage().get_text_range() for p in PdfDocument(proof.get_data()))
    assert g["tablets"][0].asset_tag in text and "SCH-RABAT" in text
    for secret in (RECIPIENT, "Directrice", HEAD, SCHOOL_PHONE, *PERSONAL):
        assert secret not in text, secret
    assert b"PNG-signature" not in proof.get_data()
    points = client.get(f"/donor/donations/{g['huawei'].id}/schools.json").get_json()
    assert points == {"schools": []}  # (no school of the test has a place on the map)


def test_a_donor_reads_nothing_of_another_donors_and_nothing_of_the_programme(client, gifts):
    g = gifts
    login(client, g["orange"])
    other, huawei = g["other"].id, g["huawei"].id
    assert "ORANGE-24" in text_of(client.get("/donor/"))
    for path in (f"/donor/donations/{huawei}", f"/donor/donations/{huawei}/schools.json"):
        response = client.get(path)
        assert response.status_code == 404 and b"HW-2020" not in response.get_data(), path
    # Exactly as a donation that does not exist.
    theirs = text_of(client.get(f"/donor/donations/{huawei}")).replace(f"id {huawei}.", "id N.")
    assert theirs == text_of(client.get("/donor/donations/999999")).replace("id 999999.", "id N.")
    assert client.post(f"/donor/donations/{huawei}/report.pdf").status_code == 404
    # Huawei's hand-over, asked through Orange's own donation: none of Orange's tablets.
    delivery_id = db.session.scalar(sa.select(Delivery.id))
    assert client.get(f"/donor/donations/{other}/proofs/{delivery_id}.pdf").status_code == 404
    assert client.get(f"/donor/donations/{huawei}/proofs/{delivery_id}.pdf").status_code == 404
    for path in ("/devices/", "/donations/", f"/donations/{other}", "/search?q=SN", "/schools/"):
        assert client.get(path).status_code == 403, path
    api = token_for(g["orange"])
    assert client.get("/api/v1/schools", headers=api).status_code == 403
    assert client.get(f"/donor/donations/{other}").status_code == 200


def test_the_donor_report_is_made_in_the_readers_language_with_counts_only(app, client, gifts):
    g = gifts
    g["reader"].locale = "fr"
    db.session.commit()
    login(client, g["reader"])
    started = client.post(f"/donor/donations/{g['huawei'].id}/report.xlsx")
    assert started.status_code == 302
    job = client.get(started.headers["Location"] + ".json").get_json()
    assert job["state"] == "done", job
    workbook = client.get(job["download"])
    book = openpyxl.load_workbook(io.BytesIO(workbook.get_data()))
    assert "Synthèse" in book.sheetnames
    text = " ".join(
        str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
    )
    for secret in (*PERSONAL, RECIPIENT, "Directrice"):
        assert secret not in text, secret
    # The office's own copy names who received (its proof of delivery).
    client = app.test_client()
    login(client, g["office"])
    office = client.post(f"/donations/{g['huawei'].id}/report.xlsx")
    job = client.get(office.headers["Location"] + ".json").get_json()
    book = openpyxl.load_workbook(io.BytesIO(client.get(job["download"]).get_data()))
    assert RECIPIENT in " ".join(
        str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
    )


def _invite(client, donation_id, email, **extra):
    return client.post(
        f"/donations/{donation_id}/contacts", data={"email": email, "language": "ar", **extra}
    )


def test_the_office_invites_a_donors_people_once_and_ends_their_access(app, client, gifts):
    g = gifts
    login(client, g["office"])
    page = _invite(client, g["huawei"].id, "Karim@Huawei.ma", name="Karim")
    assert page.status_code == 200
    link = re.search(r'value="(http[^"]+/invitation#[^"]+)"', page.get_data(as_text=True))[1]
    letter = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "donor_invitation")
    )
    assert letter.recipient == "karim@huawei.ma" and letter.language == "ar"
    assert link not in letter.body and "/invitation#{code}" in letter.body
    karim = db.session.scalar(sa.select(User).where(User.email == "karim@huawei.ma"))
    assert (karim.role, karim.donor_id) == ("donor", g["huawei"].donor_id)
    # A second link ends the first; the person sets a password with it and reads.
    again = _invite(client, g["huawei"].id, "karim@huawei.ma")
    second = re.search(r'value="(http[^"]+/invitation#[^"]+)"', again.get_data(as_text=True))[1]
    visitor = app.test_client()
    assert (
        visitor.post("/invitation/open", data={"token": link.partition("#")[2]}).status_code == 404
    )
    opened = visitor.post("/invitation/open", data={"token": second.partition("#")[2]})
    assert opened.headers["Location"] == "/invitation/password"
    form = visitor.get("/invitation/password").get_data(as_text=True)
    shown = re.search(r'name="invitation" value="(\d+)"', form)[1]
    done = visitor.post(
        "/invitation/password",
        data={"password": "a long pass", "again": "a long pass", "invitation": shown},
    )
    assert done.headers["Location"] == "/donor/"
    assert "HW-2020" in text_of(visitor.get("/donor/"))
    # Who chose a password is never sent a link again (no one takes their account over);
    # the programme's people, and another donor's, are refused by name.
    for email, words in (
        ("karim@huawei.ma", "already reads this donor's donations"),
        (g["office"].email, "an account of the programme or a school"),
        (g["orange"].email, "a contact of another donor"),
    ):
        refused = _invite(client, g["huawei"].id, email)
        assert refused.status_code == 400 and words in text_of(refused), email
    # Ended: their session ends at once, and the account no longer signs in.
    assert client.post(f"/donations/{g['huawei'].id}/contacts/{karim.id}/remove").status_code == 302
    assert visitor.get("/donor/").status_code == 302
    assert not db.session.get(User, karim.id).active
    # Another donor's person cannot be ended from this donation's page.
    orange = g["orange"].id
    assert client.post(f"/donations/{g['huawei'].id}/contacts/{orange}/remove").status_code == 302
    assert db.session.get(User, orange).active


def test_only_the_national_office_invites_and_a_donor_stays_a_donor(client, create_user, gifts):
    g = gifts
    regional = create_user("coordinator")
    regional.areas = [["Souss-Massa", ""]]
    db.session.commit()
    login(client, regional)
    refused = _invite(client, g["huawei"].id, "x@huawei.ma")
    assert refused.status_code == 403 and "national office" in text_of(refused)
    opened = client.post(f"/donations/{g['huawei'].id}/open-figures", data={"open": "1"})
    assert opened.status_code == 403
    assert not db.session.get(type(g["huawei"]), g["huawei"].id).public_key
    assert db.session.scalar(sa.select(User).where(User.email == "x@huawei.ma")) is None
    from tracker.auth.services import create_user as make_user
    from tracker.auth.services import update_user

    with pytest.raises(ValidationFailed, match="made and ended on its donor's page"):
        make_user("new@huawei.ma", "donor", "a long password")
    with pytest.raises(ValidationFailed, match="made and ended on its donor's page"):
        update_user(g["reader"].id, actor=None, name="", role="admin", active=True)
    with pytest.raises(ValidationFailed, match="made and ended on its donor's page"):
        update_user(g["office"].id, actor=None, name="", role="donor", active=True)
    db.session.rollback()
    # The database holds the rule too: a donor's account names its donor, nobody else's.
    db.session.get(User, g["office"].id).donor_id = g["huawei"].donor_id
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_each_donors_people_get_a_monthly_letter_once_and_may_turn_it_off(app, gifts):
    g = gifts
    assert send_donor_letters() == 2  # Huawei's reader and Orange's, one donation each
    letters = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "donor_monthly")
    ).all()
    mine = next(m for m in letters if m.recipient == g["reader"].email)
    assert mine.attachment == "donor_summary" and mine.attachment_ref == g["huawei"].id
    assert (
        "Handed over to schools: 3" in mine.body
        and f"/donor/donations/{g['huawei'].id}" in mine.body
    )
    for secret in PERSONAL:
        assert secret not in mine.body
    from tracker.messages.services import ATTACHMENTS

    name, kind, pdf = ATTACHMENTS["donor_summary"](g["huawei"].id, "ar")
    assert kind == "application/pdf" and pdf.startswith(b"%PDF") and name.endswith(".pdf")
    from pypdfium2 import PdfDocument

    text = " ".join(page.get_textpage().get_text_range() for page in PdfDocument(pdf))
    assert "DEL-00001" in text and "Directrice" not in text  # the copy names no one
    # Once a month: asked again the same month, nothing more.
    assert send_donor_letters() == 0
    # A letter of last month does not count for this one (the first of the month is new).
    for message in letters:
        first = local_today().replace(day=1)
        message.created_at = datetime.combine(first - timedelta(days=1), time(12), tzinfo=UTC)
    db.session.add(MessageOptOut(user_id=g["orange"].id, kind="donor_monthly"))
    db.session.commit()
    assert send_donor_letters() == 1  # Orange's reader turned it off


def test_a_donors_reader_turns_the_monthly_letter_off_on_my_messages(client, gifts):
    login(client, gifts["reader"])
    page = text_of(client.get("/account/messages"))
    assert "Each month: what our donated tablets became" in page
    client.post("/account/messages", data={})  # every box left unticked
    assert send_donor_letters() == 1  # only Orange's reader now


def test_open_figures_are_off_until_opened_and_hold_no_personal_data(client, gifts):
    g = gifts
    closed = client.get("/open/anything")
    assert closed.status_code == 404 and "no-store" in closed.headers["Cache-Control"]
    login(client, g["office"])
    client.post(f"/donations/{g['huawei'].id}/open-figures", data={"open": "1"})
    key = db.session.get(type(g["huawei"]), g["huawei"].id).public_key
    assert key and len(key) >= 20
    client.post("/logout")
    page = client.get(f"/open/{key}?lang=ar")  # (a visitor who signed in gets no cookie either)
    assert page.status_code == 200 and 'dir="rtl"' in page.get_data(as_text=True)
    assert len(page.get_data()) < 30_000
    assert page.headers["Cache-Control"] in ("public, max-age=3600", "max-age=3600, public")
    assert "Set-Cookie" not in page.headers
    again = client.get(f"/open/{key}?lang=ar", headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304
    data = client.get(f"/open/{key}.json").get_json()
    assert data["tablets_registered"] == 6 and data["tablets_handed_over"] == 3
    assert data["share_seen_at_last_count_percent"] == 50.0
    assert data["regions"] == [
        {"region": "Rabat-Salé-Kénitra", "schools": 1, "tablets_handed_over": 3}
    ]
    csv_text = client.get(f"/open/{key}.csv").get_data(as_text=True)
    assert csv_text.splitlines()[-1] == "HW-2020,,1,3"
    # No personal data at all: no borrower, guardian, phone, recipient, school name.
    everything = " ".join(
        client.get(path).get_data(as_text=True)
        for path in (
            f"/open/{key}",
            f"/open/{key}?lang=fr",
            f"/open/{key}.json",
            f"/open/{key}.csv",
        )
    )
    names = db.session.scalars(sa.select(Borrower.name)).all() + [RECIPIENT, "École Al Amal", HEAD]
    for secret in (*names, GUARDIAN, PHONE, SCHOOL_PHONE):
        assert secret not in everything, secret
    # Closed, the link opens nothing (nor names who asked: a page the same for everyone);
    # opened again, a new link.
    login(client, g["office"])
    client.post(f"/donations/{g['huawei'].id}/open-figures", data={"open": "0"})
    gone = client.get(f"/open/{key}")
    assert gone.status_code == 404 and g["office"].email not in gone.get_data(as_text=True)
    assert "csrf" not in gone.get_data(as_text=True) and "Set-Cookie" not in gone.headers
    client.post(f"/donations/{g['huawei'].id}/open-figures", data={"open": "1"})
    assert db.session.get(type(g["huawei"]), g["huawei"].id).public_key != key


def test_a_donors_page_asks_the_same_statements_as_the_offices_look_at_it(
    client, create_user, gifts
):
    g = gifts
    path = f"/donor/donations/{g['huawei'].id}"
    login(client, create_user("manager"))
    office = statements_of(lambda: client.get(path))
    client.post("/logout")
    login(client, g["reader"], PASSWORD)
    mine = statements_of(lambda: client.get(path))
    assert mine == office <= 16, (mine, office)


def test_a_monthly_letter_goes_only_to_who_opened_their_account(client, gifts):
    """An invitation never used (a mistyped address, maybe) gets no report."""
    g = gifts
    login(client, g["office"])
    _invite(client, g["huawei"].id, "typo@huawei.mx")
    assert send_donor_letters() == 2  # the two readers, not the pending invitation
    sent = db.session.scalars(
        sa.select(OutboxMessage.recipient).where(OutboxMessage.kind == "donor_monthly")
    ).all()
    assert "typo@huawei.mx" not in sent
