"""Repairs and warranty: a case behind every faulty tablet, followed to its end; a
replacement takes the old tablet's school and loan; warranties by model; the alerts."""

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from conftest import login, text_of
from tracker.devices.models import Device, DeviceEvent
from tracker.devices.services import move_device
from tracker.extensions import db
from tracker.loans import services as loans
from tracker.loans.models import Loan
from tracker.repairs.models import RepairCase
from tracker.repairs.services import photos_of
from tracker.schools.models import SchoolStaff
from tracker.timezone import local_today


@pytest.fixture
def broken(create_user, create_school, create_device):
    """A tablet lent from a school breaks and is reported faulty; a spare waits in stock."""
    school = create_school(name_fr="École Al Amal")
    tablet = create_device(serial="SN-BROKEN")
    spare = create_device(serial="SN-SPARE")
    tablet.status, tablet.school_id = "delivered", school.id
    tablet.warranty_until = local_today() + timedelta(days=200)
    head, coordinator = create_user("school"), create_user("coordinator")
    db.session.add(SchoolStaff(user_id=head.id, school_id=school.id))
    db.session.commit()
    loan = loans.lend(head, school.id, tablet.serial, "P-1", new_borrower={"name": "Amina"})
    db.session.commit()
    move_device(db.session.get(Device, tablet.id), "reported_faulty", head, note="écran noir")
    db.session.commit()
    return {
        "school": school,
        "tablet": tablet,
        "spare": spare,
        "head": head,
        "coordinator": coordinator,
        "loan": loan,
    }


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def test_a_faulty_tablet_has_its_case_and_a_replacement_takes_its_school_and_loan(client, broken):
    s = broken
    case = db.session.scalar(sa.select(RepairCase))
    assert case.device_id == s["tablet"].id and case.school_id == s["school"].id
    assert case.under_warranty and case.closed_at is None
    assert db.session.get(Loan, s["loan"].id).ended_as == "faulty"

    login(client, s["coordinator"])
    assert s["tablet"].asset_tag in text_of(client.get("/repairs/"))
    saved = client.post(
        f"/repairs/{case.id}",
        data={
            "fault": "Écran noir au démarrage",
            "warranty_claim": "y",
            "repairer": "Huawei Service Casablanca",
            "repairer_ref": "RMA-2027-0042",
            "sent_on": "2027-01-10",
            "returned_on": "2027-01-05",
            "cost": "0",
        },
    )
    assert saved.status_code == 422 and "came back before it left" in text_of(saved)
    saved = client.post(
        f"/repairs/{case.id}",
        data={
            "fault": "Écran noir au démarrage",
            "warranty_claim": "y",
            "repairer": "Huawei Service Casablanca",
            "repairer_ref": "RMA-2027-0042",
            "sent_on": "2027-01-10",
            "cost": "350,50",
        },
    )
    assert saved.status_code == 302
    photo = client.post(
        f"/repairs/{case.id}/photos",
        data={"photo": (io.BytesIO(_jpeg()), "ecran.jpg")},
        content_type="multipart/form-data",
    )
    assert photo.status_code == 302
    db.session.expire_all()
    assert str(db.session.get(RepairCase, case.id).cost) == "350.50"

    wrong = client.post(
        f"/repairs/{case.id}/close", data={"outcome": "replaced", "replacement": "SN-BROKEN"}
    )
    assert wrong.status_code == 422 and "cannot replace itself" in text_of(wrong)
    done = client.post(
        f"/repairs/{case.id}/close", data={"outcome": "replaced", "replacement": "SN-SPARE"}
    )
    assert done.status_code == 302
    db.session.expire_all()
    old, new = db.session.get(Device, s["tablet"].id), db.session.get(Device, s["spare"].id)
    assert old.status == "faulty" and old.school_id is None
    assert new.status == "on_loan" and new.school_id == s["school"].id
    # The borrower keeps the loan, now of the new tablet.
    loan = db.session.scalar(sa.select(Loan).where(Loan.device_id == new.id))
    assert loan.borrower_id == s["loan"].borrower_id and loan.ended_at is None
    assert loan.due_on == s["loan"].due_on
    # Each history points to the other.
    old_events = db.session.scalars(
        sa.select(DeviceEvent).where(DeviceEvent.device_id == old.id).order_by(DeviceEvent.id)
    ).all()
    new_events = db.session.scalars(
        sa.select(DeviceEvent).where(DeviceEvent.device_id == new.id).order_by(DeviceEvent.id)
    ).all()
    assert (
        old_events[-1].type == "replaced_by"
        and old_events[-1].details["replacement"] == new.asset_tag
    )
    assert [e.type for e in new_events[-2:]] == ["replacement_for", "lent"]
    assert new_events[-2].details["replaces"] == old.asset_tag
    page = text_of(client.get(f"/repairs/{case.id}"))
    assert "Replaced by another tablet" in page and new.asset_tag in page
    assert "replaced by" in text_of(client.get(f"/devices/{old.id}"))


def test_repaired_goes_back_to_its_school_and_the_desk_closes_the_case_too(client, broken):
    s = broken
    case = db.session.scalar(sa.select(RepairCase))
    login(client, s["coordinator"])
    assert client.post(f"/repairs/{case.id}/close", data={"outcome": "repaired"}).status_code == 302
    db.session.expire_all()
    tablet = db.session.get(Device, s["tablet"].id)
    assert tablet.status == "delivered" and tablet.school_id == s["school"].id
    # Reported faulty again, then repaired from the tablet's own page: its case ends too.
    move_device(tablet, "reported_faulty", s["coordinator"])
    db.session.commit()
    second = db.session.scalar(sa.select(RepairCase).where(RepairCase.closed_at.is_(None)))
    assert second is not None and second.id != case.id
    move_device(db.session.get(Device, tablet.id), "repaired", s["coordinator"])
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(RepairCase, second.id).outcome == "repaired"


def test_warranty_by_model_and_the_alerts(app, client, broken, create_device, create_user):
    s = broken
    lent = create_device(serial="SN-SAME-MODEL", model="MatePad T10")
    lent.status, lent.school_id = "delivered", s["school"].id
    db.session.commit()
    login(client, s["coordinator"])
    soon = local_today() + timedelta(days=20)
    done = client.post(
        f"/devices/warranty/{lent.donation_id}",
        data={"model": "MatePad T10", "until": soon.isoformat()},
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Device, lent.id).warranty_until == soon
    edited = db.session.scalars(
        sa.select(DeviceEvent.type).where(DeviceEvent.device_id == lent.id)
    ).all()
    assert edited[-1] == "edited"

    app.config["REPAIR_ALERT_DAYS"] = 0
    manager = app.test_client()
    login(manager, create_user("manager"))
    alerts = text_of(manager.get("/alerts?kind=warranty_ending"))
    assert "École Al Amal" in alerts and "warranty ends" in alerts
    repairs = text_of(manager.get("/alerts?kind=repairs_open"))
    assert s["tablet"].asset_tag in repairs


@pytest.fixture
def school_tablets(create_user, create_school, create_device):
    """A school with two tablets (one lent), its head teacher, and another school's tablet."""
    school, other = create_school(name_fr="École Al Amal"), create_school(name_fr="École Voisine")
    kept, lent = create_device(serial="SN-KEPT"), create_device(serial="SN-LENT")
    stranger = create_device(serial="SN-ELSEWHERE")
    for device in (kept, lent):
        device.status, device.school_id = "delivered", school.id
    stranger.status, stranger.school_id = "delivered", other.id
    head = create_user("school")
    db.session.add(SchoolStaff(user_id=head.id, school_id=school.id))
    db.session.commit()
    loans.lend(head, school.id, lent.serial, "P-7", new_borrower={"name": "Yassine"})
    db.session.commit()
    return {"school": school, "kept": kept, "lent": lent, "stranger": stranger, "head": head}


def _open_case(device_id):
    return db.session.scalar(
        sa.select(RepairCase).where(
            RepairCase.device_id == device_id, RepairCase.closed_at.is_(None)
        )
    )


def test_school_staff_report_a_fault_with_a_photo_which_opens_the_case(client, school_tablets):
    s = school_tablets
    login(client, s["head"])
    home = text_of(client.get("/my-school"))
    assert "Report a faulty tablet" in home
    page = client.get(f"/schools/{s['school'].id}/report-fault")
    assert page.status_code == 200 and "What is wrong" in text_of(page)
    answer = client.post(
        f"/schools/{s['school'].id}/report-fault",
        data={
            "code": s["kept"].asset_tag,
            "fault": "L'écran ne s'allume plus",
            "photo": (io.BytesIO(_jpeg()), "fault.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 200
    case = _open_case(s["kept"].id)
    assert f"repair case {case.id} is open" in text_of(answer)
    assert case.fault == "L'écran ne s'allume plus" and case.opened_by_id == s["head"].id
    assert case.school_id == s["school"].id
    assert db.session.get(Device, s["kept"].id).status == "faulty"
    assert len(photos_of(case.id)) == 1
    # The office sees the case with the school's words.
    event = db.session.scalar(
        sa.select(DeviceEvent)
        .where(DeviceEvent.device_id == s["kept"].id)
        .order_by(DeviceEvent.id.desc())
    )
    assert event.type == "reported_faulty" and event.actor_id == s["head"].id


def test_a_lent_tablet_reported_faulty_leaves_its_loan(client, school_tablets):
    s = school_tablets
    login(client, s["head"])
    client.post(
        f"/schools/{s['school'].id}/report-fault",
        data={"code": s["lent"].serial, "fault": "Batterie gonflée"},
    )
    loan = db.session.scalar(sa.select(Loan).where(Loan.device_id == s["lent"].id))
    assert loan.ended_as == "faulty"
    assert _open_case(s["lent"].id).fault == "Batterie gonflée"


def test_a_fault_report_is_refused_with_its_reason_and_nothing_is_written(client, school_tablets):
    s = school_tablets
    login(client, s["head"])
    url = f"/schools/{s['school'].id}/report-fault"
    # Another school's tablet.
    refused = client.post(url, data={"code": s["stranger"].serial, "fault": "cassée"})
    assert refused.status_code == 422 and "is not a tablet of this school" in text_of(refused)
    # Nothing said about what is wrong (blanks only).
    blank = client.post(url, data={"code": s["kept"].serial, "fault": "   "})
    assert blank.status_code == 422
    # A file that is not a photo.
    bad = client.post(
        url,
        data={"code": s["kept"].serial, "fault": "écran", "photo": (io.BytesIO(b"x"), "a.jpg")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422
    assert db.session.get(Device, s["kept"].id).status == "delivered"
    assert _open_case(s["kept"].id) is None
    # Twice: the second says the case is open.
    client.post(url, data={"code": s["kept"].serial, "fault": "écran"})
    again = client.post(url, data={"code": s["kept"].serial, "fault": "écran"})
    assert again.status_code == 422 and "already reported faulty" in text_of(again)
    # Another school's page is not theirs.
    assert client.get(f"/schools/{s['stranger'].school_id}/report-fault").status_code == 404


def test_a_tablet_taken_back_damaged_is_reported_faulty_with_what_is_wrong(client, school_tablets):
    s = school_tablets
    login(client, s["head"])
    url = f"/schools/{s['school'].id}/take-back"
    # Damaged without a word: refused, the loan still open.
    silent = client.post(url, data={"code": s["lent"].serial, "condition": "damaged"})
    assert silent.status_code == 422 and "Say what is wrong" in text_of(silent)
    assert db.session.scalar(sa.select(Loan.ended_at).where(Loan.device_id == s["lent"].id)) is None
    back = client.post(
        url,
        data={
            "code": s["lent"].serial,
            "condition": "damaged",
            "fault": "Coin fendu",
            "photo": (io.BytesIO(_jpeg()), "coin.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert back.status_code == 200
    loan = db.session.scalar(sa.select(Loan).where(Loan.device_id == s["lent"].id))
    db.session.refresh(loan)
    assert loan.ended_as == "returned" and loan.condition_back == "damaged"
    assert db.session.get(Device, s["lent"].id).status == "faulty"
    case = _open_case(s["lent"].id)
    assert case.fault == "Coin fendu" and len(photos_of(case.id)) == 1


def test_a_tablet_taken_back_in_good_condition_opens_no_case(client, school_tablets):
    s = school_tablets
    login(client, s["head"])
    client.post(
        f"/schools/{s['school'].id}/take-back",
        data={"code": s["lent"].serial, "condition": "fair", "fault": "rayure"},
    )
    assert db.session.get(Device, s["lent"].id).status == "delivered"
    assert _open_case(s["lent"].id) is None


def test_closing_as_replaced_without_a_tablet_says_so_and_offers_the_other_outcomes(client, broken):
    s = broken
    case = db.session.scalar(sa.select(RepairCase))
    login(client, s["coordinator"])
    refused = client.post(
        f"/repairs/{case.id}/close", data={"outcome": "replaced", "replacement": "  "}
    )
    said = text_of(refused)
    assert refused.status_code == 422 and "Replaced by which tablet?" in said
    assert "choose another outcome: repaired or beyond repair" in said
    db.session.expire_all()
    assert db.session.get(RepairCase, case.id).closed_at is None
