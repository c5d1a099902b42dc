"""Benchmark: spreadsheet import and export against bare baselines, in one run.

    .venv/bin/python scripts/bench_spreadsheets.py [--rows 100000] [--small 10000]
        [--rounds 3] [--database-url postgresql://postgres@127.0.0.1:5432/bench]

SQLite files by default; with --database-url every step empties and reuses that database.
Timed figures ask the measured side and its baseline in alternating rounds and keep each
side's median, since a round on this shared machine varies by a third with what else runs.

Figures, each a ratio to a baseline measured in the same run:
  import   `tracker import devices` of a ROWS-row workbook, vs a bare calamine read of the
           same file plus the bare insert of what the import stores: the devices by the
           driver's executemany (COPY on PostgreSQL) and their registration events by one
           INSERT ... SELECT (goal <= 1.3)
  openpyxl the same import vs the reading it replaced, a bare openpyxl read-only pass,
           plus the same bare insert (goal < 1.0: faster than before calamine)
  scaling  import time per row at ROWS vs at SMALL rows (goal <= 1.2)
  export   `tracker export devices` of ROWS devices, vs a bare select of the same columns
           plus an openpyxl write-only append of the same values (goal <= 1.3)
  memory   peak resident memory of a preview of ROWS rows (the app process's growth plus
           its reader process) vs a process that only reads the file with calamine
           (goal <= 1.5: little on top of the reader)
  opening  an opening balance of ROWS tablets over SCHOOLS schools (each row's school by its
           code, or by its French name for one row in four; delivered, since a day, received
           by a name), vs a bare calamine read plus the bare insert of what it stores: the
           school list read once into a dictionary, the devices at their schools and one
           event each, by executemany (COPY on PostgreSQL) (goal <= 1.3)
  copy     PostgreSQL only, for information: the bare executemany insert of ROWS devices
           vs the same rows through COPY (which the import uses there)

Memory is resident memory, not tracemalloc's count: calamine's cells live in Rust, where
tracemalloc does not look.
"""

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

GOALS = {
    "import": 1.3,
    "openpyxl": 0.99,
    "scaling": 1.2,
    "export": 1.3,
    "memory": 1.5,
    "opening": 1.3,
}
SCHOOLS = 20_000


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


def read_rows(path: Path, reader: str) -> list:
    """The data rows of the workbook, read the bare way with `reader`."""
    if reader == "calamine":
        import python_calamine

        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        rows = workbook.get_sheet_by_index(0).iter_rows()
        next(rows)
        return [
            (serial, str(int(imei)), model, condition, notes)
            for serial, imei, model, condition, notes in rows
        ]
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = list(workbook.worksheets[0].iter_rows(min_row=2, values_only=True))
    workbook.close()
    return rows


def device_rows(path: Path, donation_id: int, reader: str = "openpyxl") -> list[dict]:
    from tracker.database import utcnow

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
            "serial_key": serial.upper(),
            "donation_id": donation_id,
            "status": "in_stock",
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for n, (serial, imei, model, condition, notes) in enumerate(read_rows(path, reader))
    ]


def school_code(n: int) -> str:
    return f"{n % 12 + 1:02d}{n:06d}X"


def make_opening(path: Path, rows: int, schools: int) -> None:
    """An opening balance as a programme moving in writes it: every tablet at its school."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Parc")
    sheet.append(["Serial number", "IMEI", "Model", "School", "State", "Since", "Received by"])
    for n in range(rows):
        body = f"86781504{n:06d}"
        school = n % schools
        place = school_code(school) if n % 4 else f"École n° {school} de la commune"
        sheet.append(
            [
                f"AGR9X20C{n:08d}",
                body + luhn_digit(body),
                "Huawei MatePad T10",
                place,
                "delivered",
                date(2021, 3, 1 + n % 28),
                f"Directeur {school}",
            ]
        )
    workbook.save(path)


def add_schools(schools: int) -> None:
    """The school list, before either side runs (not timed)."""
    import sqlalchemy as sa

    from tracker.database import utcnow
    from tracker.extensions import db
    from tracker.schools.models import School

    now = utcnow()
    db.session.execute(
        sa.insert(School),
        [
            {
                "code": school_code(n),
                "name_fr": f"École n° {n} de la commune",
                "name_ar": "",
                "region": f"Région {n % 12}",
                "province": f"Province {n % 75}",
                "created_at": now,
                "updated_at": now,
            }
            for n in range(schools)
        ],
    )
    db.session.commit()


def bare_opening(app, path: Path) -> float:
    """Seconds to read the opening balance the bare way (calamine), look each place up in
    the school list read once, and store the devices at their schools and their events."""
    import json

    import python_calamine
    import sqlalchemy as sa

    from tracker.database import utcnow
    from tracker.extensions import db
    from tracker.schools.models import School

    with app.app_context():
        donation_id = donation()
        start = time.perf_counter()
        found = {}
        for school_id, code, name in db.session.execute(
            sa.select(School.id, School.code, School.name_fr)
        ):
            found[code] = found[name.casefold()] = school_id
        rows = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        rows = rows.iter_rows()
        next(rows)
        now = utcnow()
        devices, events = [], []
        for n, (serial, imei, model, place, _state, since, received) in enumerate(rows):
            school_id = found.get(place) or found[place.casefold()]
            devices.append(
                {
                    "asset_tag": f"B-{n:07d}",
                    "qr_token": secrets.token_urlsafe(16),
                    "serial": serial,
                    "serial_key": serial.upper(),
                    "imei": str(int(imei)),
                    "model": model,
                    "condition": "new",
                    "notes": "",
                    "donation_id": donation_id,
                    "status": "delivered",
                    "school_id": school_id,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                    "last_seen_at": since,
                }
            )
            events.append(
                (
                    n + 1,
                    since,
                    school_id,
                    json.dumps({"since": str(since), "received_by": received}),
                )
            )
        connection = db.session.connection()
        columns = list(devices[0])
        if DATABASE_URL:
            cursor = connection.connection.dbapi_connection.cursor()
            with cursor.copy(f"COPY devices ({', '.join(columns)}) FROM STDIN") as stream:
                for row in devices:
                    stream.write_row([row[column] for column in columns])
            with cursor.copy(
                "COPY device_events (device_id, type, occurred_at, to_status, school_id, "
                "details) FROM STDIN"
            ) as stream:
                for device_id, since, school_id, details in events:
                    stream.write_row([device_id, "opening", since, "delivered", school_id, details])
        else:
            stamp = now.replace(tzinfo=None).isoformat(" ")
            connection.exec_driver_sql(
                f"INSERT INTO devices ({', '.join(columns)}) "  # noqa: S608
                f"VALUES ({', '.join('?' * len(columns))})",
                [
                    tuple(
                        (stamp if column != "last_seen_at" else str(row[column]))
                        if column.endswith("_at")
                        else row[column]
                        for column in columns
                    )
                    for row in devices
                ],
            )
            connection.exec_driver_sql(
                "INSERT INTO device_events (device_id, type, occurred_at, to_status, school_id,"
                " details) VALUES (?, 'opening', ?, 'delivered', ?, ?)",
                [(d, str(s), school, details) for d, s, school, details in events],
            )
        db.session.commit()
        return time.perf_counter() - start


def tracker_opening(app, path: Path) -> float:
    from tracker.spreadsheets.services import import_file

    with app.app_context():
        donation_id = donation()
        start = time.perf_counter()
        report = import_file(
            "devices", path, path.name, commit=True, actor=None, donation_id=donation_id
        )
        elapsed = time.perf_counter() - start
        assert report.ok and report.places["tablets"] == report.new > 0, report.summary()
        return elapsed


def bare_insert(rows: list[dict]) -> None:
    """The devices by the driver itself (executemany, or COPY on PostgreSQL), then one
    INSERT ... SELECT of their "registered" events, committed."""
    import sqlalchemy as sa

    from tracker.extensions import db

    columns = list(rows[0])
    connection = db.session.connection()
    if DATABASE_URL:
        cursor = connection.connection.dbapi_connection.cursor()
        with cursor.copy(f"COPY devices ({', '.join(columns)}) FROM STDIN") as stream:
            for row in rows:
                stream.write_row([row[column] for column in columns])
    else:
        stamp = rows[0]["created_at"].replace(tzinfo=None).isoformat(" ")
        connection.exec_driver_sql(
            f"INSERT INTO devices ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",  # noqa: S608
            [
                tuple(stamp if column.endswith("_at") else row[column] for column in columns)
                for row in rows
            ],
        )
    connection.execute(
        sa.text(
            "INSERT INTO device_events (device_id, type, occurred_at, to_status, details) "
            "SELECT id, 'registered', created_at, 'in_stock', '{}' FROM devices"
        )
    )
    db.session.commit()


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


def bare_import(app, path: Path, reader: str) -> float:
    """Seconds to read the file the bare way and store what an import stores."""
    with app.app_context():
        donation_id = donation()
        start = time.perf_counter()
        bare_insert(device_rows(path, donation_id, reader))
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
                Device.imei2,
                Device.brand,
                Device.donor_ref,
                Device.donor_delivered_on,
                Device.warranty_until,
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


def peak_memory(path: Path, what: str) -> int:
    """Peak resident bytes of a `what` ("preview" or "reader") of `path`, in a fresh
    process of this script, so that no other step's memory counts."""
    done = subprocess.run(  # noqa: S603
        [sys.executable, __file__, "--probe", what, str(path), "--database-url", DATABASE_URL],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.split()[-1])


def status_bytes(pid: int | str, field: str) -> int:
    """A memory figure of a process from /proc (VmHWM: its peak resident memory, kept per
    address space, so a freshly started program counts from zero — unlike getrusage's
    maxrss, which Linux carries over from the parent across exec)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for text in status:
                if text.startswith(field + ":"):
                    return int(text.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def children_peak(stop: threading.Event, found: list[int]) -> None:
    """Watch this process's children (the reader process) and keep the highest peak seen."""
    me = str(os.getpid())
    while not stop.wait(0.02):
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as stat:
                        parent = stat.read().rsplit(")", 1)[1].split()[1]
                except (FileNotFoundError, ProcessLookupError, IndexError):
                    continue
                if parent == me:
                    found.append(status_bytes(entry, "VmHWM"))


def probe(what: str, path: Path) -> int:
    """Run in the probe process: the peak resident bytes the `what` of `path` needed."""
    if what == "reader":
        import python_calamine

        for _row in (
            python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).iter_rows()
        ):
            pass
        return status_bytes("self", "VmHWM")
    folder = Path(tempfile.mkdtemp(prefix="tracker-bench-probe-"))
    os.environ["TRACKER_INSTANCE_PATH"] = str(folder)
    app = new_app(folder, "probe.sqlite")
    before = status_bytes("self", "VmRSS")
    stop, found = threading.Event(), [0]
    watcher = threading.Thread(target=children_peak, args=(stop, found), daemon=True)
    watcher.start()
    tracker_import(app, path, commit=False)
    stop.set()
    watcher.join()
    return max(status_bytes("self", "VmHWM") - before, 0) + max(found)


def alternate(rounds: int, *sides):
    """Each side's median seconds, the sides asked in turn, `rounds` times over."""
    times = [[] for _side in sides]
    for _round in range(rounds):
        for index, side in enumerate(sides):
            times[index].append(side())
    return [statistics.median(found) for found in times]


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
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--only", choices=("opening",), help="Measure only this figure (and its baseline)."
    )
    parser.add_argument("--probe", nargs=2, metavar=("WHAT", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    global DATABASE_URL  # noqa: PLW0603  (one setting for every step of this run)
    DATABASE_URL = args.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    if args.probe:
        print(probe(args.probe[0], Path(args.probe[1])))
        return 0
    folder = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
    os.environ["TRACKER_INSTANCE_PATH"] = str(folder)
    fresh = iter(range(10**6))

    def app_for(name):
        return new_app(folder, f"{name}-{next(fresh)}.sqlite")

    def with_schools(name):
        app = app_for(name)
        with app.app_context():
            add_schools(SCHOOLS)
        return app

    opening = folder / "opening.xlsx"
    make_opening(opening, args.rows, SCHOOLS)
    measured_opening, baseline_opening = alternate(
        args.rounds,
        lambda: tracker_opening(with_schools("opening"), opening),
        lambda: bare_opening(with_schools("bare-opening"), opening),
    )
    opened = line(
        "opening",
        measured_opening,
        baseline_opening,
        "s",
        f"opening balance of {args.rows} tablets over {SCHOOLS} schools vs bare calamine read "
        "+ bare insert",
    )
    if args.only == "opening":
        return 0 if opened else 3
    big, small = folder / "big.xlsx", folder / "small.xlsx"
    make_workbook(big, args.rows)
    make_workbook(small, args.small)
    print(
        f"rows: {args.rows} (small: {args.small}), "
        f"{'PostgreSQL' if DATABASE_URL else 'SQLite'}, Python {sys.version.split()[0]}, "
        f"file {big.stat().st_size / 1e6:.1f} MB, {args.rounds} alternating rounds"
    )
    measured_import, baseline_import, baseline_openpyxl = alternate(
        args.rounds,
        lambda: tracker_import(app_for("tracker"), big),
        lambda: bare_import(app_for("calamine"), big, "calamine"),
        lambda: bare_import(app_for("openpyxl"), big, "openpyxl"),
    )
    (measured_small,) = alternate(args.rounds, lambda: tracker_import(app_for("small"), small))
    export_app = app_for("export")
    tracker_import(export_app, big)
    measured_export, baseline_export = alternate(
        args.rounds,
        lambda: tracker_export(export_app, folder / "tracker.xlsx"),
        lambda: bare_export(export_app, folder / "bare.xlsx"),
    )
    memory_big, reader_big = peak_memory(big, "preview"), peak_memory(big, "reader")

    results = [
        line(
            "import",
            measured_import,
            baseline_import,
            "s",
            f"import {args.rows} devices vs bare calamine read + bare insert",
        ),
        line(
            "openpyxl",
            measured_import,
            baseline_openpyxl,
            "s",
            f"import {args.rows} devices vs bare openpyxl read + bare insert (before calamine)",
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
            f"peak memory of a {args.rows}-row preview vs a bare calamine read",
        ),
    ]
    if DATABASE_URL:
        inserted, copied = insert_vs_copy(folder, big)
        print(
            f"copy     bare insert of {args.rows} devices: executemany {inserted:.2f} s, "
            f"COPY {copied:.2f} s (the import writes with COPY on PostgreSQL)"
        )
    return 0 if all(results) and opened else 3


if __name__ == "__main__":
    sys.exit(main())
