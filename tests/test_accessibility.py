"""Accessibility checked by a standard checker: axe-core (vendored from npm in
tests/vendor/axe-core, MPL-2.0) runs in Debian's Chromium on the main pages of every role,
in French and Arabic, on a phone (390 px) and a desktop, and finds no WCAG 2.1 A or AA
violation.

The pages are the demo's (every feature has its part there). They do not depend on the
database engine, so this runs on SQLite only: the same pages on PostgreSQL are the same
HTML.
"""

import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from conftest import make_app
from tracker.extensions import db

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not shutil.which("chromium"), reason="Debian's chromium is not installed (.ci/run installs it)"
)
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
# Each role's main pages, as they open them (the demo's numbers).
PAGES = {
    "admin": ["/admin/users", "/schools/", "/messages/outbox"],
    "coordinator": [
        "/",
        "/plans/1",
        "/deliveries/1",
        "/devices/",
        "/imports/",
        "/counts/",
        "/counts/3/depot",
        "/donations/1",
        "/repairs/",
    ],
    "manager": ["/", "/progress", "/alerts", "/deliveries/6", "/map"],
    "field": ["/deliveries/", "/deliveries/4", "/field/"],
    "school": ["/my-school", "/schools/1/lend", "/schools/1/take-back", "/schools/1/report-fault"],
    "donor": ["/donor/", "/donor/donations/1"],
}


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    path = tmp_path_factory.mktemp("axe") / "demo.sqlite"
    app = make_app(f"sqlite:///{path}", WTF_CSRF_ENABLED=True, TESTING=False)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["demo"])
        assert result.exit_code == 0, result.output
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    with app.app_context():
        db.engine.dispose()


def _violations(page) -> list[str]:
    page.add_script_tag(content=AXE.read_text())
    found = page.evaluate(
        """() => axe.run(document, {runOnly: {type: "tag",
              values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
             .then(r => r.passes.length
               ? r.violations.map(v => v.id + ": " +
                   v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "))
               : ["axe checked nothing"])"""
    )
    return found


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_every_main_page_of_every_role_has_no_wcag_violation(demo_url, language):
    problems = []
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        for role, paths in PAGES.items():
            for size, viewport in SIZES.items():
                # (axe is put in the page by the test: the app's CSP would refuse it)
                context = browser.new_context(viewport=viewport, bypass_csp=True)
                page = context.new_page()
                page.goto(f"{demo_url}/login")
                page.fill("input[name=email]", f"{role}@demo.test")
                page.fill("input[name=password]", "demo")
                page.click("main button[type=submit]")
                page.wait_for_load_state()
                page.click(f".language-switch button[value={language}]")
                page.wait_for_load_state()
                for path in paths:
                    page.goto(demo_url + path)
                    page.wait_for_load_state("networkidle")
                    problems += [f"{role} {size} {path}: {v}" for v in _violations(page)]
                context.close()
        browser.close()
    assert problems == []


def test_the_checker_finds_a_violation_when_there_is_one(demo_url):
    """The check can fail: a page given an image without words and a pale link fails it."""
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        page = browser.new_context(bypass_csp=True).new_page()
        page.goto(f"{demo_url}/login")
        page.evaluate(
            """() => { const i = document.createElement('img'); i.src = '/favicon.ico';
                       document.querySelector('main').appendChild(i); }"""
        )
        found = _violations(page)
        browser.close()
    assert any(v.startswith("image-alt") for v in found), found
