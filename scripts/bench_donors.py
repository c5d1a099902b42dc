"""Benchmark: a donor's page costs what the office's look at it does (SQLite default).

    .venv/bin/python scripts/bench_donors.py [--schools 25000] [--devices 1500000]
        [--database-url postgresql://...]

One data set from scripts/synthetic.py; a fifth of its tablets (300,000 of 1.5 million)
given to one donor's donation. Side by side, asked in turns:
  donor page  /donor/donations/<id> as the donor's reader vs as the national office (the
              same page: what the donor sees), its time (goal <= 1.2x) and the SQL
              statements each sends (goal: the same count, whatever the donation's size)
  context     the office's own dashboard ("/") on the same data, for scale (no goal)
  open page   the donation's public page: its size (goal < 30 KB) and its cache headers
"""

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic  # noqa: E402

PAGE_GOAL, SIZE_GOAL = 1.2, 30_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=25_000)
    parser.add_argument("--devices", type=int, default=1_500_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default="", help="PostgreSQL (emptied first)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tracker-bench-donors-"))
    os.environ["TRACKER_INSTANCE_PATH"] = str(folder)
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"

    import sqlalchemy as sa
    from sqlalchemy import event

    from tracker.auth.models import User
    from tracker.auth.services import hash_password
    from tracker.devices.models import Device
    from tracker.donations import donors
    from tracker.donations.services import create_donation
    from tracker.extensions import db

    app = synthetic.make_app(url)
    started = time.perf_counter()
    with app.app_context():
        db.drop_all()
        db.create_all()
        made = synthetic.generate(args.schools, args.devices)
        theirs = create_donation(
            reference="BENCH-DONOR",
            donor_name="Bench donor",
            received_on=date(2021, 6, 1),
            quantity=args.devices // 5,
        )
        # Every fifth tablet, wherever it is now: at schools, lent, in stock, lost.
        db.session.execute(
            sa.update(Device).where(Device.id % 5 == 0).values(donation_id=theirs.id)
        )
        db.session.add(
            User(
                email="donor@bench.test",
                role="donor",
                donor_id=theirs.donor_id,
                password_hash=hash_password(synthetic.PASSWORD),
            )
        )
        key = donors.set_open_figures(None, theirs.id, open_=True).public_key
        donation_id = theirs.id
        given = db.session.scalar(
            sa.select(sa.func.count()).select_from(Device).where(Device.donation_id == theirs.id)
        )
        db.session.commit()
        engine = db.engine
    print(
        f"schools: {args.schools}, devices: {args.devices}, the donor's: {given}, "
        f"{engine.dialect.name}, built in {time.perf_counter() - started:.0f} s"
    )

    clients = {}
    for who, email in (("office", made["users"]["manager"]), ("donor", "donor@bench.test")):
        client = app.test_client()
        client.post("/login", data={"email": email, "password": synthetic.PASSWORD})
        clients[who] = client

    def get(who: str, path: str) -> float:
        began = time.perf_counter()
        response = clients[who].get(path)
        took = time.perf_counter() - began
        assert response.status_code == 200, (who, path, response.status_code)
        return took

    def statements(who: str, path: str) -> int:
        seen = []
        listener = lambda *_args: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        get(who, path)
        event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    path = f"/donor/donations/{donation_id}"
    for who in clients:  # warm
        get(who, path)
    counts = {who: statements(who, path) for who in clients}
    rounds = [(get("office", path), get("donor", path)) for _ in range(args.rounds)]
    office = min(pair[0] for pair in rounds)
    donor = min(pair[1] for pair in rounds)
    ratio = donor / office
    same = counts["donor"] == counts["office"]
    ok = ratio <= PAGE_GOAL and same
    print(
        f"donor page  {donor * 1000:8.1f} ms vs the office's look {office * 1000:8.1f} ms  "
        f"ratio {ratio:5.2f}  (goal <= {PAGE_GOAL})  statements {counts['donor']} vs "
        f"{counts['office']}  {'PASS' if ratio <= PAGE_GOAL and same else 'FAIL'}"
    )
    get("office", "/")
    dashboard = min(get("office", "/") for _ in range(args.rounds))
    print(
        f"context     the office's dashboard on the same data {dashboard * 1000:8.1f} ms "
        f"({counts['office']} statements on the donor page, {statements('office', '/')} on it)"
    )
    visitor = app.test_client()
    page = visitor.get(f"/open/{key}?lang=ar")
    size = len(page.get_data())
    cacheable = "public" in page.headers.get("Cache-Control", "") and "ETag" in page.headers
    cookieless = "Set-Cookie" not in page.headers
    fine = size < SIZE_GOAL and cacheable and cookieless
    ok &= fine
    print(
        f"open page   {size} bytes (goal < {SIZE_GOAL}), Cache-Control "
        f"'{page.headers.get('Cache-Control')}', ETag {'yes' if 'ETag' in page.headers else 'no'},"
        f" cookie {'none' if cookieless else 'SET'}  {'PASS' if fine else 'FAIL'}"
    )
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
