"""Moving tablets between schools: proposed from idle tablets and unmet need, approved by a
second person, scanned out at the first school, handed over at the second with the same
proof; the donation stays with each tablet."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from conftest import handover_form, login, scan, text_of
from tracker.database import utcnow
from tracker.deliveries.models import Delivery
from tracker.devices.models import Device, DeviceEvent
from tracker.extensions import db
from tracker.loans.models import Borrower, Loan
from tracker.transfers import services
from tracker.transfers.models import Transfer


@pytest.fixture
def surplus(create_user, create_school, create_device):
    """A school with 4 tablets for a need of 1 (one lent last month), and a school of the
    same province with a need of 2 and none."""
    rich = create_school(name_fr="École Riche", province="Rabat", need=1)
    poor = create_school(name_fr="École Pauvre", province="Rabat", need=2)
    tablets = [create_device(serial=f"SN-T-{n}") for n in range(4)]
    for device in tablets:
        device.status, device.school_id = "delivered", rich.id
    borrower = Borrower(school_id=rich.id, code="P-1", name="Amina")
    db.session.add(borrower)
    db.session.flush()
    db.session.add(
        Loan(
            device_id=tablets[3].id,
            borrower_id=borrower.id,
            school_id=rich.id,
            lent_at=utcnow() - timedelta(days=60),
            due_on=(utcnow() - timedelta(days=30)).date(),
            agreement_version="2026-1",
            ended_at=utcnow() - timedelta(days=30),
            ended_as="returned",
            accessories_back="",
        )
    )
    db.session.commit()
    return {
        "rich": rich,
        "poor": poor,
        "tablets": tablets,
        "coordinator": create_user("coordinator"),
        "manager": create_user("manager"),
        "agent": create_user("field"),
        "other_agent": create_user("field"),
    }


def test_idle_tablets_are_proposed_approved_by_another_scanned_out_and_handed_over(
    app, client, surplus
):
    s = surplus
    login(client, s["coordinator"])
    assert client.post("/transfers/propose").status_code == 302
    (transfer,) = db.session.scalars(sa.select(Transfer)).all()
    # 3 idle (the fourth was lent a month ago), need 1: 2 to spare; the other needs 2.
    assert (transfer.from_school_id, transfer.to_school_id, transfer.quantity) == (
        s["rich"].id,
        s["poor"].id,
        2,
    )
    assert transfer.reason == "surplus"
    client.post(f"/transfers/{transfer.id}/submit")
    db.session.expire_all()
    assert db.session.get(Transfer, transfer.id).status == "submitted"

    manager = app.test_client()
    login(manager, s["manager"])
    assert 'data-testid="approve"' in manager.get(f"/transfers/{transfer.id}").get_data(
        as_text=True
    )
    manager.post(f"/transfers/{transfer.id}/approve")
    db.session.expire_all()
    assert db.session.get(Transfer, transfer.id).status == "approved"

    agent = app.test_client()
    login(agent, s["agent"])
    # Not theirs until the office gives it to them: it does not exist for them.
    assert agent.get(f"/transfers/{transfer.id}").status_code == 404
    assert 'data-testid="assign"' in client.get(f"/transfers/{transfer.id}").get_data(as_text=True)
    client.post(f"/transfers/{transfer.id}/assign", data={"assigned_to_id": s["agent"].id})
    assert agent.get(f"/transfers/{transfer.id}").status_code == 200
    other = app.test_client()
    login(other, s["other_agent"])
    for url in (f"/transfers/{transfer.id}", f"/transfers/{transfer.id}/leave"):
        answer = other.post(url) if url.endswith("leave") else other.get(url)
        assert answer.status_code == 404
    assert (
        other.post(
            f"/transfers/{transfer.id}/scan",
            data={"code": s["tablets"][0].serial},
            headers={"Accept": "application/json"},
        ).status_code
        == 404
    )
    assert f"TRF-{transfer.id:05d}" not in other.get("/transfers/").get_data(as_text=True)
    lent = agent.post(
        f"/transfers/{transfer.id}/scan",
        data={"code": s["tablets"][3].serial},
        headers={"Accept": "application/json"},
    )
    assert lent.status_code == 200  # not lent now: it may go
    first = s["tablets"][0]
    answer = agent.post(
        f"/transfers/{transfer.id}/scan",
        data={"code": first.serial},
        headers={"Accept": "application/json"},
    ).get_json()
    assert answer == {"ok": True, "message": f"{first.asset_tag} scanned out."}
    # On the road from its first tablet: the office cannot cancel it and strand them.
    from tracker.deliveries.services import cancel_delivery
    from tracker.errors import DomainError

    db.session.expire_all()
    with pytest.raises(DomainError):
        cancel_delivery(db.session.get(Transfer, transfer.id).delivery_id, s["coordinator"])
    db.session.rollback()
    third = agent.post(
        f"/transfers/{transfer.id}/scan",
        data={"code": s["tablets"][1].serial},
        headers={"Accept": "application/json"},
    )
    assert third.status_code == 400 and "they are all scanned out" in third.get_json()["message"]
    assert agent.post(f"/transfers/{transfer.id}/leave").status_code == 302
    db.session.expire_all()
    transfer = db.session.get(Transfer, transfer.id)
    assert transfer.status == "on_the_way"
    delivery = db.session.get(Delivery, transfer.delivery_id)
    assert delivery.status == "dispatched" and delivery.school_id == s["poor"].id
    assert delivery.assigned_to_id == s["agent"].id
    moved = db.session.get(Device, first.id)
    assert (moved.status, moved.school_id) == ("in_transit", s["poor"].id)

    # At the second school: the same scan and hand-over as any delivery, the same proof.
    for device in (first, s["tablets"][3]):
        assert scan(agent, delivery.id, device.serial).status_code == 200
    done = agent.post(f"/deliveries/{delivery.id}/handover", data=handover_form())
    assert done.status_code == 302, text_of(done)
    db.session.expire_all()
    delivery = db.session.get(Delivery, delivery.id)
    assert delivery.status == "delivered" and delivery.signature_png
    arrived = db.session.get(Device, first.id)
    assert (arrived.status, arrived.school_id) == ("delivered", s["poor"].id)
    assert arrived.donation_id == first.donation_id  # the donor report follows it
    types = db.session.scalars(
        sa.select(DeviceEvent.type)
        .where(DeviceEvent.device_id == first.id)
        .order_by(DeviceEvent.id)
    ).all()
    assert types[-2:] == ["transferred_out", "delivered"]


def test_the_submitter_does_not_approve_and_a_by_hand_transfer_is_checked(app, surplus):
    from tracker.auth.services import create_user
    from tracker.errors import Conflict, ValidationFailed

    s = surplus
    admin = create_user("boss@example.org", "admin", "correct horse battery")
    with pytest.raises(ValidationFailed, match="not lent for a year: it cannot give 9"):
        services.create_transfer(admin, s["rich"].id, s["poor"].id, 9)
    transfer = services.create_transfer(admin, s["rich"].id, s["poor"].id, 1, "Classe fermée")
    services.submit(admin, transfer.id)
    with pytest.raises(Conflict, match="Another person approves"):
        services.approve(admin, transfer.id)
    services.approve(s["manager"], transfer.id)
    services.cancel(admin, transfer.id)
    db.session.commit()
    assert db.session.get(Transfer, transfer.id).status == "cancelled"


def test_proposing_nothing_says_why(app, client, surplus):
    """After the gate: "Transfers proposed: 0." gave no reason."""
    from tracker.schools.models import School

    s = surplus
    login(client, s["coordinator"])
    client.post("/transfers/propose")
    again = client.post("/transfers/propose", follow_redirects=True)
    assert "a transfer between them is already open" in text_of(again)
    db.session.get(School, s["poor"].id).need = 0
    db.session.commit()
    assert "no school is short of its need" in text_of(
        client.post("/transfers/propose", follow_redirects=True)
    )
    db.session.get(School, s["rich"].id).need = 10
    db.session.commit()
    assert "no school has tablets idle beyond its need" in text_of(
        client.post("/transfers/propose", follow_redirects=True)
    )
