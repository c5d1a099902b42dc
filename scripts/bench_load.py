"""Benchmark under load: gunicorn with several workers, many clients at once, on loopback.

    .venv/bin/python scripts/bench_load.py [--database-url postgresql://postgres@127.0.0.1:5432/bench]
        [--devices 200000] [--schools 5000] [--workers 4] [--clients 16] [--seconds 15]

Without --database-url the data set is a SQLite file (WAL). For each endpoint, `clients`
connections send requests back to back for `seconds`, from wrk when it is installed
(apt-get install wrk: it takes little of the CPU the server needs) or else from Python
threads; printed are requests per second and the 95th-percentile latency, beside /healthz
(answers without the session or the database) under the same settings, and beside
/api/v1/me (the least a signed-in answer does: the session, the user's row). Goal: the scan
and the delivery page serve at least 40% of /healthz's requests per second. With SQLite the
same run shows where its single writer and file locking stop keeping up.
"""

import argparse
import http.client
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
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic  # noqa: E402

GOAL = 0.40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sign_in(port: int) -> str:
    """The session cookie of the synthetic manager (through the real sign-in form)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/login")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    body = urlencode(
        {"email": "manager@bench.test", "password": synthetic.PASSWORD, "csrf_token": token}
    )
    connection.request(
        "POST",
        "/login",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    answer = connection.getresponse()
    answer.read()
    assert answer.status == 302, answer.status
    return answer.getheader("Set-Cookie").split(";", 1)[0]


WRK_SCRIPT = """
local paths = {%s}
wrk.headers["Cookie"] = "%s"
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(95), e.connect + e.read + e.write + e.timeout + e.status))
end
"""


def hammer_wrk(port: int, paths: list[str], cookie: str, clients: int, seconds: float):
    """The same as `hammer`, measured by wrk (C): the load generator then takes little of
    the CPU the server needs, and its own limits do not cap the fastest endpoint."""
    listed = ", ".join(f'"{path}"' for path in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % (listed, cookie))
    try:
        output = subprocess.run(  # noqa: S603
            [
                shutil.which("wrk"),
                "--threads",
                "2",
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


def hammer(port: int, paths: list[str], cookie: str, clients: int, seconds: float):
    """Requests per second and p95 latency (ms) of `clients` threads for `seconds`."""
    latencies: list[float] = []
    errors = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(seed: int):
        rng = random.Random(seed)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                connection.request("GET", rng.choice(paths), headers={"Cookie": cookie})
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

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95)] * 1000 if latencies else float("nan")
    return len(latencies) / seconds, p95, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--devices", type=int, default=200_000)
    parser.add_argument("--schools", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15)
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

    from tracker.deliveries.models import Delivery
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
        db.engine.dispose()
    port = free_port()
    env = {
        **os.environ,
        "TRACKER_DATABASE_URL": url,
        "TRACKER_DEFAULT_LOCALE": "en",
        "TRACKER_BASE_URL": f"http://127.0.0.1:{port}",
    }
    server = subprocess.Popen(  # noqa: S603
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "tracker:create_app()",
        ],
        env=env,
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        cookie = sign_in(port)
        runs = {
            "healthz": ["/healthz"],
            "signed-in /api/v1/me": ["/api/v1/me"],
            "scan /d/<token>": [f"/d/{token}" for token in tokens],
            "delivery page": [f"/deliveries/{n}" for n in delivery_ids],
        }
        measure = hammer_wrk if generator == "wrk" else hammer
        results = {
            name: measure(port, paths, cookie, args.clients, args.seconds)
            for name, paths in runs.items()
        }
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    database = "PostgreSQL" if "postgresql" in url else "SQLite (WAL)"
    print(
        f"{database}, {args.devices} devices, {args.schools} schools; gunicorn "
        f"{args.workers} workers, {args.clients} clients, {args.seconds:.0f} s each, loopback, "
        f"load from {generator}"
    )
    baseline = results["healthz"][0]
    signed_in = results["signed-in /api/v1/me"][0]
    ok = True
    for name, (rate, p95, errors) in results.items():
        line = f"{name:20} {rate:8.0f} req/s   p95 {p95:7.1f} ms   errors {len(errors)}"
        if name == "signed-in /api/v1/me":
            line += f"   {rate / baseline:5.0%} of /healthz  (the floor of any signed-in answer)"
        elif name != "healthz":
            passed = rate / baseline >= GOAL and not errors
            ok &= passed
            line += f"   {rate / baseline:5.0%} of /healthz  (goal >= {GOAL:.0%})  "
            line += "PASS" if passed else "FAIL"
            line += f"   {rate / signed_in:5.0%} of /api/v1/me"
        print(line)
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
