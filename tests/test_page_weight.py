"""What a field agent's phone downloads, in bytes a real browser transfers: each page of the
demo, in French and in Arabic, with a cold cache and a warm one, against its budget.

Counted from Chromium's own network log (Playwright's request sizes: compressed body and
headers, every request of the page and of its service worker), on the demo data. The server
side logs each request too, so "no static file asked again" is checked where it happens.
"""

import shutil
import threading
from collections import defaultdict

import pytest
from werkzeug.serving import make_server

from conftest import make_app
from tracker.extensions import db

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not shutil.which("chromium"), reason="Debian's chromium is not installed (.ci/run installs it)"
)
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
KB = 1024
BUDGETS = {
    "sign-in, cold": 60 * KB,
    "signed-in page, cold": 80 * KB,
    "signed-in page, warm": 12 * KB,
    "field app, cold": 150 * KB,
}
LANGUAGES = ["fr", "ar"]


class Counting:
    """WSGI middleware: which paths the server was asked for."""

    def __init__(self, app):
        self.app, self.paths = app, []

    def __call__(self, environ, start_response):
        self.paths.append(environ.get("PATH_INFO", ""))
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    path = tmp_path_factory.mktemp("weight") / "demo.sqlite"
    app = make_app(f"sqlite:///{path}", WTF_CSRF_ENABLED=True, TESTING=False)
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    counting = Counting(app)
    server = make_server("127.0.0.1", 0, counting, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", counting
    server.shutdown()
    thread.join(5)
    with app.app_context():
        db.engine.dispose()


class Transfers:
    """Bytes the browser received, request by request (compressed body and headers)."""

    def __init__(self, context):
        self.sizes = defaultdict(int)
        context.on("requestfinished", self.finished)

    def finished(self, request):
        try:
            sizes = request.sizes()
        except playwright_api.Error:  # a request the browser dropped
            return
        self.sizes[request.url] += sizes["responseBodySize"] + sizes["responseHeadersSize"]

    def total(self) -> int:
        return sum(self.sizes.values())

    def reset(self) -> None:
        self.sizes.clear()

    def listing(self) -> str:
        return ", ".join(f"{url.split('/', 3)[-1]} {size}" for url, size in self.sizes.items())


def sign_in(context, base: str, email: str) -> None:
    """A session for `email`, made without the page (so the browser's cache stays cold)."""
    login = context.request.get(f"{base}/login")
    token = login.text().split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    done = context.request.post(
        f"{base}/login", form={"csrf_token": token, "email": email, "password": "demo"}
    )
    assert done.ok


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_of_a_field_agent_within_its_byte_budget(demo_url, language):
    base, server = demo_url
    measured = {}
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)

        def fresh():
            context = browser.new_context(
                locale=language, viewport={"width": 390, "height": 844}, service_workers="block"
            )
            return context, Transfers(context)

        context, transfers = fresh()
        page = context.new_page()
        page.goto(f"{base}/login", wait_until="networkidle")
        assert page.locator("html").get_attribute("lang") == language
        measured["sign-in, cold"] = (transfers.total(), transfers.listing())
        context.close()

        context, transfers = fresh()
        sign_in(context, base, "field@demo.test")
        page = context.new_page()
        page.goto(f"{base}/deliveries/", wait_until="networkidle")
        measured["signed-in page, cold"] = (transfers.total(), transfers.listing())
        transfers.reset()
        page.goto(f"{base}/", wait_until="networkidle")
        transfers.reset()
        asked = len(server.paths)
        page.goto(f"{base}/deliveries/", wait_until="networkidle")
        measured["signed-in page, warm"] = (transfers.total(), transfers.listing())
        assert [path for path in server.paths[asked:] if path.startswith("/static/")] == []
        context.close()

        # The field app with its service worker: the page, then every file it keeps.
        context = browser.new_context(locale=language, viewport={"width": 390, "height": 844})
        transfers = Transfers(context)
        sign_in(context, base, "field@demo.test")
        page = context.new_page()
        page.goto(f"{base}/field/", wait_until="networkidle")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.wait_for_load_state("networkidle")
        shell = [path for path in server.paths if path.startswith("/static/")]
        measured["field app, cold"] = (transfers.total(), transfers.listing())
        asked = len(server.paths)
        page.reload(wait_until="networkidle")
        # Warm, the field app opens from the phone: nothing but the API is asked.
        again = [path for path in server.paths[asked:] if not path.startswith("/api/")]
        context.close()
        browser.close()
    report = "\n".join(
        f"{name}: {size / KB:.1f} KB (budget {BUDGETS[name] / KB:.0f} KB) — {listing}"
        for name, (size, listing) in measured.items()
    )
    print(report)
    assert shell, "the field app kept no static file"
    assert again == [], f"the field app asked again for what it keeps: {again}"
    assert all(size <= BUDGETS[name] for name, (size, _listing) in measured.items()), report


def test_static_files_are_named_by_content_compressed_once_and_kept_a_year(app, client):
    from tracker.static_files import IMMUTABLE

    page = client.get("/login").get_data(as_text=True)
    stylesheet = page.split('rel="stylesheet" href="', 2)[2].split('"', 1)[0]
    assert stylesheet.startswith("/static/css/app.") and stylesheet.endswith(".css")
    for encoding in ("br", "gzip"):
        response = client.get(stylesheet, headers={"Accept-Encoding": encoding})
        assert response.headers["Content-Encoding"] == encoding
        assert response.headers["Cache-Control"] == IMMUTABLE
    plain = client.get(stylesheet)
    assert "Content-Encoding" not in plain.headers
    # The stylesheet's fonts are named by their content too.
    assert "NotoSansArabic_400Regular.subset." in plain.get_data(as_text=True)
    old_name = client.get("/static/css/app.css")
    assert old_name.status_code == 200 and "immutable" not in old_name.headers["Cache-Control"]


def test_pages_and_json_are_compressed_when_the_browser_asks(app, client, signed_in):
    signed_in("coordinator")
    page = client.get("/devices/", headers={"Accept-Encoding": "br, gzip"})
    assert page.headers["Content-Encoding"] == "br" and "Accept-Encoding" in page.headers["Vary"]
    api = client.get("/api/v1/me", headers={"Accept-Encoding": "gzip"})
    assert api.status_code == 200


def test_csrf_tokens_differ_in_every_page_and_each_is_accepted(live_app_client):
    """Compressed pages must not repeat the session's CSRF secret (BREACH): each page gets
    it masked afresh, and every masked token still passes."""
    client = live_app_client
    first = client.get("/login").get_data(as_text=True)
    second = client.get("/login").get_data(as_text=True)

    def token(html):
        return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    assert token(first) != token(second)
    refused = client.post("/login", data={"email": "x@example.org", "password": "no"})
    assert "Wrong e-mail or password" not in refused.get_data(as_text=True)  # no token
    for html in (first, second):
        answered = client.post(
            "/login", data={"csrf_token": token(html), "email": "x@example.org", "password": "no"}
        )
        # Past the CSRF check, to the password check.
        assert "Wrong e-mail or password" in answered.get_data(as_text=True)


@pytest.fixture
def live_app_client(database_url):
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app.test_client()
        db.session.remove()
        db.engine.dispose()
