"""Benchmark: what a user does stays as fast at national scale (SQLite by default).

    .venv/bin/python scripts/bench_scale.py [--devices 1500000] [--schools 25000]
        [--database-url postgresql://...]   # the large data set on PostgreSQL instead

Two data sets from scripts/synthetic.py, one of 1,000 devices and one of --devices, and
side by side on them:
  scan        GET /d/<token> (a QR opened), mean of 200 random tokens: large vs small
              (goal <= 1.2x)
  code box    GET /devices/?q=<serial> (a scanner typing into the box): large vs small
              (goal <= 1.2x)
  code box part  the same with the serial's last character left off: the list of the
              devices it begins (goal <= 1.2x)
  list        the device list's 1,000th page vs its first, on the large set (goal <= 1.5x)
  statements  SQL statements each page sends, small vs large (goal: the same count)
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic  # noqa: E402

PAGES = [
    "/",
    "/devices/",
    "/schools/",
    "/deliveries/",
    "/plans/",
    "/history",
    "/alerts",
    "/progress",
]
# Pages of one thing, named by what stands for their id: a device (its QR code opened) and
# a delivery (with its tablets: 20 in the small set, 40 in the large one).
ONE_OF = ["/d/<token>", "/deliveries/<id>"]


def sibling_database(url: str, suffix: str) -> str:
    """A database beside `url`'s on the same PostgreSQL server, created when missing."""
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    name = f"{parsed.database}{suffix}"
    engine = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def build(url: str, schools: int, devices: int):
    from tracker.extensions import db

    app = synthetic.make_app(url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        synthetic.generate(schools, devices)
    return app


class DataSet:
    """One data set's app, signed in as the manager, and what to ask it for."""

    def __init__(self, app):
        import sqlalchemy as sa

        from tracker.deliveries.models import Delivery
        from tracker.devices.models import Device
        from tracker.extensions import db

        rng = random.Random(7)
        # Looked up here; the requests then run outside this app context, each in its own as
        # on a server (inside one they would share `g` and the session: the signed-in user
        # would be loaded once for all of them, and not counted).
        with app.app_context():
            self.engine = db.engine
            total = db.session.scalar(sa.select(sa.func.count()).select_from(Device))
            picks = [rng.randint(1, total) for _ in range(200)]
            self.rows = db.session.execute(
                sa.select(Device.id, Device.qr_token, Device.serial).where(Device.id.in_(picks))
            ).all()
            self.tag = db.session.scalar(
                sa.select(Device.asset_tag)
                .order_by(Device.asset_tag)
                .offset(min(total, 999 * 50) - 1)
            )
            self.delivery_id = db.session.scalar(
                sa.select(Delivery.id).where(Delivery.status == "dispatched").limit(1)
            )
        self.client = app.test_client()
        self.client.post(
            "/login", data={"email": "manager@bench.test", "password": synthetic.PASSWORD}
        )

    def paths(self, what: str) -> list[str]:
        if what == "scan":
            return [f"/d/{token}" for _id, token, _serial in self.rows]
        if what == "code box":
            return [f"/devices/?q={serial}" for _id, _token, serial in self.rows]
        if what == "code box part":
            # All but the last character: the list of the (ten) devices it begins.
            return [f"/devices/?q={serial[:-1]}" for _id, _token, serial in self.rows]
        if what == "list first":
            return ["/devices/"] * 20
        return [f"/devices/?after={self.tag}"] * 20  # the 1,000th page

    def get(self, path: str) -> float:
        started = time.perf_counter()
        response = self.client.get(path)
        took = time.perf_counter() - started
        assert response.status_code in (200, 302), (path, response.status_code)
        return took

    def statements(self) -> dict[str, int]:
        """SQL statements each page sends."""
        from sqlalchemy import event

        paths = {page: page for page in PAGES}
        paths["/d/<token>"] = f"/d/{self.rows[0].qr_token}"
        paths["/deliveries/<id>"] = f"/deliveries/{self.delivery_id}"
        counts = {}
        for page, path in paths.items():
            seen = []
            listener = lambda *_args, seen=seen: seen.append(1)  # noqa: E731
            event.listen(self.engine, "before_cursor_execute", listener)
            assert self.client.get(path).status_code == 200, path
            event.remove(self.engine, "before_cursor_execute", listener)
            counts[page] = len(seen)
        return counts


def side_by_side(first: DataSet, what_first: str, second: DataSet, what_second: str):
    """Mean time of each side's requests, asked in turn (one of each), best of three rounds.

    A round on this machine varies by +-30% with what else runs on it; taking turns puts
    the same drift on both sides.
    """
    pairs = list(zip(first.paths(what_first), second.paths(what_second), strict=False))
    for a, b in pairs[:5]:  # warm the caches first
        first.get(a)
        second.get(b)
    rounds = []
    for _ in range(3):
        times = [(first.get(a), second.get(b)) for a, b in pairs]
        rounds.append(tuple(statistics.mean(side) for side in zip(*times, strict=True)))
    return min(t for t, _ in rounds), min(t for _, t in rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1_500_000)
    parser.add_argument("--schools", type=int, default=25_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
    os.environ["TRACKER_INSTANCE_PATH"] = str(folder)
    url = args.database_url or f"sqlite:///{folder / 'large.sqlite'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    small_url = f"sqlite:///{folder / 'small.sqlite'}"
    if url.startswith("postgresql"):
        small_url = sibling_database(url, "_small")  # the small set on the same server
    small_app = build(small_url, 50, args.small)
    started = time.perf_counter()
    large_app = build(url, args.schools, args.devices)
    built = time.perf_counter() - started
    small, large = DataSet(small_app), DataSet(large_app)
    timings = {}
    for what in ("scan", "code box", "code box part"):
        timings[what] = side_by_side(large, what, small, what)
    timings["list"] = side_by_side(large, "list 1000th", large, "list first")
    small_counts, large_counts = small.statements(), large.statements()

    print(
        f"small: {args.small} devices; large: {args.devices} devices, {args.schools} schools "
        f"({'PostgreSQL' if 'postgresql' in url else 'SQLite'}, generated in {built:.0f} s), "
        f"Python {sys.version.split()[0]}"
    )
    ok = True
    for name, goal in (("scan", 1.2), ("code box", 1.2), ("code box part", 1.2)):
        large_time, small_time = timings[name]
        ratio = large_time / small_time
        ok &= ratio <= goal
        print(
            f"{name:13} large {large_time * 1000:7.2f} ms   small {small_time * 1000:7.2f} ms"
            f"   ratio {ratio:5.2f}  (goal <= {goal})  {'PASS' if ratio <= goal else 'FAIL'}"
        )
    last, first = timings["list"]
    ratio = last / first
    ok &= ratio <= 1.5
    print(
        f"list        page 1,000 {last * 1000:7.2f} ms   page 1 {first * 1000:7.2f} ms"
        f"   ratio {ratio:5.2f}  (goal <= 1.5)  {'PASS' if ratio <= 1.5 else 'FAIL'}"
    )
    for page in PAGES + ONE_OF:
        same = small_counts[page] == large_counts[page]
        ok &= same
        print(
            f"statements  {page:16} small {small_counts[page]:3}   large "
            f"{large_counts[page]:3}   {'PASS' if same else 'FAIL'}"
        )
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
