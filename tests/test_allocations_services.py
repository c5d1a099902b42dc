"""Allocation plans: lifecycle, approval rules, reservations that never double-book."""

import pytest
import sqlalchemy as sa

from tracker.allocations import services
from tracker.allocations.models import PlanEvent
from tracker.auth.permissions import Forbidden
from tracker.devices.models import Device, DeviceEvent
from tracker.devices.services import move_device
from tracker.errors import Conflict, IllegalTransition, ValidationFailed
from tracker.extensions import db


def lines_of(plan):
    return db.session.scalars(plan.allocations.select()).all()


@pytest.fixture
def setting(create_user, create_donation, create_device, create_school):
    """A donation of 10 tablets and three schools needing 6, 3 and 1."""
    donation = create_donation(quantity=10)
    devices = [create_device(donation=donation) for _ in range(10)]
    schools = [create_school(need=6), create_school(need=3), create_school(need=1)]
    return {
        "coordinator": create_user("coordinator"),
        "manager": create_user("manager"),
        "donation": donation,
        "devices": devices,
        "schools": schools,
    }


def draft(setting, total=8, **options):
    plan = services.create_plan(
        name="Round 1", donation_id=setting["donation"].id, actor=setting["coordinator"]
    )
    services.propose_plan(
        plan.id,
        total=total,
        school_ids=[s.id for s in setting["schools"]],
        actor=setting["coordinator"],
        **options,
    )
    db.session.commit()
    return plan


def approved(setting, total=8):
    plan = draft(setting, total)
    services.submit_plan(plan.id, setting["coordinator"])
    services.approve_plan(plan.id, setting["manager"])
    db.session.commit()
    return plan


def held_by(plan) -> dict[str, list[str]]:
    rows = db.session.execute(
        sa.select(Device.asset_tag, Device.school_id, Device.status)
        .where(Device.allocation_id.in_([line.id for line in lines_of(plan)]))
        .order_by(Device.id)
    ).all()
    result = {}
    for tag, school_id, status in rows:
        assert status == "reserved"
        result.setdefault(school_id, []).append(tag)
    return result


def test_proposal_lines_and_totals(app, setting):
    plan = draft(setting, total=8)
    quantities = {
        line.school_id: line.quantity for line in db.session.scalars(plan.allocations.select())
    }
    schools = setting["schools"]
    assert [quantities[s.id] for s in schools] == [5, 2, 1]
    actions = db.session.scalars(sa.select(PlanEvent.action).order_by(PlanEvent.id)).all()
    assert actions == ["created", "proposed"]


def test_proposal_is_capped_by_the_pool(app, setting):
    plan = draft(setting, total=500)
    assert services.planned_total(plan) == 10  # the whole need, 10 in stock


def test_approval_reserves_first_registered_first_out(app, setting):
    plan = approved(setting, total=8)
    schools, devices = setting["schools"], setting["devices"]
    held = held_by(plan)
    assert held[schools[0].id] == [d.asset_tag for d in devices[:5]]
    assert sum(len(tags) for tags in held.values()) == 8
    events = db.session.scalars(sa.select(DeviceEvent).where(DeviceEvent.type == "reserved"))
    events = list(events)
    assert len(events) == 8 and {e.from_status for e in events} == {"in_stock"}
    assert {e.actor_id for e in events} == {setting["manager"].id}
    assert plan.status == "approved" and plan.approved_by_id == setting["manager"].id


def test_only_managers_approve_and_never_their_own_plan(app, setting, create_user):
    plan = draft(setting)
    services.submit_plan(plan.id, setting["coordinator"])
    with pytest.raises(Forbidden, match="Only a manager or an admin"):
        services.approve_plan(plan.id, setting["coordinator"])
    admin = create_user("admin")
    other = draft(setting)
    services.submit_plan(other.id, admin)
    with pytest.raises(IllegalTransition, match="You submitted this plan"):
        services.approve_plan(other.id, admin)


def test_states_refuse_wrong_moves(app, setting):
    plan = draft(setting)
    with pytest.raises(IllegalTransition, match="is draft: it cannot be approved"):
        services.approve_plan(plan.id, setting["manager"])
    services.submit_plan(plan.id, setting["coordinator"])
    with pytest.raises(IllegalTransition, match="is awaiting approval: it cannot be edited"):
        services.set_quantities(plan.id, {}, setting["coordinator"])
    services.send_back(plan.id, setting["manager"], "fewer for school 1")
    assert plan.status == "draft"


def test_approval_is_all_or_nothing_when_stock_is_short(app, setting):
    plan = draft(setting, total=8)
    for device in setting["devices"][:4]:
        move_device(device, "reported_faulty", None)
    services.submit_plan(plan.id, setting["coordinator"])
    db.session.commit()
    with pytest.raises(Conflict, match="needs 8 tablets but only 6 are in stock"):
        services.approve_plan(plan.id, setting["manager"])
    db.session.rollback()
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Device).where(Device.status == "reserved")
        )
        == 0
    )


def test_two_plans_never_reserve_one_tablet_twice(app, setting):
    first = approved(setting, total=8)
    second = draft(setting, total=8)
    assert services.planned_total(second) == 2  # only 2 left in the pool
    services.submit_plan(second.id, setting["coordinator"])
    services.approve_plan(second.id, setting["manager"])
    db.session.commit()
    tags = [t for tags in held_by(first).values() for t in tags]
    tags += [t for tags in held_by(second).values() for t in tags]
    assert len(tags) == len(set(tags)) == 10


def test_changing_a_quantity_reserves_or_releases(app, setting):
    plan = approved(setting, total=8)
    school = setting["schools"][0]
    services.change_quantity(plan.id, school.id, 6, setting["coordinator"])
    assert len(held_by(plan)[school.id]) == 6
    services.change_quantity(plan.id, school.id, 2, setting["coordinator"])
    db.session.commit()
    assert len(held_by(plan)[school.id]) == 2
    in_stock = db.session.scalar(
        sa.select(sa.func.count()).select_from(Device).where(Device.status == "in_stock")
    )
    assert in_stock == 10 - (2 + 2 + 1)


def test_cancel_returns_every_reserved_tablet(app, setting):
    plan = approved(setting, total=8)
    with pytest.raises(Forbidden, match="Only a coordinator or an admin cancels"):
        services.cancel_plan(plan.id, setting["manager"], "budget moved")
    services.cancel_plan(plan.id, setting["coordinator"], "budget moved")
    db.session.commit()
    assert plan.status == "cancelled"
    assert {d.status for d in db.session.scalars(sa.select(Device))} == {"in_stock"}
    released = db.session.scalars(sa.select(DeviceEvent).where(DeviceEvent.type == "released"))
    assert len(list(released)) == 8
    with pytest.raises(IllegalTransition, match="is cancelled: it cannot be cancelled"):
        services.cancel_plan(plan.id, setting["coordinator"])


def test_a_tablet_moved_meanwhile_stops_the_reservation(app, setting):
    from tracker.devices.bulk import move_devices

    device = setting["devices"][0]
    move_device(device, "reported_lost", None)
    with pytest.raises(Conflict, match="changed state at the same moment"):
        move_devices([device.id], "reserved", None, school_id=setting["schools"][0].id)


def test_submit_needs_a_tablet_and_proposals_need_schools(app, setting):
    plan = services.create_plan(name="Empty", donation_id=None, actor=None)
    with pytest.raises(ValidationFailed, match="Choose at least one school"):
        services.propose_plan(plan.id, total=5, school_ids=[], actor=None)
    with pytest.raises(ValidationFailed, match="gives no tablet"):
        services.submit_plan(plan.id, None)


def test_concurrent_approvals_over_one_pool_never_double_book(app, setting, create_user):
    """Four managers approve four plans over one pool at the same moment (PostgreSQL)."""
    import threading

    from flask import current_app

    from tracker.auth.models import User

    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks (FOR UPDATE SKIP LOCKED) are PostgreSQL's; SQLite serialises")
    plans = []
    for _n in range(4):
        plan = draft(setting, total=4)  # each asks for 4 of the 10 tablets
        services.submit_plan(plan.id, setting["coordinator"])
        plans.append(plan.id)
    managers = [create_user("manager").id for _ in plans]
    db.session.commit()
    real_app = current_app._get_current_object()
    barrier = threading.Barrier(len(plans))
    outcomes = []

    def approve(plan_id, manager_id):
        with real_app.app_context():
            barrier.wait()
            try:
                services.approve_plan(plan_id, db.session.get(User, manager_id))
                db.session.commit()
                outcomes.append("approved")
            except Conflict as error:
                db.session.rollback()
                outcomes.append(str(error))
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=approve, args=pair) for pair in zip(plans, managers, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    db.session.expire_all()
    reserved = db.session.scalars(sa.select(Device).where(Device.status == "reserved")).all()
    assert len(reserved) == 4 * outcomes.count("approved") <= 10
    assert outcomes.count("approved") == 2  # 4 + 4 fit in 10; a third would need 12
    refusals = [text for text in outcomes if text != "approved"]
    assert all("needs 4 tablets but only 2 are in stock" in text for text in refusals)
    events = db.session.scalar(
        sa.select(sa.func.count()).select_from(DeviceEvent).where(DeviceEvent.type == "reserved")
    )
    assert events == len(reserved)


def test_swap_a_faulty_reserved_tablet_before_dispatch(app, setting, client):
    from conftest import login

    plan = approved(setting, total=8)
    school = setting["schools"][0]
    first = db.session.scalar(
        sa.select(Device).where(Device.school_id == school.id).order_by(Device.id)
    )
    login(client, setting["coordinator"])
    response = client.post(
        f"/devices/{first.id}/swap", data={"note": "Screen dead"}, follow_redirects=True
    )
    assert "is reserved in its place" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Device, first.id).status == "faulty"
    assert len(held_by(plan)[school.id]) == 5  # still five for this school
    assert setting["devices"][8].asset_tag in held_by(plan)[school.id]
    with pytest.raises(IllegalTransition, match="Only a tablet reserved by a plan"):
        services.swap_device(first.id, None)


def test_two_approvals_in_one_transaction(app, setting):
    """The reservation's temporary table does not outlive its statement group."""
    first, second = draft(setting, total=4), draft(setting, total=4)
    for plan in (first, second):
        services.submit_plan(plan.id, setting["coordinator"])
    services.approve_plan(first.id, setting["manager"])
    services.approve_plan(second.id, setting["manager"])
    db.session.commit()
    tags = [t for plan in (first, second) for tags in held_by(plan).values() for t in tags]
    assert len(tags) == len(set(tags)) == 8


def test_choosing_schools_by_place_or_by_codes(app, create_school):
    a = create_school(code="A1", region="Souss-Massa", province="Tiznit", commune="Tiznit")
    b = create_school(code="B2", region="Souss-Massa", province="Agadir")
    c = create_school(code="C3", region="L'Oriental")
    assert set(services.choose_schools(region="Souss-Massa")) == {a.id, b.id}
    assert services.choose_schools(region="Souss-Massa", province="Tiznit") == [a.id]
    assert set(services.choose_schools()) == {a.id, b.id, c.id}
    assert set(services.choose_schools(codes="a1, c3\n")) == {a.id, c.id}
    with pytest.raises(ValidationFailed, match="Unknown school codes: ZZ9.") as refused:
        services.choose_schools(codes="A1\nZZ9")
    assert refused.value.field == "codes"


def test_approval_refreshes_the_planners_figures_on_postgresql(app, setting):
    """After reserving in bulk, PostgreSQL's planner is told (ANALYZE): with the old figures
    it planned the next step, creating the deliveries, in minutes instead of a second."""
    from sqlalchemy import event

    plan = draft(setting)
    services.submit_plan(plan.id, setting["coordinator"])
    sent = []

    def listener(_conn, _cursor, statement, *_args):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        services.approve_plan(plan.id, setting["manager"])
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    analyzed = [s for s in sent if s.startswith("ANALYZE")]
    if db.engine.dialect.name == "postgresql":
        assert analyzed == ["ANALYZE devices, allocations"]
    else:
        assert analyzed == []
