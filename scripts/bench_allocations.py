"""Benchmark: allocation proposal, reservation and spreadsheet at national scale (SQLite).

    .venv/bin/python scripts/bench_allocations.py [--schools 20000] [--devices 1000000]
        [--database-url postgresql://postgres@127.0.0.1:5432/bench]

Each figure beside a bare baseline measured in the same run (goal: each within 2x):
  proposal     select the schools' needs and compute the proposal, vs a bare select of the
               needs; (saving the plan's lines is printed too, for information)
  reservation  approving the plan: every tablet reserved with one event each, vs a bare
               UPDATE of the same rows (rolled back)
  spreadsheet  the allocation workbook of the plan, vs a bare write-only workbook of the
               same cells
  as a job     the same workbook made by the job a worker runs (claimed, run as its user,
               its file kept in the database for the downloads), vs the same bare workbook
               (goal: within 1.3x); and the request that asks for it, which only queues it
               (goal: under a second)
"""

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

MAX_CANCEL_STATEMENTS = 20  # it was 7 per line: 1,407 for 200 schools
GOAL = 2.0
JOB_GOAL = 1.3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=20_000)
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="", help="PostgreSQL (emptied first)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="approval and its baseline, asked in turn"
    )
    args = parser.parse_args()
    url = args.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    folder = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
    os.environ["TRACKER_INSTANCE_PATH"] = str(folder)

    import sqlalchemy as sa
    from openpyxl import Workbook

    from tracker import create_app
    from tracker.allocations import services
    from tracker.allocations.proposals import propose
    from tracker.auth.services import create_user
    from tracker.database import utcnow
    from tracker.devices.models import Device, DeviceEvent
    from tracker.donations.services import create_donation
    from tracker.extensions import db
    from tracker.schools.models import School
    from tracker.spreadsheets.allocations import export_allocations

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{folder / 'bench.sqlite'}",
            "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
            "WTF_CSRF_ENABLED": False,
        }
    )
    rng = random.Random(2020)
    with app.app_context():
        if url:
            db.drop_all()
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
                    "need": rng.randint(0, 120),
                    "enrolment": rng.randint(50, 2000),
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
        db.session.commit()
        school_ids = list(db.session.scalars(sa.select(School.id)))

        def timed(work):
            started = time.perf_counter()
            result = work()
            return time.perf_counter() - started, result

        # Proposal: both sides are short, so each is the best of five runs.
        needs = sa.select(School.id, School.need, School.enrolment)
        bare_select = min(timed(lambda: db.session.execute(needs).all())[0] for _ in range(5))

        def compute():
            # As services.propose_plan reads them: in school order, ties to the earlier.
            rows = db.session.execute(needs.order_by(School.id)).all()
            return propose(rows, args.devices)

        proposal = min(timed(compute)[0] for _ in range(5))
        shares = compute()
        plan = services.create_plan(name="National", donation_id=donation.id, actor=coordinator)
        saved, _plan = timed(
            lambda: services.propose_plan(
                plan.id, total=args.devices, school_ids=school_ids, actor=coordinator
            )
        )
        services.submit_plan(plan.id, coordinator)
        db.session.commit()
        allocated = shares.total

        # Reservation, against a bare UPDATE of the same rows, committed as the approval is
        # (rolled back, it left out writing them: the baseline then hung on the disk's speed,
        # 1.62x on one machine, 2.06x on a slower one, the same code), then put back.
        def bare_update():
            db.session.execute(
                sa.update(Device)
                .where(
                    Device.id.in_(
                        sa.select(Device.id)
                        .where(Device.status == "in_stock")
                        .order_by(Device.id)
                        .limit(allocated)
                    )
                )
                .values(status="reserved", version=Device.version + 1)
            )
            db.session.commit()

        def undo_reservations():
            """The tablets back in stock and the approval's events gone, so that every round
            starts from the same tables (a million more events would slow the next)."""
            db.session.execute(
                sa.update(Device)
                .where(Device.status == "reserved")
                .values(status="in_stock", school_id=None, allocation_id=None)
            )
            db.session.execute(sa.delete(DeviceEvent).where(DeviceEvent.type == "reserved"))
            db.session.commit()

        def new_submitted_plan():
            fresh = services.create_plan(
                name="National", donation_id=donation.id, actor=coordinator
            )
            services.propose_plan(
                fresh.id, total=args.devices, school_ids=school_ids, actor=coordinator
            )
            services.submit_plan(fresh.id, coordinator)
            db.session.commit()
            return fresh

        # The approval and its baseline in alternating rounds, medians kept: one after the
        # other, the machine's drift (1.62x on one run, 2.06x then 2.36x on a slower one, the
        # same code) could not be told from the cost.
        approvals, bare_reserves = [], []
        for round_number in range(args.rounds):
            bare_reserves.append(timed(bare_update)[0])
            undo_reservations()
            if round_number:
                plan = new_submitted_plan()
            approving = plan.id
            approvals.append(
                timed(lambda: (services.approve_plan(approving, manager), db.session.commit()))[0]  # noqa: B023  (called at once)
            )
            if round_number < args.rounds - 1:
                undo_reservations()
        reserve, bare_reserve = statistics.median(approvals), statistics.median(bare_reserves)
        print(
            "approval rounds: "
            + ", ".join(
                f"{a:.2f} s vs {b:.2f} s" for a, b in zip(approvals, bare_reserves, strict=True)
            )
        )

        # Spreadsheet, against a bare write-only workbook of the same cells.
        out = folder / "allocations.xlsx"
        sheet_time, _ = timed(lambda: export_allocations(out, plan_id=plan.id))
        import openpyxl

        cells = {
            name: [[cell.value for cell in row] for row in sheet.iter_rows()]
            for name, sheet in zip(
                *(lambda wb: (wb.sheetnames, wb.worksheets))(
                    openpyxl.load_workbook(out, read_only=True)
                ),
                strict=True,
            )
        }

        def bare_workbook():
            workbook = Workbook(write_only=True)
            for name, rows in cells.items():
                sheet = workbook.create_sheet(name)
                for row in rows:
                    sheet.append(row)
            workbook.save(folder / "bare.xlsx")

        bare_sheet, _ = timed(bare_workbook)

        # The same workbook as a job, then the request that queues it (nothing takes it).
        from tracker.jobs.services import run_in_place

        job_time, job = timed(
            lambda: run_in_place(
                "exports.allocations",
                {"query": "", "plan_id": plan.id},
                user=coordinator,
                title="allocations.xlsx",
            )
        )
        assert job.state == "done", job.failure
        app.config["JOBS_MODE"] = "workers"
        client = app.test_client()
        client.post("/login", data={"email": "c@bench.test", "password": "x"})
        queued_time, answer = timed(lambda: client.post(f"/plans/{plan.id}/allocations.xlsx"))
        assert answer.status_code == 302, answer.status_code

        # Cancellation: the plan's tablets back to stock (one event each), against a bare
        # UPDATE of the same rows, committed; statements counted for both the approval's
        # size and the cancel's (they must not grow with the plan's lines).
        statements = []

        def count(*_args):
            statements.append(1)

        reserved = sa.select(sa.func.count()).select_from(Device).where(Device.status == "reserved")
        held = db.session.scalar(reserved)
        sa.event.listen(db.engine, "before_cursor_execute", count)
        cancel, _ = timed(
            lambda: (services.cancel_plan(plan.id, coordinator, "bench"), db.session.commit())
        )
        sa.event.remove(db.engine, "before_cursor_execute", count)
        cancel_statements = len(statements)
        released = held - db.session.scalar(reserved)
        db.session.execute(
            sa.update(Device).where(Device.status == "in_stock").values(status="reserved")
        )
        db.session.commit()

        def bare_release():
            db.session.execute(
                sa.update(Device)
                .where(Device.status == "reserved")
                .values(status="in_stock", school_id=None, allocation_id=None)
            )
            db.session.commit()

        bare_cancel, _ = timed(bare_release)

    print(
        f"schools: {args.schools}, devices: {args.devices}, tablets allocated: {allocated}, "
        f"{'PostgreSQL' if url else 'SQLite'}, Python {sys.version.split()[0]}"
    )
    ok = True
    for name, measured, baseline, what in (
        ("proposal", proposal, bare_select, "read needs + compute the proposal vs bare select"),
        ("reservation", reserve, bare_reserve, "approve (reserve + one event each) vs bare UPDATE"),
        (
            "spreadsheet",
            sheet_time,
            bare_sheet,
            "allocation workbook vs bare write-only of the same cells",
        ),
    ):
        ratio = measured / baseline
        ok &= ratio <= GOAL
        print(
            f"{name:11} {what}\n            measured {measured:8.3f} s   baseline "
            f"{baseline:8.3f} s   ratio {ratio:5.2f}  (goal <= {GOAL})  "
            f"{'PASS' if ratio <= GOAL else 'FAIL'}"
        )
    ratio = job_time / bare_sheet
    ok &= ratio <= JOB_GOAL and queued_time < 1
    print(
        f"as a job    the workbook made by a job, its file stored, vs the same bare workbook\n"
        f"            measured {job_time:8.3f} s   baseline {bare_sheet:8.3f} s   ratio "
        f"{ratio:5.2f}  (goal <= {JOB_GOAL})  {'PASS' if ratio <= JOB_GOAL else 'FAIL'}\n"
        f"            the request that queues it answered in {queued_time * 1000:.0f} ms "
        f"(goal < 1 s)  {'PASS' if queued_time < 1 else 'FAIL'}"
    )
    print(f"(saving the plan's {args.schools} lines with the proposal took {saved:.3f} s)")
    constant = cancel_statements <= MAX_CANCEL_STATEMENTS
    ok &= constant and released == allocated
    print(
        f"cancel      {released} tablets of {args.schools} lines released in "
        f"{cancel_statements} statements (goal <= {MAX_CANCEL_STATEMENTS}, whatever the "
        f"lines)  {'PASS' if constant and released == allocated else 'FAIL'}\n"
        f"            measured {cancel:8.3f} s   bare UPDATE {bare_cancel:8.3f} s   ratio "
        f"{cancel / bare_cancel:5.2f}  (the events are the difference; no goal set)"
    )
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
