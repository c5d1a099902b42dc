"""Benchmark: the job queue's own overhead, empty jobs per second through `tracker worker`.

    .venv/bin/python scripts/bench_queue.py [--jobs 500] [--rounds 3]
        [--database-url postgresql://postgres@127.0.0.1:5432/bench]

Beside it, in alternating rounds, the floor of the library underneath: empty huey tasks
through a bare huey consumer on the same storage (huey's SQLite file, or its PostgreSQL
tables), one worker thread each. huey publishes no throughput figure of its own; this is
it, measured here. What tracker adds per job: a row in `jobs`, its claim (a conditional
UPDATE), a heartbeat record, the job's request context, and its end (an UPDATE).
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TRACKER = str(Path(sys.executable).with_name("tracker"))


def bare_huey(url: str, folder: Path):
    from huey import Huey
    from huey.storage import PostgresStorage, SqliteStorage

    if url:
        storage = {"storage_class": PostgresStorage, "dsn": url, "read_timeout": 1}
    else:
        storage = {"storage_class": SqliteStorage, "filename": str(folder / "bare-queue.sqlite")}
    huey = Huey("bare", results=False, **storage)

    @huey.task(name="noop")
    def noop(number: int) -> None:
        huey.put(f"done:{number}", 1)

    return huey, noop


def bare_consumer(url: str, folder: str) -> None:
    huey, _noop = bare_huey(url, Path(folder))
    huey.create_consumer(workers=1, initial_delay=0.1, max_delay=1.0).run()


def bare_round(huey, noop, jobs: int) -> float:
    started = time.perf_counter()
    for number in range(jobs):
        noop(number)
    last = f"done:{jobs - 1}"
    while huey.get(last, peek=True) is None:
        time.sleep(0.005)
    seconds = time.perf_counter() - started
    huey.flush()
    return seconds


def tracker_round(env: dict, jobs: int) -> float:
    answer = subprocess.run(  # noqa: S603
        [TRACKER, "jobs", "ping", "--count", str(jobs)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    # "500 jobs in 3.21 s: 156 jobs/s"
    return float(answer.stdout.split(" in ")[1].split(" s")[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default="", help="PostgreSQL (emptied first)")
    parser.add_argument("--bare-consumer", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_consumer:
        bare_consumer(*args.bare_consumer)
        return 0

    folder = Path(tempfile.mkdtemp(prefix="tracker-bench-queue-"))
    env = {
        **os.environ,
        "TRACKER_INSTANCE_PATH": str(folder),
        "TRACKER_JOBS_MODE": "workers",
        "TRACKER_SECRET_KEY": "bench",
    }
    if args.database_url:
        env["TRACKER_DATABASE_URL"] = args.database_url
        import sqlalchemy as sa

        url = args.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    subprocess.run([TRACKER, "db", "upgrade"], env=env, check=True, capture_output=True)  # noqa: S603
    huey, noop = bare_huey(args.database_url, folder)
    huey.flush()
    workers = [
        subprocess.Popen([TRACKER, "worker", "--threads", "1"], env=env),  # noqa: S603
        subprocess.Popen(  # noqa: S603
            [sys.executable, __file__, "--bare-consumer", args.database_url, str(folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    try:
        time.sleep(3)
        tracker_round(env, 20)  # both sides warm: connections made, tables there
        bare_round(huey, noop, 20)
        measured, floor = [], []
        for _ in range(args.rounds):
            measured.append(tracker_round(env, args.jobs))
            floor.append(bare_round(huey, noop, args.jobs))
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(30)
    ours, bare = statistics.median(measured), statistics.median(floor)
    print(
        f"{'PostgreSQL' if args.database_url else 'SQLite'}, {args.jobs} empty jobs a round, "
        f"{args.rounds} alternating rounds (medians), one worker thread each"
    )
    print(f"tracker worker  {args.jobs / ours:7.0f} jobs/s   ({ours:.2f} s; rounds {measured})")
    print(f"bare huey       {args.jobs / bare:7.0f} jobs/s   ({bare:.2f} s; rounds {floor})")
    print(f"ratio           {ours / bare:7.2f}x the bare library's time per job")
    return 0


if __name__ == "__main__":
    sys.exit(main())
