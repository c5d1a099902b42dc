"""Benchmark: a field agent's pages at 3G and slow-network speeds, against their floor.

    .venv/bin/python scripts/bench_network.py [--profiles 3g,slow] [--languages fr,ar]

Runs the demo on a new SQLite database, serves it on a local port, and drives Debian's
Chromium through Playwright with the network emulated by the browser itself (CDP
Network.emulateNetworkConditions):

  3g    1.6 Mbit/s down, 750 kbit/s up, 150 ms round trip
  slow  400 kbit/s down and up, 400 ms round trip

and prints, with a cold cache (the first visit: the sign-in, then each page after it, with
what the sign-in already fetched) and a warm one (each page again):
  sign-in     from opening the sign-in page to the agent's deliveries on screen
  delivery    opening a delivery until its scan box accepts a scan (its script is ready)
  field app   opening the offline field app until it can be used
  scan        from a scan typed into the box to its answer on screen (in round trips)

and, with the service worker as on the agent's phone (the rows above block it, see
`measure`), the field app opened again from the phone's copy: its time and what it asked of
the network (goal: nothing but the API).

Beside each, from the same run, the physical floor: the bytes the browser received over the
bandwidth plus the round trips the page cannot avoid (one per page asked, one more for its
stylesheets and scripts, one more for fonts, which only a stylesheet names). Goals: warm
loads at most 1.5x their floor; a scan answered within 2 round trips.
"""

import argparse
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROFILES = {
    "3g": {"down": 1_600_000, "up": 750_000, "rtt": 0.150},
    "slow": {"down": 400_000, "up": 400_000, "rtt": 0.400},
}
GOALS = {"warm": 1.5, "scan": 2.0}
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def demo_app(folder: Path):
    import os

    os.environ["TRACKER_INSTANCE_PATH"] = str(folder)
    from tracker import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'demo.sqlite'}",
            "BASE_URL": "http://127.0.0.1",
            "SECRET_KEY": "bench-network",
        }
    )
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["demo"])
        if result.exit_code:
            raise SystemExit(result.output)
    return app


def agents_delivery(app) -> tuple[int, list[str]]:
    """A dispatched delivery of the demo's field agent and the asset tags on it."""
    import sqlalchemy as sa

    from tracker.auth.models import User
    from tracker.deliveries.models import Delivery, DeliveryItem
    from tracker.devices.models import Device
    from tracker.extensions import db

    with app.app_context():
        agent = db.session.scalar(sa.select(User).where(User.email == "field@demo.test"))
        delivery = db.session.scalar(
            sa.select(Delivery)
            .where(Delivery.assigned_to_id == agent.id, Delivery.status == "dispatched")
            .order_by(Delivery.id)
        )
        tags = db.session.scalars(
            sa.select(Device.asset_tag)
            .join(DeliveryItem, DeliveryItem.device_id == Device.id)
            .where(DeliveryItem.delivery_id == delivery.id)
        ).all()
        return delivery.id, list(tags)


def serve(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.server_port}", server.shutdown


class Network:
    """The page's transfers, counted from the browser's network log while measuring."""

    def __init__(self, context):
        self.bytes = 0
        self.kinds: list[str] = []
        context.on("requestfinished", self.finished)

    def finished(self, request):
        try:
            sizes = request.sizes()
        except Exception:  # noqa: BLE001  (a request the browser dropped)
            return
        received = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        if received > 0:  # not from the cache
            self.bytes += received
            self.kinds.append(request.resource_type)

    def start(self) -> None:
        self.bytes, self.kinds = 0, []

    def floor(self, profile: dict, pages: int = 1) -> float:
        """Bytes over the bandwidth, plus the round trips that must follow one another: one
        per page asked (`pages`: a sign-in asks three, the form, its answer and the page it
        leads to), one more for stylesheets, scripts and images, one more for fonts."""
        trips = pages
        if {"stylesheet", "script", "image"} & set(self.kinds):
            trips += 1
        if "font" in self.kinds:
            trips += 1
        return self.bytes * 8 / profile["down"] + trips * profile["rtt"]


def emulate(page, profile: dict) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": profile["rtt"] * 1000,
            "downloadThroughput": profile["down"] / 8,
            "uploadThroughput": profile["up"] / 8,
        },
    )


READY_DELIVERY = (
    "document.readyState !== 'loading' && window.TrackerScan"
    " && document.getElementById('scan-code') !== null"
)
READY_FIELD = (
    "document.readyState !== 'loading' && window.TrackerStore"
    " && document.getElementById('take-all') !== null"
)


def measure(browser, url: str, profile: dict, language: str, delivery: int, tags: list[str]):
    """Each measurement's seconds, its floor and its bytes, cold then warm."""
    rows = []
    # bypass_csp: the waits below are JavaScript expressions, which the pages' CSP refuses.
    # No service worker: requests it passes on leave from its own network stack, which the
    # page's emulation does not slow (a scan then came back faster than a round trip). Warm
    # loads come from the browser's cache, where hashed files stay a year.
    context = browser.new_context(
        locale=language,
        viewport={"width": 390, "height": 844},
        bypass_csp=True,
        service_workers="block",
    )
    network = Network(context)
    page = context.new_page()
    emulate(page, profile)
    for cache in ("cold", "warm"):
        if cache == "warm":
            context.clear_cookies()  # signed out; the browser's cache stays
        network.start()
        started = time.perf_counter()
        for attempt in range(3):
            page.goto(f"{url}/login")
            page.fill("input[name=email]", "field@demo.test")
            page.fill("input[name=password]", "demo")
            with page.expect_navigation(wait_until="load"):
                page.click("main button[type=submit]")
            if page.url.endswith("/deliveries/"):
                break
            # Said, not hidden: this found a sign-in refused after a scan (a lazy query left
            # unread by a template kept SQLite's read snapshot; fixed in deliveries/views.py).
            print(f"  (sign-in refused, attempt {attempt + 1}: {page.inner_text('main')[:70]!r})")
        elapsed = time.perf_counter() - started
        rows.append(("sign-in", cache, elapsed, network.floor(profile, 3), network.bytes))

        for name, path, ready in (
            ("delivery", f"/deliveries/{delivery}", READY_DELIVERY),
            ("field app", "/field/", READY_FIELD),
        ):
            if cache == "warm":  # the page once, so that its files are in the cache
                page.goto(url + path, wait_until="networkidle")
            network.start()
            started = time.perf_counter()
            page.goto(url + path, wait_until="commit")
            page.wait_for_function(ready, polling=20)
            elapsed = time.perf_counter() - started
            rows.append((name, cache, elapsed, network.floor(profile), network.bytes))
        page.goto(f"{url}/deliveries/{delivery}", wait_until="networkidle")
        page.wait_for_function(READY_DELIVERY, polling=20)
        result = page.locator("#scan-result")
        before = result.inner_text()
        network.start()
        started = time.perf_counter()
        page.fill("#scan-code", tags[0 if cache == "cold" else 1])
        page.keyboard.press("Enter")
        page.wait_for_function(
            "(before) => { const shown = document.getElementById('scan-result').innerText;"
            " return shown !== before && shown !== '…'; }",  # "…" is shown while it asks
            arg=before,
            polling=10,
        )
        elapsed = time.perf_counter() - started
        rows.append(("scan", cache, elapsed, profile["rtt"], network.bytes))
    context.close()
    return rows


KEPT = "navigator.serviceWorker.ready.then(() => caches.match('/field/')).then(r => !!r)"


def field_app_from_the_phone(browser, url: str, profile: dict, language: str) -> tuple:
    """The field app opened again with its service worker, as on the agent's phone: its page
    and files come from the phone's copy. Returns the seconds until it can be used and what
    the page asked of the network meanwhile (the API only, by design)."""
    context = browser.new_context(
        locale=language, viewport={"width": 390, "height": 844}, bypass_csp=True
    )
    page = context.new_page()
    emulate(page, profile)
    page.goto(f"{url}/login")
    page.fill("input[name=email]", "field@demo.test")
    page.fill("input[name=password]", "demo")
    with page.expect_navigation(wait_until="load"):
        page.click("main button[type=submit]")
    page.goto(f"{url}/field/", wait_until="networkidle")
    deadline = time.monotonic() + 30
    while not page.evaluate(KEPT):
        if time.monotonic() > deadline:
            raise RuntimeError("the service worker never kept the field app")
        page.wait_for_timeout(100)
    page.goto(f"{url}/field/", wait_until="networkidle")  # now under the worker's control
    asked: list[str] = []

    def listener(request):
        # The page's requests the worker answered from the phone are not the network's.
        response = request.response()
        if response is None or not response.from_service_worker:
            asked.append(request.url.removeprefix(url))

    context.on("requestfinished", listener)
    started = time.perf_counter()
    page.goto(f"{url}/field/", wait_until="commit")
    page.wait_for_function(READY_FIELD, polling=20)
    elapsed = time.perf_counter() - started
    page.wait_for_load_state("networkidle")
    context.remove_listener("requestfinished", listener)
    context.close()
    return elapsed, asked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", default="3g,slow")
    parser.add_argument("--languages", default="fr,ar")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="tracker-bench-network-"))
    ok = True
    try:
        app = demo_app(folder)
        delivery, tags = agents_delivery(app)
        url, stop = serve(app)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                    headless=True,
                    args=ARGS,
                )
                for profile_name in args.profiles.split(","):
                    profile = PROFILES[profile_name]
                    for language in args.languages.split(","):
                        print(
                            f"{profile_name} ({profile['down'] / 1e6:g} Mbit/s down, "
                            f"{profile['rtt'] * 1000:.0f} ms round trip), {language}:"
                        )
                        rows = measure(browser, url, profile, language, delivery, tags)
                        for name, cache, seconds, floor, received in rows:
                            ratio = seconds / floor
                            goal = GOALS["scan"] if name == "scan" else GOALS["warm"]
                            judged = name == "scan" or cache == "warm"
                            met = ratio <= goal
                            ok = ok and (met or not judged)
                            unit = "round trips" if name == "scan" else "x its floor"
                            print(
                                f"  {name:9} {cache}: {seconds * 1000:7.0f} ms  floor "
                                f"{floor * 1000:6.0f} ms  {received / 1024:6.1f} KB  "
                                f"{ratio:4.2f} {unit}"
                                + (
                                    f"  (goal <= {goal}) {'PASS' if met else 'FAIL'}"
                                    if judged
                                    else ""
                                )
                            )
                        seconds, asked = field_app_from_the_phone(browser, url, profile, language)
                        others = [path for path in asked if not path.startswith("/api/")]
                        ok = ok and not others
                        print(
                            f"  field app warm, from the phone's copy (service worker): "
                            f"{seconds * 1000:.0f} ms, asked {asked or 'nothing'}  "
                            f"(goal: nothing but the API) {'FAIL' if others else 'PASS'}"
                        )
                browser.close()
        finally:
            stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
