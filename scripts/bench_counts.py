"""Benchmark: counts and loans after the gate, at national scale (SQLite by default).

    .venv/bin/python scripts/bench_counts.py [--devices 1500000] [--schools 20000]
        [--lent 1000] [--database-url postgresql://postgres@127.0.0.1:5432/bench]

Each figure beside a baseline measured in the same run, asked in alternating rounds:
  open count   opening a national count (every handed-over tablet on its school's list),
               vs a bare INSERT ... SELECT of the same snapshot into count_lines (goal:
               within 2x); and, for information, into a table of the same columns without
               key or index (what the keys cost)
  count page   the statements a school's count page asks, for a school of 3 tablets and
               one of a thousand (goal: the same number)
  year end     taking back the thousandth tablet of a school at the return desk, vs the
               first ones (the median of the last 100 vs the first 100; goal: within 1.5x);
               and the same for the count's scans
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

GOAL, DESK_GOAL = 2.0, 1.5
BATCH = 50_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1_500_000)
    parser.add_argument("--schools", type=int, default=20_000)
    parser.add_argument("--lent", type=int, default=1000, help="tablets of the big school")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default="", help="PostgreSQL (emptied first)")
    args = parser.parse_args()
    url = args.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    folder = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
    os.environ["TRACKER_INSTANCE_PATH"] = str(folder)

    import sqlalchemy as sa

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tracker import create_app
    from tracker.auth.services import create_user
    from tracker.counts import services as counts
    from tracker.counts.models import CountLine
    from tracker.database import utcnow
    from tracker.devices.models import Device
    from tracker.dialects import refresh_statistics
    from tracker.donations.services import create_donation
    from tracker.extensions import db
    from tracker.loans import services as loans
    from tracker.loans.models import Borrower, Loan
    from tracker.schools.models import School, SchoolStaff
    from tracker.timezone import local_today

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{folder / 'bench.sqlite'}",
            "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
            "WTF_CSRF_ENABLED": False,
            "BABEL_DEFAULT_LOCALE": "en",
        }
    )
    rng = random.Random(2020)
    verdicts = []
    with app.app_context():
        if url:
            db.drop_all()
        db.create_all()
        head = create_user("head@bench.test", "school", "x", check_strength=False)
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
                    "name_ar": "",
                    "region": f"Région {n % 12}",
                    "province": f"Province {n % 75}",
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(args.schools)
            ],
        )
        school_ids = list(db.session.scalars(sa.select(School.id).order_by(School.id)))
        big, small = school_ids[0], school_ids[1]
        db.session.add(SchoolStaff(user_id=head.id, school_id=big))
        started = time.perf_counter()
        for start in range(0, args.devices, BATCH):
            rows = []
            for n in range(start, min(start + BATCH, args.devices)):
                if n < args.lent:
                    school = big
                elif n < args.lent + 3:
                    school = small
                else:
                    school = rng.choice(school_ids[2:])
                rows.append(
                    {
                        "asset_tag": f"B-{n:07d}",
                        "qr_token": f"t{n:012d}",
                        "serial": f"SN{n:010d}",
                        "model": "Bench",
                        "donation_id": donation.id,
                        "status": "delivered" if n % 10 else "in_stock",
                        "school_id": school if n % 10 else None,
                        "condition": "good",
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            db.session.execute(sa.insert(Device), rows)
        # The big school's handed-over tablets are each lent to a pupil.
        db.session.execute(
            sa.update(Device)
            .where(Device.school_id == big, Device.status == "delivered")
            .values(status="on_loan")
        )
        lent = list(
            db.session.scalars(
                sa.select(Device.id).where(Device.school_id == big, Device.status == "on_loan")
            )
        )
        db.session.execute(
            sa.insert(Borrower),
            [
                {"school_id": big, "code": f"P{n:06d}", "kind": "pupil", "name": f"Pupil {n}"}
                for n in range(len(lent))
            ],
        )
        borrowers = list(
            db.session.scalars(
                sa.select(Borrower.id).where(Borrower.school_id == big).order_by(Borrower.id)
            )
        )
        db.session.execute(
            sa.insert(Loan),
            [
                {
                    "device_id": device_id,
                    "borrower_id": borrower_id,
                    "school_id": big,
                    "lent_at": now,
                    "due_on": local_today() + timedelta(days=30),
                    "agreement_version": "bench",
                    "condition_out": "good",
                    "accessories_out": "",
                    "accessories_back": "",
                    "signed_by": "",
                }
                for device_id, borrower_id in zip(lent, borrowers, strict=True)
            ],
        )
        db.session.commit()
        refresh_statistics(Device.__table__, School.__table__, Loan.__table__)
        expected = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Device)
            .where(Device.status.in_(("delivered", "on_loan")))
        )
        print(
            f"data: {args.devices:,} tablets ({expected:,} at schools), {args.schools:,} schools, "
            f"{len(lent):,} lent at one school; made in {time.perf_counter() - started:.0f} s",
            flush=True,
        )

        # --- opening a national count vs a bare INSERT ... SELECT --------------------
        # The baseline: the same snapshot written by one bare statement into count_lines
        # (under a count row made beforehand); and, for information, into a table of the
        # same columns without key or index: what the keys that make a school's lines one
        # range cost.
        heap = sa.Table(
            "bench_count_lines",
            sa.MetaData(),
            *(sa.Column(c.name, c.type) for c in CountLine.__table__.c),
        )
        heap.create(db.engine)
        holder = counts.open_count(
            None, name="Holder", scope="school", scope_value=str(small),
            starts_on=local_today(), ends_on=local_today(),
        )  # fmt: skip
        db.session.commit()
        holder_id = holder.id
        db.session.execute(sa.delete(CountLine).where(CountLine.count_id == holder_id))
        db.session.commit()

        def snapshot(count_id):
            return (
                sa.select(
                    sa.literal(count_id, sa.Integer()), Device.id, Device.school_id,
                    sa.literal("expected"),
                )
                .where(Device.status.in_(("delivered", "on_loan")), Device.school_id.is_not(None))
                .order_by(Device.school_id, Device.id)
            )  # fmt: skip

        names = ["count_id", "device_id", "school_id", "status"]
        ours, bare, floor = [], [], []
        for _round in range(args.rounds):
            t = time.perf_counter()
            count = counts.open_count(
                None,
                name="National",
                scope="programme",
                starts_on=local_today(),
                ends_on=local_today(),
            )
            db.session.commit()
            ours.append(time.perf_counter() - t)
            assert count.expected == expected, (count.expected, expected)
            db.session.execute(sa.delete(CountLine).where(CountLine.count_id == count.id))
            db.session.delete(count)
            db.session.commit()
            for table, times in ((CountLine.__table__, bare), (heap, floor)):
                t = time.perf_counter()
                db.session.execute(sa.insert(table).from_select(names, snapshot(holder_id)))
                db.session.commit()
                times.append(time.perf_counter() - t)
                db.session.execute(sa.delete(table))
                db.session.commit()
        ratio = statistics.median(ours) / statistics.median(bare)
        verdicts.append(ratio <= GOAL)
        print(
            f"open count: {statistics.median(ours):.2f} s vs the bare INSERT ... SELECT "
            f"{statistics.median(bare):.2f} s: {ratio:.2f}x (goal {GOAL}x) "
            f"{'PASS' if ratio <= GOAL else 'FAIL'}; into a table without keys "
            f"{statistics.median(floor):.2f} s (for information: "
            f"{statistics.median(ours) / statistics.median(floor):.2f}x)",
            flush=True,
        )

        # --- a school's count page: statements, small school vs big school ------------
        count = counts.open_count(
            None, name="Year end", scope="programme", starts_on=local_today(), ends_on=local_today()
        )
        db.session.commit()
        count_id = count.id
        seen = []

        def note(*_args):
            seen.append(1)

        sa.event.listen(db.engine, "before_cursor_execute", note)
        statements = []
        for school_id in (small, big):
            seen.clear()
            counts.school_figures(count_id, [school_id])
            counts.school_lines(count_id, school_id)
            statements.append(len(seen))
        sa.event.remove(db.engine, "before_cursor_execute", note)
        same = statements[0] == statements[1]
        verdicts.append(same)
        print(
            f"count page: {statements[0]} statements for 3 tablets, {statements[1]} for "
            f"{len(lent):,} (goal: the same) {'PASS' if same else 'FAIL'}",
            flush=True,
        )

        # --- year end: the thousandth scan vs the first -------------------------------
        tags = list(
            db.session.scalars(
                sa.select(Device.asset_tag)
                .where(Device.school_id == big, Device.status == "on_loan")
                .order_by(Device.asset_tag)
            )
        )
        for label, work in (
            (
                "count scan",
                lambda tag: counts.count_scan(head, count.id, big, tag, condition="good"),
            ),
            ("take back", lambda tag: loans.take_back(head, big, tag, condition="good")),
        ):
            times = []
            for tag in tags:
                t = time.perf_counter()
                work(tag)
                db.session.commit()
                times.append(time.perf_counter() - t)
            window = max(1, min(100, len(times) // 4))
            first = statistics.median(times[:window])
            last = statistics.median(times[-window:])
            ratio = last / first
            verdicts.append(ratio <= DESK_GOAL)
            print(
                f"year end, {label}: the last {window} {last * 1000:.1f} ms vs the first "
                f"{window} {first * 1000:.1f} ms: {ratio:.2f}x (goal {DESK_GOAL}x) "
                f"{'PASS' if ratio <= DESK_GOAL else 'FAIL'}",
                flush=True,
            )
    return 0 if all(verdicts) else 3


if __name__ == "__main__":
    sys.exit(main())
