"""Benchmark: the managers' dashboard and the history browser at national scale (SQLite).

    .venv/bin/python scripts/bench_dashboard.py [--schools 25000] [--devices 1500000]

Figures, each beside a baseline measured in the same run:
  dashboard   rendering / (signed in as a manager) vs running the bare aggregate queries
              it needs; and the number of SQL statements the page sends (goal: <= 10)
  history     page 1,000 of the history browser vs page 1 (keyset pages: goal about 1x)
Goal for the dashboard: within 2x of its bare queries. Each time is the best of 3 runs.
"""

import argparse
import os
import random
import secrets
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

GOAL = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=25_000)
    parser.add_argument("--devices", type=int, default=1_500_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
    os.environ["TRACKER_INSTANCE_PATH"] = str(folder)

    import sqlalchemy as sa
    from sqlalchemy import event

    from tracker import create_app
    from tracker.allocations import services as plans
    from tracker.allocations.models import Allocation, AllocationPlan
    from tracker.auth.services import create_user
    from tracker.dashboard import alerts, queries
    from tracker.database import utcnow
    from tracker.devices.models import Device, DeviceEvent
    from tracker.donations.services import create_donation
    from tracker.extensions import db
    from tracker.schools.models import School
    from tracker.timezone import local_today

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite'}",
            "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
            "WTF_CSRF_ENABLED": False,
            "BABEL_DEFAULT_LOCALE": "en",
        }
    )
    rng = random.Random(2020)
    with app.app_context():
        db.create_all()
        coordinator = create_user("c@bench.test", "coordinator", "x", check_strength=False)
        manager = create_user("m@bench.test", "manager", "x", check_strength=False)
        donation = create_donation(
            reference="BENCH",
            donor_name="Bench",
            received_on=date(2020, 12, 28),
            quantity=args.devices,
        )
        now = utcnow()
        db.session.execute(
            sa.insert(School),
            [
                {
                    "code": f"S{n:06d}",
                    "name_fr": f"École {n}",
                    "region": f"Région {n % 12}",
                    "province": f"Province {n % 75}",
                    "need": rng.randint(5, 120),
                    "enrolment": rng.randint(50, 2000),
                    "latitude": 28 + rng.random() * 8,
                    "longitude": -13 + rng.random() * 11,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(args.schools)
            ],
        )
        from tracker.devices.depots import central_depot

        central = central_depot().id  # where stock is held (0031)
        for start in range(0, args.devices, 50_000):
            db.session.execute(
                sa.insert(Device),
                [
                    {
                        "asset_tag": f"TAB-{n:07d}",
                        "qr_token": secrets.token_urlsafe(16),
                        "serial": f"SN{n:09d}",
                        "model": "T10",
                        "donation_id": donation.id,
                        "status": "in_stock",
                        "depot_id": central,
                        "condition": "new",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(start, min(start + 50_000, args.devices))
                ],
            )
        # Every device's registration, as an import writes it: the history to browse.
        db.session.execute(
            sa.insert(DeviceEvent).from_select(
                ["device_id", "type", "occurred_at", "to_status", "details"],
                sa.select(
                    Device.id,
                    sa.literal("registered"),
                    sa.literal(now, DeviceEvent.occurred_at.type),
                    sa.literal("in_stock"),
                    sa.literal({}, sa.JSON()),
                ),
            )
        )
        db.session.commit()
        # A national plan reserving a third of the tablets, two thirds of them delivered.
        plan = plans.create_plan(name="National", donation_id=donation.id, actor=coordinator)
        school_ids = list(db.session.scalars(sa.select(School.id)))
        plans.propose_plan(
            plan.id, total=args.devices // 3, school_ids=school_ids, actor=coordinator
        )
        plans.submit_plan(plan.id, coordinator)
        plans.approve_plan(plan.id, manager)
        db.session.commit()
        delivered_ids = (
            sa.select(Device.id).where(Device.status == "reserved").limit(args.devices * 2 // 9)
        )
        for weeks_ago in range(10):
            day = now - timedelta(weeks=weeks_ago, days=1)
            batch = (
                sa.select(Device.id)
                .where(Device.id.in_(delivered_ids), Device.id % 10 == weeks_ago)
                .scalar_subquery()
            )
            db.session.execute(
                sa.insert(DeviceEvent).from_select(
                    ["device_id", "type", "occurred_at", "from_status", "to_status", "details"],
                    sa.select(
                        Device.id,
                        sa.literal("delivered"),
                        sa.literal(day, DeviceEvent.occurred_at.type),
                        sa.literal("in_transit"),
                        sa.literal("delivered"),
                        sa.literal({}, sa.JSON()),
                    ).where(Device.id.in_(batch)),
                )
            )
        db.session.execute(
            sa.update(Device).where(Device.id.in_(delivered_ids)).values(status="delivered")
        )
        plan = db.session.get(AllocationPlan, plan.id)
        plan.status = "partially_fulfilled"
        db.session.commit()
        events = db.session.scalar(sa.select(sa.func.count()).select_from(DeviceEvent))
        allocated = db.session.scalar(sa.select(sa.func.sum(Allocation.quantity)))

        client = app.test_client()
        client.post("/login", data={"email": "m@bench.test", "password": "x"})

        def best(work, runs=3):
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                work()
                times.append(time.perf_counter() - started)
            return min(times)

        statements = []
        counter = lambda *_args: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", counter)
        assert client.get("/").status_code == 200
        event.remove(db.engine, "before_cursor_execute", counter)

        dashboard = best(lambda: client.get("/"))

        def bare():
            # The same aggregates the page needs, run raw, nothing rendered.
            queries.donations_with_counts()
            queries.progress()
            queries.active_plans()
            queries.delivered_by_week()
            alerts.alert_counts(local_today())

        bare_time = best(bare)

        ids = db.session.scalars(
            sa.select(DeviceEvent.id)
            .order_by(DeviceEvent.id.desc())
            .offset(min(999 * 50 - 1, max(events - 60, 0)))  # page 1,000, or the last one
        )
        page_1000_before = next(iter(ids))
        first_page = best(lambda: client.get("/history"), runs=5)
        far_page = best(lambda: client.get(f"/history?before={page_1000_before}"), runs=5)

    print(
        f"schools: {args.schools}, devices: {args.devices}, allocated: {allocated}, "
        f"events: {events}, SQLite, Python {sys.version.split()[0]}"
    )
    ratio = dashboard / bare_time
    print(
        f"dashboard   render / vs its bare aggregate queries\n"
        f"            measured {dashboard:8.3f} s   baseline {bare_time:8.3f} s   "
        f"ratio {ratio:5.2f}  (goal <= {GOAL})  {'PASS' if ratio <= GOAL else 'FAIL'}"
    )
    print(
        f"            SQL statements sent by the page: {len(statements)}  (goal <= 10)  "
        f"{'PASS' if len(statements) <= 10 else 'FAIL'}"
    )
    history_ratio = far_page / first_page
    print(
        f"history     page 1,000 (before event {page_1000_before}) vs page 1\n"
        f"            measured {far_page:8.3f} s   baseline {first_page:8.3f} s   "
        f"ratio {history_ratio:5.2f}"
    )
    ok = ratio <= GOAL and len(statements) <= 10 and history_ratio <= GOAL
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
