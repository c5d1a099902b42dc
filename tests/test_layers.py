"""Rules that were written twice and drifted, now with one home each (see
docs/architecture.md): the codes a tablet has had, plan fulfilment, cancelling in bulk."""

from datetime import UTC, datetime

import sqlalchemy as sa

from conftest import (
    BASE_URL,
    dispatched_delivery,
    download,
    login,
    scan,
    signature_data_url,
    statements_of,
    token_for,
)
from tracker.deliveries import handover
from tracker.devices.services import replace_label
from tracker.extensions import db


def test_a_replaced_label_answers_replaced_in_every_scan_and_lookup(app, client, delivery_setting):
    s = delivery_setting
    delivery_id = dispatched_delivery(s)
    device = s["a_devices"][0]
    old = device.qr_token
    replace_label(device.id, s["coordinator"], "label torn")
    db.session.commit()
    expected = f"This label was replaced: {device.asset_tag} now carries a new label"
    # At the school, by the service the page and the phone use.
    result = handover.field_scan(delivery_id, f"{BASE_URL}/d/{old}", s["agent"])
    assert not result.ok and expected in result.message
    db.session.rollback()
    # The API's lookup and the offline sync.
    headers = token_for(s["agent"])
    lookup = client.get("/api/v1/devices/lookup", query_string={"code": old}, headers=headers)
    assert lookup.status_code == 404 and expected in lookup.get_json()["error"]
    answer = client.post(
        "/api/v1/sync",
        headers=headers,
        json={
            "actions": [
                {"id": "old-label-01", "type": "scan", "delivery_id": delivery_id, "code": old}
            ]
        },
    ).get_json()["results"][0]
    assert answer["status"] == "rejected" and expected in answer["message"]
    # Packing at the office.
    from tracker.deliveries import services

    (planned,) = services.create_deliveries(
        s["plan"].id,
        actor=s["coordinator"],
        assigned_to_id=None,
        planned_on=None,
        school_ids=[s["school_b"].id],
    )
    db.session.commit()
    login(client, s["coordinator"])
    packed = scan(client, planned.id, old).get_json()
    assert not packed["ok"] and expected in packed["message"]
    # The history still finds the tablet by its old label.
    page = client.get("/history", query_string={"code": old})
    assert device.asset_tag in page.get_data(as_text=True)


def _hand_over_all(s, school: str):
    delivery_id = dispatched_delivery(s, school)
    devices = s["a_devices"] if school == "school_a" else s["b_devices"]
    for device in devices:
        handover.field_scan(delivery_id, device.asset_tag, s["agent"])
    handover.confirm_handover(
        delivery_id,
        actor=s["agent"],
        recipient_name="Mme Alaoui",
        recipient_role="Directrice",
        signature=signature_data_url(),
    )
    db.session.commit()


def test_plan_fulfilment_is_in_the_plans_history_and_a_coordinator_closes_it(
    app, client, delivery_setting
):
    from tracker.allocations import services as plans
    from tracker.allocations.models import AllocationPlan, PlanEvent
    from tracker.auth.permissions import Forbidden
    from tracker.errors import ValidationFailed

    s = delivery_setting
    plan_id = s["plan"].id
    _hand_over_all(s, "school_a")
    assert db.session.get(AllocationPlan, plan_id).status == "partially_fulfilled"
    _hand_over_all(s, "school_b")
    plan = db.session.get(AllocationPlan, plan_id)
    assert plan.status == "fulfilled"
    history = db.session.scalars(
        sa.select(PlanEvent.action).where(PlanEvent.plan_id == plan_id).order_by(PlanEvent.id)
    ).all()
    assert history[-2:] == ["partially_fulfilled", "fulfilled"]
    for who, error in ((s["manager"], Forbidden), (s["coordinator"], ValidationFailed)):
        try:
            plans.close_plan(plan_id, who, "")
            raise AssertionError("closed without the right role or a reason")
        except error:
            db.session.rollback()
    login(client, s["coordinator"])
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "Close the plan" in page and "Every tablet delivered" in page
    client.post(f"/plans/{plan_id}/close", data={"note": "Round done"})
    db.session.expire_all()
    assert db.session.get(AllocationPlan, plan_id).status == "closed"
    event = db.session.scalars(sa.select(PlanEvent).order_by(PlanEvent.id.desc())).first()
    assert event.action == "closed" and event.details["reason"] == "Round done"


def test_one_event_shows_the_same_local_time_on_the_page_and_in_the_workbook(
    app, client, create_device, signed_in, runner, tmp_path
):
    import io

    import openpyxl

    from tracker.devices.models import DeviceEvent

    device = create_device()
    moment = datetime(2026, 12, 1, 19, 40, tzinfo=UTC)
    # The history is append-only (PostgreSQL refuses an UPDATE): a new event at that time.
    db.session.add(DeviceEvent(device_id=device.id, type="edited", occurred_at=moment, details={}))
    db.session.commit()
    signed_in("coordinator")
    page = client.get(f"/devices/{device.id}").get_data(as_text=True)
    # Rabat is UTC+1 in December: 19:40 UTC is 20:40 there (pytz said 19:40).
    assert "8:40:00" in page or "20:40:00" in page, "the page shows the programme's time"
    book = openpyxl.load_workbook(io.BytesIO(download(client, "/exports/history.xlsx").data))
    times = [
        value
        for row in book.worksheets[0].iter_rows(values_only=True)
        for value in row
        if hasattr(value, "hour")
    ]
    assert any((t.hour, t.minute) == (20, 40) for t in times), times
    assert not any((t.hour, t.minute) == (19, 40) for t in times), times


def test_cancelling_a_plan_takes_the_same_statements_for_2_or_12_schools(
    app, create_user, create_donation, create_device, create_school
):
    from tracker.allocations import services as plans
    from tracker.devices.models import Device

    coordinator, manager = create_user("coordinator"), create_user("manager")
    donation = create_donation(quantity=24)
    for _n in range(24):
        create_device(donation=donation)
    schools = [create_school(need=2) for _n in range(12)]
    counts = []
    for chosen in (schools[:2], schools):
        plan = plans.create_plan(name=f"P{len(chosen)}", donation_id=donation.id, actor=coordinator)
        plans.propose_plan(
            plan.id, total=2 * len(chosen), school_ids=[s.id for s in chosen], actor=coordinator
        )
        plans.submit_plan(plan.id, coordinator)
        plans.approve_plan(plan.id, manager)
        db.session.commit()
        counts.append(
            statements_of(
                lambda plan=plan: (
                    plans.cancel_plan(plan.id, coordinator, "budget moved"),
                    db.session.commit(),
                )
            )
        )
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Device).where(Device.status == "reserved")
            )
            == 0
        )
    assert counts[0] == counts[1], counts


def test_only_the_transaction_boundary_commits():
    """Services add and flush; a request, a CLI command or a background run commits once,
    through tracker/transaction.py, and rolls back on any error."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "tracker"
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.py")
        if path.name != "transaction.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"\.commit\(", line)
    ]
    assert not offenders, offenders


def test_templates_name_no_role_and_test_no_state():
    """Who may do what is asked of the routes (`may_open`) and of each feature's
    `allowed_actions`; a template that names a role or compares a state re-encodes a rule."""
    import re
    from pathlib import Path

    roles = "|".join(("admin", "coordinator", "manager", "field"))
    rule = re.compile(rf"\{{%[^%]*(has_role|'({roles})'|\.status\s*(==|!=|in\s))")
    root = Path(__file__).resolve().parent.parent / "templates"
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.html")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if rule.search(line)
    ]
    assert not offenders, offenders


def test_roles_are_named_only_by_the_permissions():
    """Which roles may do what is written once, in tracker/auth/permissions.py: no other
    module spells a role in a tuple or compares a user's role with one."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "tracker"
    roles = "admin|coordinator|manager|field"
    rule = re.compile(rf"\(\s*\"({roles})\",\s*\"|\.role\s*(==|!=|in|not in)\s")
    # The role list itself, the last-admin guard, and the sign-in wall that checks a route's
    # roles (given by `requires`).
    allowed = {"auth/permissions.py", "auth/models.py", "auth/services.py", "web.py"}
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.py")
        if str(path.relative_to(root)) not in allowed
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if rule.search(line)
    ]
    assert not offenders, offenders


def test_can_answers_for_the_role_and_for_the_thing(delivery_setting):
    """`can(user, action, thing)`: the role from GRANTS, the state from the feature's table,
    and the thing's own rule (a field agent acts on their own delivery only)."""
    from tracker.allocations.states import PLAN_STATES
    from tracker.auth.permissions import GRANTS, can
    from tracker.deliveries.states import DELIVERY_STATES

    s = delivery_setting
    assert {f"plans.{a}" for a in PLAN_STATES} <= set(GRANTS)
    assert {f"deliveries.{a}" for a in DELIVERY_STATES} <= set(GRANTS)
    plan = s["plan"]  # approved
    assert can(s["coordinator"], "plans.change", plan)
    assert not can(s["coordinator"], "plans.approve", plan)
    assert not can(s["manager"], "plans.change", plan)
    assert can(s["manager"], "plans.read") and not can(s["agent"], "plans.read")
    delivery_id = dispatched_delivery(s)
    from tracker.deliveries.services import get_delivery

    delivery = get_delivery(delivery_id)
    assert can(s["agent"], "deliveries.hand_over", delivery)
    assert not can(s["other_agent"], "deliveries.hand_over", delivery)
    assert not can(s["manager"], "deliveries.hand_over", delivery)
    assert not can(s["coordinator"], "deliveries.pack", delivery)  # already on the road
    assert not can(None, "devices.read")


def test_no_module_imports_itself_back_through_others():
    """A circle of imports (even one hidden in a function) means two modules that each need
    the other: the lower one exposes a hook instead (`queue.worker_hook`, `attachment_maker`)."""
    import grimp

    graph = grimp.build_graph("tracker")
    circles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if imported != module and graph.chain_exists(imported, module):
                circles.append((module, imported))
    assert circles == []
