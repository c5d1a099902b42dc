"""Loans to pupils and teachers: the desks, the agreement, class lists, who sees names,
overdue loans and the erasure of names after the retention period."""

import io
import re
import unicodedata
from datetime import timedelta

import pypdfium2 as pdfium
import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from conftest import login, signature_data_url, text_of
from tracker.database import utcnow
from tracker.devices.models import Device, DeviceEvent
from tracker.extensions import db
from tracker.loans.models import Borrower, Loan
from tracker.schools.models import SchoolStaff
from tracker.timezone import local_today


@pytest.fixture
def school_desk(create_user, create_school, create_device):
    """A school with 3 delivered tablets, its head teacher, and another school's tablet."""
    school, other = create_school(name_fr="École Al Amal"), create_school(name_fr="École Voisine")
    tablets = [create_device(serial=f"SN-LOAN-{n}") for n in range(3)]
    stranger = create_device(serial="SN-ELSEWHERE")
    for device in tablets:
        device.status, device.school_id = "delivered", school.id
    stranger.status, stranger.school_id = "delivered", other.id
    head = create_user("school")
    db.session.add(SchoolStaff(user_id=head.id, school_id=school.id))
    db.session.commit()
    return {
        "school": school,
        "other": other,
        "tablets": tablets,
        "stranger": stranger,
        "head": head,
    }


def _lend(client, school_id, code, borrower, **extra):
    return client.post(
        f"/schools/{school_id}/lend", data={"code": code, "borrower_code": borrower, **extra}
    )


def test_the_lending_desk_lends_one_tablet_per_borrower_and_refuses_with_reasons(
    client, school_desk
):
    school, tablets = school_desk["school"], school_desk["tablets"]
    login(client, school_desk["head"])
    assert client.get(f"/schools/{school.id}/lend").status_code == 200
    new = _lend(
        client,
        school.id,
        tablets[0].asset_tag,
        "p-1001",
        name="Amina Idrissi",
        class_name="6A",
        guardian_name="Fatima Idrissi",
        guardian_phone="+212 600 000 001",
    )
    assert new.status_code == 200
    assert f"{tablets[0].asset_tag} lent to Amina Idrissi" in text_of(new)
    device = db.session.get(Device, tablets[0].id)
    assert device.status == "on_loan" and device.last_seen_at is not None
    loan = db.session.scalar(sa.select(Loan))
    assert loan.borrower.code == "P-1001" and loan.borrower.guardian_name == "Fatima Idrissi"
    assert loan.agreement_version == "2026-1" and loan.due_on.month == 6 and loan.due_on.day == 30
    assert loan.lent_by_id == school_desk["head"].id
    events = db.session.scalars(
        sa.select(DeviceEvent.type).where(DeviceEvent.device_id == device.id)
    ).all()
    assert events[-1] == "lent"

    # The same pupil again, by the code on their card: one tablet at a time.
    twice = _lend(client, school.id, tablets[1].asset_tag, "P-1001")
    assert twice.status_code == 422
    assert f"Amina Idrissi already has {tablets[0].asset_tag}" in text_of(twice)
    unknown = _lend(client, school.id, tablets[1].asset_tag, "P-9999")
    assert "No borrower of this school has the code P-9999" in text_of(unknown)
    elsewhere = _lend(client, school.id, school_desk["stranger"].asset_tag, "P-9999", name="Omar")
    assert f"{school_desk['stranger'].asset_tag} is not a tablet of this school" in text_of(
        elsewhere
    )
    again = _lend(client, school.id, tablets[0].asset_tag, "P-2", name="Omar")
    assert "cannot be lent: it is on loan" in text_of(again)
    nothing = _lend(client, school.id, "NO-SUCH-CODE", "P-2", name="Omar")
    assert "No tablet has the code NO-SUCH-CODE" in text_of(nothing)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Loan)) == 1
    # Refusals wrote nothing, not even the borrower of a refused loan.
    assert db.session.scalar(sa.select(Borrower).where(Borrower.code == "P-2")) is None

    home = text_of(client.get("/my-school"))
    assert "Loans to pupils and teachers" in home and "Pupils and teachers reached" in home


def test_the_return_desk_takes_tablets_back_with_their_condition(client, school_desk):
    school, tablets = school_desk["school"], school_desk["tablets"]
    login(client, school_desk["head"])
    for number, device in enumerate(tablets[:2]):
        _lend(client, school.id, device.serial, f"P-{number}", name=f"Pupil {number}")
    back = client.post(
        f"/schools/{school.id}/take-back",
        data={
            "code": tablets[0].serial,
            "condition": "damaged",
            "accessories": "charger",
            "fault": "Écran fissuré",
        },
    )
    assert back.status_code == 200
    assert f"{tablets[0].asset_tag} is back from Pupil 0 (Damaged)" in text_of(back)
    assert "Its state now: Faulty" in text_of(back)
    # The condition stays chosen for the next tablet scanned.
    assert re.search(
        r'<option[^>]*selected[^>]*value="damaged"|value="damaged"[^>]*selected',
        back.get_data(as_text=True),
    )
    loan = db.session.scalar(sa.select(Loan).where(Loan.device_id == tablets[0].id))
    assert (loan.ended_as, loan.condition_back, loan.accessories_back) == (
        "returned",
        "damaged",
        "charger",
    )
    # Damaged: reported faulty there and then, with its repair case.
    assert db.session.get(Device, tablets[0].id).status == "faulty"
    twice = client.post(
        f"/schools/{school.id}/take-back", data={"code": tablets[0].serial, "condition": "good"}
    )
    assert twice.status_code == 422 and "is not on loan: nothing to take back" in text_of(twice)
    # The pupil who brought it back may borrow again.
    assert _lend(client, school.id, tablets[2].serial, "P-0").status_code == 200
    listed = text_of(client.get(f"/schools/{school.id}/loans?list=ended"))
    assert tablets[0].asset_tag in listed and "Brought back" in listed


def test_names_are_for_the_school_and_the_office_and_managers_see_counts(
    app, client, school_desk, create_user
):
    school = school_desk["school"]
    login(client, school_desk["head"])
    _lend(client, school.id, school_desk["tablets"][0].serial, "P-1", name="Amina Idrissi")
    # Another school's borrowers: as if they did not exist.
    assert client.get(f"/schools/{school_desk['other'].id}/borrowers").status_code == 404
    assert client.get(f"/schools/{school_desk['other'].id}/lend").status_code == 404

    manager = app.test_client()
    login(manager, create_user("manager"))
    page = text_of(manager.get(f"/schools/{school.id}"))
    assert "Loans to pupils and teachers" in page and "Amina" not in page
    assert manager.get(f"/schools/{school.id}/borrowers").status_code == 403
    loan = db.session.scalar(sa.select(Loan))
    assert manager.get(f"/loans/{loan.id}").status_code == 403

    coordinator = app.test_client()
    login(coordinator, create_user("coordinator"))
    assert "Amina Idrissi" in text_of(coordinator.get(f"/schools/{school.id}/borrowers"))


def test_the_agreement_is_signed_on_the_screen_and_printed_in_french_and_arabic(
    client, school_desk, tmp_path
):
    school = school_desk["school"]
    login(client, school_desk["head"])
    _lend(client, school.id, school_desk["tablets"][0].serial, "P-1", name="Amina Idrissi")
    loan = db.session.scalar(sa.select(Loan))
    assert "not signed yet" in text_of(client.get(f"/loans/{loan.id}"))
    nameless = client.post(f"/loans/{loan.id}", data={"signature": signature_data_url()})
    assert nameless.status_code == 422
    blank = client.post(
        f"/loans/{loan.id}",
        data={"signed_by": "Fatima", "signature": signature_data_url(blank=True)},
    )
    assert blank.status_code == 422
    signed = client.post(
        f"/loans/{loan.id}", data={"signed_by": "Fatima Idrissi", "signature": signature_data_url()}
    )
    assert signed.status_code == 302
    page = text_of(client.get(f"/loans/{loan.id}"))
    assert "signed by Fatima Idrissi" in page
    assert "Sign the agreement" not in page  # signed: no form to sign it again
    assert client.get(f"/loans/{loan.id}/signature").mimetype == "image/png"
    pdf = client.get(f"/loans/{loan.id}/agreement.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    document = pdfium.PdfDocument(pdf.data)
    text = "".join(page.get_textpage().get_text_range() for page in document)
    text = unicodedata.normalize("NFKC", text)
    assert "Tablet loan agreement" not in text  # the school's languages, not the reader's
    assert "Amina Idrissi" in text and school_desk["tablets"][0].asset_tag in text


def _class_list_csv(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(row) for row in rows).encode("utf-8")


def test_a_class_list_imports_whole_with_arabic_or_french_headers_or_not_at_all(
    client, school_desk
):
    school = school_desk["school"]
    login(client, school_desk["head"])
    arabic = _class_list_csv(
        [
            ["رمز التلميذ", "الاسم الكامل", "القسم", "ولي الأمر", "الهاتف"],
            ["M130001", "أمينة الإدريسي", "6A", "فاطمة", "0600000001"],
            ["M130002", "عمر بنعلي", "6A", "", ""],
        ]
    )
    done = client.post(
        f"/schools/{school.id}/borrowers/import",
        data={"file": (io.BytesIO(arabic), "classe.csv")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 302
    listed = text_of(client.get(done.headers["Location"]))
    assert "أمينة الإدريسي" in listed and "2 borrowers." in listed

    book = Workbook()
    book.active.append(["Code élève", "Nom et prénom", "Classe"])
    book.active.append(["M130001", "Amina Idrissi", "6B"])
    book.active.append(["M130003", "", "6B"])  # no name: the whole file waits
    buffer = io.BytesIO()
    book.save(buffer)
    refused = client.post(
        f"/schools/{school.id}/borrowers/import",
        data={"file": (io.BytesIO(buffer.getvalue()), "classe.xlsx")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    problems = text_of(refused)
    assert "Nothing was written" in problems and "3 Nom et prénom" in problems
    # On a phone each problem names its row: the row's cell carries its label.
    assert 'data-label="Row">3</td>' in refused.get_data(as_text=True)
    first = db.session.scalar(sa.select(Borrower).where(Borrower.code == "M130001"))
    assert first.class_name == "6A"  # untouched
    template = client.get(f"/schools/{school.id}/borrowers/class-list.xlsx")
    assert template.status_code == 200 and template.data.startswith(b"PK")


def test_overdue_loans_are_an_alert_by_school_without_names(app, client, school_desk, create_user):
    school = school_desk["school"]
    login(client, school_desk["head"])
    _lend(client, school.id, school_desk["tablets"][0].serial, "P-1", name="Amina Idrissi")
    loan = db.session.scalar(sa.select(Loan))
    loan.due_on = local_today() - timedelta(days=3)
    db.session.commit()
    assert "Overdue" in text_of(client.get(f"/schools/{school.id}/loans?list=overdue"))
    manager = app.test_client()
    login(manager, create_user("manager"))
    alerts = text_of(manager.get("/alerts?kind=loans_overdue"))
    assert "École Al Amal" in alerts and "1 tablet lent and not brought back" in alerts
    assert "Amina" not in alerts


def test_names_are_erased_after_the_retention_period_and_the_loans_stay(app, school_desk):
    from tracker.devices.services import move_device
    from tracker.loans import services

    school, tablets, head = school_desk["school"], school_desk["tablets"], school_desk["head"]
    old = services.lend(
        head, school.id, tablets[0].serial, "P-OLD", new_borrower={"name": "Old Pupil"}
    )
    services.lend(head, school.id, tablets[1].serial, "P-NEW", new_borrower={"name": "New Pupil"})
    services.take_back(head, school.id, tablets[0].serial, condition="good")
    long_ago = utcnow() - timedelta(days=3 * 366)
    old.ended_at, old.lent_at, old.signed_by = long_ago, long_ago, "Guardian"
    old.borrower.created_at = long_ago
    db.session.commit()
    assert services.erase_expired() == 1
    db.session.commit()
    erased = db.session.get(Borrower, old.borrower_id)
    assert (erased.name, erased.guardian_name, erased.code[:1]) == ("", "", "~")
    assert db.session.get(Loan, old.id).signed_by == ""
    assert services.loan_counts(school.id).borrowers == 2  # reached, still counted
    assert (
        db.session.scalar(sa.select(Borrower.name).where(Borrower.code == "P-NEW")) == "New Pupil"
    )

    # A tablet reported lost while lent leaves its loan, which says so.
    move_device(db.session.get(Device, tablets[1].id), "reported_lost", head)
    db.session.commit()
    lost = db.session.scalar(sa.select(Loan).where(Loan.device_id == tablets[1].id))
    assert lost.ended_as == "lost" and lost.ended_at is not None


def test_the_database_refuses_a_second_open_loan_of_one_tablet(app, school_desk):
    from sqlalchemy.exc import IntegrityError

    from tracker.loans import services

    school, head = school_desk["school"], school_desk["head"]
    first = services.lend(
        head, school.id, school_desk["tablets"][0].serial, "P-1", new_borrower={"name": "A"}
    )
    db.session.commit()
    db.session.add(
        Loan(
            device_id=first.device_id,
            borrower_id=first.borrower_id,
            school_id=school.id,
            due_on=first.due_on,
            agreement_version="x",
            accessories_back="",
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_lent_tablet_still_counts_as_delivered_to_its_school(app, client, school_desk):
    """Lending is after the gate: the school's progress and the dashboard still count the
    tablet as delivered."""
    from tracker.dashboard.queries import progress

    school, tablets, head = school_desk["school"], school_desk["tablets"], school_desk["head"]
    before = {row.key: row.delivered for row in progress()}
    from tracker.loans import services

    services.lend(head, school.id, tablets[0].serial, "P-1", new_borrower={"name": "A"})
    db.session.commit()
    after = {row.key: row.delivered for row in progress()}
    assert after == before and sum(after.values()) == 4


def test_a_desk_on_a_phone_lends_takes_back_and_signs_through_the_api(client, school_desk):
    """The lending desk through the API: the school's borrowers and loans read, and
    lending, signing and taking back sent as sync actions, each applied once however often
    it is sent; another school's tablet or list is refused."""
    from conftest import token_for

    s = school_desk
    school, tablet = s["school"], s["tablets"][0]
    headers = token_for(s["head"])

    def sync(*actions):
        answer = client.post("/api/v1/sync", headers=headers, json={"actions": list(actions)})
        return [(r["status"], r["message"]) for r in answer.get_json()["results"]]

    lend = {
        "id": "lend-0000001",
        "type": "lend",
        "school_id": school.id,
        "code": tablet.serial,
        "borrower_code": "p-2001",
        "new_borrower": {"name": "Salma Berrada", "class_name": "5B"},
        "due_on": (local_today() + timedelta(days=30)).isoformat(),
    }
    [(status, message)] = sync(lend)
    assert status == "applied" and f"{tablet.asset_tag} lent to Salma Berrada" in message
    assert sync(lend)[0][0] == "duplicate"
    borrowers = client.get(f"/api/v1/schools/{school.id}/borrowers", headers=headers).get_json()
    assert [b["name"] for b in borrowers["borrowers"]] == ["Salma Berrada"]
    [loan] = client.get(f"/api/v1/schools/{school.id}/loans", headers=headers).get_json()["loans"]
    assert (loan["tablet"]["asset_tag"], loan["signed"]) == (tablet.asset_tag, False)
    signed = {
        "id": "sign-0000001",
        "type": "sign_loan",
        "loan_id": loan["id"],
        "signed_by": "Mme Berrada",
        "signature": signature_data_url(),
    }
    assert sync(signed)[0][0] == "applied"
    back = {
        "id": "back-0000001",
        "type": "take_back",
        "school_id": school.id,
        "code": tablet.asset_tag,
        "condition": "damaged",
    }
    # Damaged with nothing said of what is wrong: refused with the reason, nothing changes.
    [(status, message)] = sync(back)
    assert status == "rejected" and "Say what is wrong" in message
    [(status, _message)] = sync({**back, "id": "back-0000002", "fault": "Écran fissuré"})
    assert status == "applied"
    db.session.expire_all()
    assert db.session.get(Device, tablet.id).status == "faulty"
    ended = client.get(
        f"/api/v1/schools/{school.id}/loans", headers=headers, query_string={"list": "ended"}
    ).get_json()["loans"]
    assert [(e["ended_as"], e["condition_back"]) for e in ended] == [("returned", "damaged")]
    # Another school's tablet, and its lists.
    [(status, message)] = sync(
        {**lend, "id": "lend-0000002", "code": s["stranger"].serial, "borrower_code": "p-2002"}
    )
    assert status == "rejected" and "is not a tablet of this school" in message
    other = s["other"].id
    assert client.get(f"/api/v1/schools/{other}/borrowers", headers=headers).status_code == 404
    assert client.get(f"/api/v1/schools/{other}/loans", headers=headers).status_code == 404
