"""Benchmark under load: gunicorn with several workers, many clients at once, on loopback.

    .venv/bin/python scripts/bench_load.py [--database-url postgresql://postgres@127.0.0.1:5432/bench]
        [--devices 200000] [--schools 5000] [--workers 4] [--clients 16] [--seconds 10]
        [--rounds 3]

Without --database-url the data set is a SQLite file (WAL). Two servers run side by side
with the same gunicorn settings: tracker, and a bare app on the same stack
(`stack_floor.py`: Flask, Flask-Login, the ORM, Jinja; nothing of tracker) whose one-row
page is the most any page can reach here. For each address, `clients` connections send
requests back to back for `seconds`, from wrk when it is installed (apt-get install wrk: it
takes little of the CPU the server needs) or else from Python threads. The reads are asked
in rounds, tracker and the bare stack in turn (the order reversed every other round), so
that a drift of this shared machine falls on both; printed are medians of requests per
second and 95th-percentile latency, and each round's ratio. Goal: the scan page and a
delivery page serve at least 60% of the bare page's requests per second. Then scans at the
school (writes) at several numbers of clients show where SQLite's single writer and file
locking stop keeping up.
"""

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import stack_floor  # noqa: E402
import synthetic  # noqa: E402

GOAL = 0.60  # of the bare stack's one-row page, the most a page can reach


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sign_in(port: int, email: str) -> tuple[str, str]:
    """The session cookie of a synthetic user (through the real sign-in form) and the CSRF
    token its forms send."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/login")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    body = urlencode({"email": email, "password": synthetic.PASSWORD, "csrf_token": token})
    connection.request(
        "POST",
        "/login",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    answer = connection.getresponse()
    answer.read()
    assert answer.status == 302, answer.status
    # Signing in also sets the known-browser cookie: keep the session's.
    cookie = next(
        value.split(";", 1)[0]
        for value in answer.msg.get_all("Set-Cookie")
        if value.startswith("session=")
    )
    connection.request("GET", "/api/v1/me", headers={"Cookie": cookie})
    me = connection.getresponse()
    csrf = json.loads(me.read())["csrf_token"]
    # The session now holds the secret the token is checked against.
    return (me.getheader("Set-Cookie") or cookie).split(";", 1)[0], csrf


# A request: method, path and (for a POST) its form body.
Target = tuple[str, str, str]

WRK_SCRIPT = """
local targets = {%(targets)s}
wrk.headers["Cookie"] = "%(cookie)s"
wrk.headers["X-CSRFToken"] = "%(csrf)s"
wrk.headers["Accept"] = "application/json, text/html;q=0.9"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local threads = %(threads)d
local started = 0
function setup(thread)
  thread:set("offset", started)
  started = started + 1
end
local sent = 0
request = function()
  -- Each thread walks its own share of the (shuffled) targets: a scan is sent once.
  local target = targets[((offset or 0) + sent * threads) %% #targets + 1]
  sent = sent + 1
  if target[1] == "GET" then
    return wrk.format("GET", target[2])
  end
  return wrk.format("POST", target[2], nil, target[3])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(95), e.connect + e.read + e.write + e.timeout + e.status))
end
"""


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def hammer_wrk(port, targets: list[Target], cookie, csrf, clients: int, seconds: float):
    """The same as `hammer`, measured by wrk (C): the load generator then takes little of
    the CPU the server needs, and its own limits do not cap the fastest endpoint."""
    threads = min(2, clients)  # wrk needs a connection per thread at least
    listed = ", ".join(
        "{" + ", ".join(lua_string(part) for part in target) + "}" for target in targets
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            WRK_SCRIPT % {"targets": listed, "cookie": cookie, "csrf": csrf, "threads": threads}
        )
    try:
        output = subprocess.run(  # noqa: S603
            [
                shutil.which("wrk"),
                "--threads",
                str(threads),
                "--connections",
                str(clients),
                "--duration",
                f"{seconds:.0f}s",
                "--timeout",
                "30s",
                "--script",
                script.name,
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    requests, duration_us, p95_us, errors = (
        int(part) for part in re.search(r"RESULT (\d+) (\d+) (\d+) (\d+)", output).groups()
    )
    return requests / (duration_us / 1e6), p95_us / 1000, [None] * errors


def hammer(port, targets: list[Target], cookie, csrf, clients: int, seconds: float):
    """Requests per second and p95 latency (ms) of `clients` threads for `seconds`."""
    latencies: list[float] = []
    errors = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    headers = {
        "Cookie": cookie,
        "X-CSRFToken": csrf,
        "Accept": "application/json, text/html;q=0.9",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    turn = iter(range(10**9))

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.perf_counter() < deadline:
            with lock:
                method, path, body = targets[next(turn) % len(targets)]
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body or None, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status >= 400:
                    errors.append(response.status)
            except (OSError, http.client.HTTPException) as error:
                errors.append(repr(error))
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95)] * 1000 if latencies else float("nan")
    return len(latencies) / seconds, p95, errors


@contextmanager
def serving(application: str, env: dict, workers: int, port: int):
    """gunicorn serving `application` on loopback for the block (tracker, or the bare stack)."""
    server = subprocess.Popen(  # noqa: S603
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--pythonpath",
            str(HERE),
            application,
        ],
        env={**os.environ, **env},
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        yield
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)


def floor_targets(url: str, items: int, port: int) -> tuple[str, dict[str, list[str]]]:
    """The bare stack's (`stack_floor.py`) session cookie and its three addresses: /healthz,
    its signed-in JSON, its one-row page."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/login")
    answer = connection.getresponse()
    answer.read()
    cookie = answer.getheader("Set-Cookie").split(";", 1)[0]
    rng = random.Random(5)
    pages = [f"/item/{stack_floor.token(rng.randrange(items))}" for _ in range(500)]
    return cookie, {"healthz": ["/healthz"], "me": ["/me"], "page": pages}


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--devices", type=int, default=200_000)
    parser.add_argument("--schools", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of reads, tracker and the bare stack in turn (medians are compared)",
    )
    parser.add_argument(
        "--write-clients",
        default="1,4,16,64",
        help="clients at once for the write run (scans at the school), one run per number",
    )
    parser.add_argument(
        "--generator",
        choices=("wrk", "python"),
        default="wrk" if shutil.which("wrk") else "python",
        help="wrk when installed (apt-get install wrk), else Python threads",
    )
    args = parser.parse_args()
    generator = args.generator
    folder = Path(tempfile.mkdtemp(prefix="tracker-load-"))
    os.environ["TRACKER_INSTANCE_PATH"] = str(folder)
    url = args.database_url or f"sqlite:///{folder / 'load.sqlite'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    import sqlalchemy as sa

    from tracker.deliveries.models import Delivery, DeliveryItem
    from tracker.devices.models import Device
    from tracker.extensions import db

    app = synthetic.make_app(url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        synthetic.generate(args.schools, args.devices)
        rng = random.Random(3)
        total = db.session.scalar(sa.select(sa.func.max(Device.id)))
        tokens = db.session.scalars(
            sa.select(Device.qr_token).where(
                Device.id.in_([rng.randint(1, total) for _ in range(500)])
            )
        ).all()
        delivery_ids = db.session.scalars(sa.select(Delivery.id).limit(200)).all()
        # Tablets on their way to a school, each scanned there once during the write run.
        on_the_road = db.session.execute(
            sa.select(DeliveryItem.delivery_id, Device.asset_tag)
            .join(Delivery, Delivery.id == DeliveryItem.delivery_id)
            .join(Device, Device.id == DeliveryItem.device_id)
            .where(Delivery.status == "dispatched", DeliveryItem.status == "packed")
        ).all()
        rng.shuffle(on_the_road)
        db.engine.dispose()
    floor_url = url if "postgresql" in url else f"sqlite:///{folder / 'floor.sqlite'}"
    stack_floor.fill(floor_url, args.devices)
    port, floor_port = free_port(), free_port()
    env = {
        "TRACKER_DATABASE_URL": url,
        "TRACKER_DEFAULT_LOCALE": "en",
        "TRACKER_BASE_URL": f"http://127.0.0.1:{port}",
    }
    floor_env = {
        stack_floor.URL_VARIABLE: floor_url,
        stack_floor.KEY_VARIABLE: os.urandom(32).hex(),
    }
    measure = hammer_wrk if generator == "wrk" else hammer
    # Both servers stay up; only one is asked at a time, so they do not share the CPU.
    with (
        serving("tracker:create_app()", env, args.workers, port),
        serving("stack_floor:create_app()", floor_env, args.workers, floor_port),
    ):
        reader = sign_in(port, "manager@bench.test")
        writer = sign_in(port, "coordinator@bench.test")
        floor_cookie, floor_paths = floor_targets(floor_url, args.devices, floor_port)
        # Each read: (server port, cookie, csrf, paths).
        reads = {
            "bare page": (floor_port, floor_cookie, "", floor_paths["page"]),
            "scan /d/<token>": (port, *reader, [f"/d/{token}" for token in tokens]),
            "bare /healthz": (floor_port, floor_cookie, "", floor_paths["healthz"]),
            "delivery page": (port, *reader, [f"/deliveries/{n}" for n in delivery_ids]),
            "bare signed-in JSON": (floor_port, floor_cookie, "", floor_paths["me"]),
            "healthz": (port, *reader, ["/healthz"]),
            "signed-in /api/v1/me": (port, *reader, ["/api/v1/me"]),
        }
        rounds: dict[str, list[tuple[float, float, list]]] = {name: [] for name in reads}
        for number in range(args.rounds):
            # Tracker and the bare stack in turn, the order reversed every other round, so
            # that the machine's drift falls on both sides alike.
            order = list(reads) if number % 2 == 0 else list(reversed(reads))
            for name in order:
                server, cookie, csrf, paths = reads[name]
                targets = [("GET", path, "") for path in paths]
                rounds[name].append(
                    measure(server, targets, cookie, csrf, args.clients, args.seconds)
                )
        writes = {}
        levels = [int(n) for n in args.write_clients.split(",")]
        share = len(on_the_road) // len(levels)
        for n, clients in enumerate(levels):
            # Each level scans tablets of its own: none is scanned twice.
            targets = [
                ("POST", f"/deliveries/{delivery}/scan", urlencode({"code": tag}))
                for delivery, tag in on_the_road[n * share : (n + 1) * share]
            ]
            name = f"scan at school x{clients}"
            writes[name] = measure(port, targets, *writer, clients, args.seconds)
            if len(targets) < writes[name][0] * args.seconds:
                print(f"({name}: fewer targets than requests; some were sent twice)")
    database = "PostgreSQL" if "postgresql" in url else "SQLite (WAL)"
    print(
        f"{database}, {args.devices} devices, {args.schools} schools; gunicorn "
        f"{args.workers} workers, {args.clients} clients (writes: {args.write_clients}), "
        f"{args.seconds:.0f} s each, {args.rounds} rounds of reads (tracker and the bare stack "
        f"in turn), loopback, load from {generator}"
    )
    print(
        "The bare stack is stack_floor.py: Flask, Flask-Login, the ORM and Jinja, nothing of "
        "tracker; its one-row page is the most any page reaches on this stack and machine."
    )
    rate = {name: median([r[0] for r in results]) for name, results in rounds.items()}
    ok = True
    for name, results in rounds.items():
        errors = sum(len(r[2]) for r in results)
        line = (
            f"{name:22} {rate[name]:8.0f} req/s   p95 {median([r[1] for r in results]):7.1f} ms"
            f"   errors {errors}"
        )
        if name in ("scan /d/<token>", "delivery page"):
            each = [
                mine[0] / bare[0] for mine, bare in zip(results, rounds["bare page"], strict=True)
            ]
            passed = median(each) >= GOAL and not errors
            ok &= passed
            line += (
                f"   {median(each):4.0%} of the bare page (goal >= {GOAL:.0%}) "
                f"{'PASS' if passed else 'FAIL'}; rounds "
                + " ".join(f"{ratio:.0%}" for ratio in each)
                + f"; {rate[name] / rate['healthz']:.0%} of /healthz"
            )
        elif name == "signed-in /api/v1/me":
            line += f"   {rate[name] / rate['healthz']:4.0%} of /healthz"
        elif name.startswith("bare ") and name != "bare /healthz":
            line += f"   {rate[name] / rate['bare /healthz']:4.0%} of its /healthz"
        print(line)
    signed_in = rate["signed-in /api/v1/me"]
    for name, (per_second, p95, errors) in writes.items():
        print(
            f"{name:22} {per_second:8.0f} req/s   p95 {p95:7.1f} ms   errors {len(errors)}"
            f"   {per_second / signed_in:4.0%} of /api/v1/me  (writes: one transaction each)"
        )
        if errors and errors[0] is not None:
            print(name, "errors:", Counter(errors).most_common(3))
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
