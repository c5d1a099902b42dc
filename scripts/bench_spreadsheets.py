"""Benchmark: spreadsheet import and export against bare baselines, in one run.

    .venv/bin/python scripts/bench_spreadsheets.py [--rows 100000] [--small 10000]
        [--database-url postgresql://postgres@127.0.0.1:5432/bench]

SQLite files by default; with --database-url every step empties and reuses that database.

Figures, each a ratio to a baseline measured in the same run:
  import   `tracker import devices` on a ROWS-row workbook, vs a bare openpyxl read-only
           pass over the same file plus a bare SQLAlchemy Core executemany insert of the
           same rows (goal <= 1.5)
  scaling  import time per row at ROWS vs at SMALL rows (goal <= 1.2)
  export   `tracker export devices` of ROWS devices, vs a bare select of the same columns
           plus an openpyxl write-only append of the same values (goal <= 1.3)
  memory   peak Python memory (tracemalloc) of a preview of ROWS rows vs a bare openpyxl
           read-only pass over the same file (goal <= 1.5: little on top of the reader)
  growth   that overhead (preview peak minus bare-pass peak) at ROWS vs at SMALL rows
           (flat: goal <= 2.0 while the file is 10x larger)
  copy     PostgreSQL only, for information: the bare executemany insert of ROWS devices
           vs the same rows through COPY (which the import uses there)

openpyxl's read-only reader keeps an emptied XML element per row it has read (about 85
bytes a row), so even the bare pass grows with the file; the figures separate that from ours.
"""

import argparse
import os
import secrets
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

GOALS = {"import": 1.5, "scaling": 1.2, "export": 1.3, "memory": 1.5, "growth": 2.0}


def luhn_digit(body: str) -> str:
    total = 0
    for position, char in enumerate(reversed(body)):
        number = int(char)
        if position % 2 == 0:
            number = number * 2 - 9 if number > 4 else number * 2
        total += number
    return str((10 - total % 10) % 10)


def make_workbook(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Devices")
    sheet.append(["Serial number", "IMEI", "Model", "Condition", "Notes"])
    for n in range(rows):
        body = f"86781504{n:06d}"
        sheet.append(
            [
                f"AGR9X20C{n:08d}",
                body + luhn_digit(body),
                "Huawei MatePad T10",
                "new",
                f"Carton {n // 20 + 1}",
            ]
        )
    workbook.save(path)


DATABASE_URL = ""  # set by --database-url: one server database, emptied for each step


def new_app(folder: Path, name: str):
    from tracker import create_app
    from tracker.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": DATABASE_URL or f"sqlite:///{folder / name}",
            "BASE_URL": "https://tracker.example.org",
            "IMPORT_MAX_ROWS": 2_000_000,
        }
    )
    with app.app_context():
        if DATABASE_URL:
            db.drop_all()
        db.create_all()
    return app


def device_rows(path: Path, donation_id: int) -> list[dict]:
    import openpyxl

    from tracker.database import utcnow

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = list(workbook.worksheets[0].iter_rows(min_row=2, values_only=True))
    workbook.close()
    now = utcnow()
    return [
        {
            "asset_tag": f"B-{n:07d}",
            "qr_token": secrets.token_urlsafe(16),
            "serial": serial,
            "imei": imei,
            "model": model,
            "condition": condition,
            "notes": notes,
            "donation_id": donation_id,
            "status": "in_stock",
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for n, (serial, imei, model, condition, notes) in enumerate(rows)
    ]


def insert_vs_copy(folder: Path, path: Path) -> tuple[float, float]:
    """PostgreSQL: the same rows inserted by executemany, then (into an emptied database) by
    COPY; seconds each, the reading of the file left out."""
    import sqlalchemy as sa

    from tracker.devices.models import Device
    from tracker.extensions import db

    app = new_app(folder, "insert")
    with app.app_context():
        rows = device_rows(path, donation())
        inserted = timed(lambda: (db.session.execute(sa.insert(Device), rows), db.session.commit()))
    app = new_app(folder, "copy")
    with app.app_context():
        rows = device_rows(path, donation())
        columns = list(rows[0])

        def copy():
            cursor = db.session.connection().connection.dbapi_connection.cursor()
            with cursor.copy(f"COPY devices ({', '.join(columns)}) FROM STDIN") as stream:
                for row in rows:
                    stream.write_row([row[column] for column in columns])
            db.session.commit()

        copied = timed(copy)
    return inserted, copied


def donation():
    from tracker.donations.services import create_donation
    from tracker.extensions import db

    made = create_donation(
        reference="BENCH-1", donor_name="Bench donor", received_on=date(2020, 12, 28), quantity=0
    )
    db.session.commit()
    return made.id


def timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def bare_import(app, path: Path) -> float:
    import sqlalchemy as sa

    from tracker.devices.models import Device
    from tracker.extensions import db

    with app.app_context():
        donation_id = donation()
        start = time.perf_counter()
        db.session.execute(sa.insert(Device), device_rows(path, donation_id))
        db.session.commit()
        return time.perf_counter() - start


def tracker_import(app, path: Path, commit: bool = True):
    from tracker.spreadsheets.services import import_file

    with app.app_context():
        donation_id = donation()
        start = time.perf_counter()
        report = import_file(
            "devices", path, path.name, commit=commit, actor=None, donation_id=donation_id
        )
        elapsed = time.perf_counter() - start
        assert report.ok and report.new > 0, report.summary()
        return elapsed


def bare_export(app, out: Path) -> float:
    import sqlalchemy as sa
    from openpyxl import Workbook

    from tracker.devices.models import Device
    from tracker.donations.models import Donation, Donor
    from tracker.extensions import db
    from tracker.schools.models import School

    with app.app_context():
        start = time.perf_counter()
        query = (
            sa.select(
                Device.asset_tag,
                Device.serial,
                Device.imei,
                Device.model,
                Donation.reference,
                Donor.name,
                Device.status,
                Device.condition,
                School.code,
                School.name_fr,
                Device.created_at,
                Device.qr_token,
            )
            .join(Donation, Device.donation_id == Donation.id)
            .join(Donor, Donation.donor_id == Donor.id)
            .outerjoin(School, Device.school_id == School.id)
            .order_by(Device.asset_tag)
            .execution_options(yield_per=5000)
        )
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Devices")
        for row in db.session.execute(query):
            values = list(row)
            values[10] = values[10].replace(tzinfo=None)
            sheet.append(values)
        workbook.save(out)
        return time.perf_counter() - start


def tracker_export(app, out: Path) -> float:
    from tracker.spreadsheets.exports import export_devices

    with app.app_context():
        return timed(lambda: export_devices(out))


def peak_memory(app, path: Path) -> int:
    tracemalloc.start()
    tracker_import(app, path, commit=False)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def bare_read_memory(path: Path) -> int:
    import openpyxl

    tracemalloc.start()
    with open(path, "rb") as handle:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        for _row in workbook.worksheets[0].iter_rows(values_only=True):
            pass
        workbook.close()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def line(name: str, measured: float, baseline: float, unit: str, what: str) -> bool:
    ratio = measured / baseline
    ok = ratio <= GOALS[name]
    print(
        f"{name:8} {what}\n         measured {measured:9.3f} {unit}   baseline {baseline:9.3f} "
        f"{unit}   ratio {ratio:5.2f}  (goal <= {GOALS[name]})  {'PASS' if ok else 'FAIL'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    global DATABASE_URL  # noqa: PLW0603  (one setting for every step of this run)
    DATABASE_URL = args.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    folder = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
    os.environ["TRACKER_INSTANCE_PATH"] = str(folder)
    big, small = folder / "big.xlsx", folder / "small.xlsx"
    make_workbook(big, args.rows)
    make_workbook(small, args.small)
    print(
        f"rows: {args.rows} (small: {args.small}), "
        f"{'PostgreSQL' if DATABASE_URL else 'SQLite'}, Python {sys.version.split()[0]}, "
        f"file {big.stat().st_size / 1e6:.1f} MB"
    )

    baseline_import = bare_import(new_app(folder, "bare.sqlite"), big)
    import_app = new_app(folder, "tracker.sqlite")
    measured_import = tracker_import(import_app, big)
    baseline_export = bare_export(import_app, folder / "bare.xlsx")
    measured_export = tracker_export(import_app, folder / "tracker.xlsx")
    measured_small = tracker_import(new_app(folder, "small.sqlite"), small)
    memory_small = peak_memory(new_app(folder, "mem-small.sqlite"), small)
    memory_big = peak_memory(new_app(folder, "mem-big.sqlite"), big)
    reader_small, reader_big = bare_read_memory(small), bare_read_memory(big)

    results = [
        line(
            "import",
            measured_import,
            baseline_import,
            "s",
            f"import {args.rows} devices vs bare read + executemany insert",
        ),
        line(
            "scaling",
            measured_import / args.rows * 1e6,
            measured_small / args.small * 1e6,
            "µs",
            f"import time per row at {args.rows} vs at {args.small} rows",
        ),
        line(
            "export",
            measured_export,
            baseline_export,
            "s",
            f"export {args.rows} devices vs bare select + write-only append",
        ),
        line(
            "memory",
            memory_big / 1e6,
            reader_big / 1e6,
            "MB",
            f"peak memory of a {args.rows}-row preview vs a bare openpyxl pass",
        ),
        line(
            "growth",
            (memory_big - reader_big) / 1e6,
            (memory_small - reader_small) / 1e6,
            "MB",
            f"memory on top of the reader at {args.rows} vs {args.small} rows",
        ),
    ]
    if DATABASE_URL:
        inserted, copied = insert_vs_copy(folder, big)
        print(
            f"copy     bare insert of {args.rows} devices: executemany {inserted:.2f} s, "
            f"COPY {copied:.2f} s (the import writes with COPY on PostgreSQL)"
        )
    return 0 if all(results) else 3


if __name__ == "__main__":
    sys.exit(main())
