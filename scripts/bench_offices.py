"""Benchmark: a regional office's pages cost what the national office's do (SQLite default).

    .venv/bin/python scripts/bench_offices.py [--schools 25000] [--devices 1500000]
        [--database-url postgresql://...]

One data set from scripts/synthetic.py (schools over 12 regions and 75 provinces), two
coordinators: the national one (no areas) and one of "Région 3" (a twelfth of the schools),
each signed in on its own client; side by side, asked in turns:
  pages       the device list, the dashboard, the search box (a serial of the region), the
              schools and the progress: regional vs national time (goal <= 1.2x) and the
              SQL statements each sends (goal: the same count — scoping is a clause of the
              queries the page already runs, never a statement per row)
  approval    a regional plan drawing on the region's depot approved by its manager (every
              tablet reserved with one event each), vs a bare UPDATE of the same rows
              (goal <= 2x)
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic  # noqa: E402

PAGE_GOAL, APPROVAL_GOAL = 1.2, 2.0
REGION = "Région 3"
# The device list twice: as it opens (the national office's first page is of tablets in
# stock, the region's of tablets at its schools, which show more), and of tablets delivered
# on both sides (the same rows to show).
PAGES = [
    "/devices/",
    "/devices/?status=delivered",
    "/",
    "/search?q={serial}",
    "/schools/",
    "/progress",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=25_000)
    parser.add_argument("--devices", type=int, default=1_500_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default="", help="PostgreSQL (emptied first)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tracker-bench-offices-"))
    os.environ["TRACKER_INSTANCE_PATH"] = str(folder)
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"

    import sqlalchemy as sa
    from sqlalchemy import event

    from tracker.allocations import services as plans
    from tracker.auth.models import User
    from tracker.auth.services import create_user
    from tracker.devices.depots import create_depot
    from tracker.devices.models import Device
    from tracker.extensions import db
    from tracker.schools.models import School
    from tracker.schools.reach import reach_of

    app = synthetic.make_app(url)
    started = time.perf_counter()
    with app.app_context():
        db.drop_all()
        db.create_all()
        made = synthetic.generate(args.schools, args.devices)
        for email, role in (("regional@bench.test", "coordinator"), ("rm@bench.test", "manager")):
            user = create_user(email, role, synthetic.PASSWORD, check_strength=False)
            user.areas = [[REGION, ""]]
        depot_id = create_depot(code="DEP-R3", name="Dépôt régional", region=REGION, actor=None).id
        # Half the stock left of the second donation goes to the region's depot (a move's
        # outcome, written in bulk).
        stock = (
            sa.select(Device.id)
            .where(Device.status == "in_stock", Device.donation_id == made["donations"][1])
            .limit(max(args.devices // 20, 20))
            .scalar_subquery()
        )
        db.session.execute(sa.update(Device).where(Device.id.in_(stock)).values(depot_id=depot_id))
        serial = db.session.scalar(
            sa.select(Device.serial)
            .join(School, School.id == Device.school_id)
            .where(School.region == REGION)
            .limit(1)
        )
        db.session.commit()
        engine = db.engine
    print(
        f"schools: {args.schools}, devices: {args.devices}, one region: {REGION}, "
        f"{engine.dialect.name}, built in {time.perf_counter() - started:.0f} s"
    )

    clients = {}
    for who, email in (
        ("national", made["users"]["coordinator"]),
        ("regional", "regional@bench.test"),
    ):
        client = app.test_client()
        client.post("/login", data={"email": email, "password": synthetic.PASSWORD})
        clients[who] = client

    def get(who: str, path: str) -> float:
        began = time.perf_counter()
        response = clients[who].get(path)
        took = time.perf_counter() - began
        assert response.status_code in (200, 302), (who, path, response.status_code)
        return took

    def statements(who: str, path: str) -> int:
        seen = []
        listener = lambda *_args: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        get(who, path)
        event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    ok = True
    print("pages       regional office vs national office, asked in turns (best round)")
    for page in PAGES:
        path = page.format(serial=serial)
        for who in clients:  # warm
            get(who, path)
        counts = {who: statements(who, path) for who in clients}
        rounds = []
        for _ in range(args.rounds):
            rounds.append((get("national", path), get("regional", path)))
        national = min(pair[0] for pair in rounds)
        regional = min(pair[1] for pair in rounds)
        ratio = regional / national
        same = counts["regional"] == counts["national"]
        ok &= ratio <= PAGE_GOAL and same
        print(
            f"  {page:22} {regional * 1000:8.1f} ms vs {national * 1000:8.1f} ms  ratio "
            f"{ratio:5.2f}  (goal <= {PAGE_GOAL})  statements {counts['regional']} vs "
            f"{counts['national']}  {'PASS' if ratio <= PAGE_GOAL and same else 'FAIL'}"
        )

    with app.app_context():
        regional = db.session.scalar(sa.select(User).where(User.email == "regional@bench.test"))
        manager = db.session.scalar(sa.select(User).where(User.email == "rm@bench.test"))
        schools = plans.choose_schools(region=REGION, reach=reach_of(regional))
        in_depot = db.session.scalar(
            sa.select(sa.func.count()).select_from(Device).where(Device.depot_id == depot_id)
        )
        plan = plans.create_plan(
            name="Région 3", donation_id=None, actor=regional, depot_id=depot_id
        )
        plans.propose_plan(plan.id, total=in_depot, school_ids=schools, actor=regional)
        plans.submit_plan(plan.id, regional)
        db.session.commit()
        reserved = sa.select(Device.id).where(Device.depot_id == depot_id).limit(in_depot)
        ids = list(db.session.scalars(reserved))

        def bare_update():
            # The same rows chosen as the pool chooses them (in stock at the depot, by id)
            # and written, committed as the approval is, then put back: bench_allocations.py's
            # baseline, for a depot's pool.
            db.session.execute(
                sa.update(Device)
                .where(
                    Device.id.in_(
                        sa.select(Device.id)
                        .where(
                            Device.status == "in_stock",
                            Device.depot_id == depot_id,
                            Device.school_id.is_(None),
                        )
                        .order_by(Device.id)
                        .limit(len(ids))
                    )
                )
                .values(status="reserved", version=Device.version + 1)
            )
            db.session.commit()

        bares = []
        for _ in range(3):
            began = time.perf_counter()
            bare_update()
            bares.append(time.perf_counter() - began)
            db.session.execute(
                sa.update(Device).where(Device.id.in_(ids)).values(status="in_stock")
            )
            db.session.commit()
        began = time.perf_counter()
        plans.approve_plan(plan.id, manager)
        db.session.commit()
        approval = time.perf_counter() - began
        bare = statistics.median(bares)
        ratio = approval / bare
        ok &= ratio <= APPROVAL_GOAL
        print(
            f"approval    a regional plan of {len(ids)} tablets approved by its manager vs a "
            f"bare UPDATE of them\n            measured {approval:8.3f} s   baseline "
            f"{bare:8.3f} s   ratio {ratio:5.2f}  (goal <= {APPROVAL_GOAL})  "
            f"{'PASS' if ratio <= APPROVAL_GOAL else 'FAIL'}"
        )
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
