"""Every page of every role on a 390 × 844 phone, in French, Arabic and English, on the demo:
no page wider than the screen, and no control hidden under a fixed or sticky element (the
element at the control's centre, once scrolled into view, is the control).

Layout does not depend on the database: this runs on SQLite only.
"""

import shutil
import threading

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from conftest import make_app
from tracker.allocations.models import AllocationPlan
from tracker.deliveries.models import Delivery
from tracker.devices.models import Device
from tracker.donations.models import Donation
from tracker.extensions import db
from tracker.schools.models import School

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
PHONE = {"width": 390, "height": 844}
ROLES = ("admin", "coordinator", "manager", "field")

# Run in the page: what a user of a phone would hit. Returns a list of sentences.
CHECK = """() => {
  const problems = [];
  const width = window.innerWidth;
  const wide = document.documentElement.scrollWidth;
  if (wide > width + 1) problems.push(`the page is ${wide} px wide`);
  const name = (el) => {
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim();
    return `${el.tagName.toLowerCase()} "${text.slice(0, 40)}"`;
  };
  const controls = document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary');
  for (const el of controls) {
    if (el.closest('dialog:not([open])') || el.closest('.visually-hidden')) continue;
    const details = el.closest('details:not([open])');
    if (details && el.tagName !== 'SUMMARY') continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || el.getClientRects().length === 0) continue;
    const before = el.getBoundingClientRect();
    if (before.width < 4 || before.height < 4) continue;
    el.scrollIntoView({block: 'center', inline: 'nearest'});
    // A link across two lines: its first line is where a finger goes.
    const r = el.getClientRects()[0];
    if (r.bottom <= 0) continue;  // kept above the page until focused (the skip link)
    if (r.left < -1 || r.right > width + 1) {
      const where = `x ${Math.round(r.left)} to ${Math.round(r.right)}`;
      problems.push(`${name(el)} is off the screen (${where})`);
      continue;
    }
    const x = Math.min(Math.max(r.left + r.width / 2, 0), width - 1);
    const y = Math.min(Math.max(r.top + r.height / 2, 0), window.innerHeight - 1);
    const top = document.elementFromPoint(x, y);
    if (!top || top === el || el.contains(top)) continue;
    if (top.tagName === 'LABEL' && top.control === el) continue;
    if (top.contains(el) && getComputedStyle(top).pointerEvents !== 'none') continue;
    problems.push(`${name(el)} is covered by ${name(top)}`);
  }
  // Scrolled to the top of the screen, a control is under no sticky panel, but for the rows of
  // the list the panel stands over (it sticks inside its own part of the page, leaves with it).
  const pinned = (node) => {
    for (; node && node !== document.body; node = node.parentElement) {
      const position = getComputedStyle(node).position;
      if (position === 'sticky' || position === 'fixed') return node;
    }
    return null;
  };
  for (const el of controls) {
    if (el.getClientRects().length === 0) continue;
    if (el.closest('dialog, details:not([open]) > :not(summary)')) continue;
    const box = el.getBoundingClientRect();
    if (box.width < 4 || box.height < 4 || pinned(el)) continue;
    el.scrollIntoView({block: 'start', inline: 'nearest'});
    const r = el.getClientRects()[0];
    if (r.bottom <= 0) continue;
    const top = document.elementFromPoint(r.left + r.width / 2, r.top + Math.min(r.height / 2, 8));
    const panel = pinned(top);
    const listed = panel && panel.parentElement.contains(el) && el.closest('table, ol, ul');
    if (panel && !panel.contains(el) && !listed) {
      problems.push(`${name(el)} goes under the sticky ${name(panel)}`);
    }
  }
  window.scrollTo(0, 0);
  return problems;
}"""
# The menus a user opens (navigation, account): open, they stay on the screen.
MENUS = """() => {
  const problems = [];
  for (const menu of document.querySelectorAll('details')) {
    const summary = menu.querySelector('summary');
    if (!summary || summary.getClientRects().length === 0) continue;
    menu.open = true;
    for (const el of menu.querySelectorAll('a[href], button')) {
      const r = el.getBoundingClientRect();
      if (r.width && (r.left < -1 || r.right > window.innerWidth + 1)) {
        problems.push(`"${el.innerText.trim().slice(0, 30)}" in an open menu is off the screen`);
      }
    }
    menu.open = false;
  }
  return problems;
}"""


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    """The demo, served with CSRF on as in production, and the pages each role can reach."""
    path = tmp_path_factory.mktemp("phone") / "demo.sqlite"
    app = make_app(f"sqlite:///{path}", WTF_CSRF_ENABLED=True, TESTING=False)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["demo"])
        assert result.exit_code == 0, result.output
        pages = ["/", "/devices/", "/schools/", "/deliveries/", "/plans/", "/donations/"]
        pages += ["/alerts", "/history", "/progress", "/map", "/imports/", "/admin/users"]
        pages += ["/labels/", "/field/", "/account/password"]
        pages += [f"/devices/{db.session.scalar(sa.select(sa.func.min(Device.id)))}"]
        pages += [f"/schools/{db.session.scalar(sa.select(sa.func.min(School.id)))}"]
        pages += [f"/donations/{db.session.scalar(sa.select(Donation.id))}"]
        pages += [f"/plans/{n}" for n in db.session.scalars(sa.select(AllocationPlan.id))]
        pages += [f"/deliveries/{n}" for n in db.session.scalars(sa.select(Delivery.id))]
        pages += ["/devices/new", "/schools/new", "/plans/new"]
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", pages
    server.shutdown()
    thread.join(5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


def signed_in(browser, url: str, role: str, language: str):
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, has_touch=True)
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=email]", f"{role}@demo.test")
    page.fill("input[name=password]", "demo")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    page.click(f".language-switch button[value={language}]")
    page.wait_for_load_state()
    return context, page


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
@pytest.mark.parametrize("role", ROLES)
def test_every_page_fits_a_phone_and_no_control_is_covered(demo_site, browser, role, language):
    url, pages = demo_site
    context, page = signed_in(browser, url, role, language)
    found, seen = {}, 0
    try:
        for path in pages:
            response = page.goto(url + path)
            if response.status != 200 or page.url.rstrip("/").endswith("/login"):
                continue
            seen += 1
            problems = page.evaluate(CHECK) + page.evaluate(MENUS)
            if problems:
                found[path] = problems[:4]
    finally:
        context.close()
    assert seen >= 8, f"{role} opened only {seen} pages"
    assert not found, found


def test_a_field_agent_lands_on_their_deliveries(demo_site, browser):
    url, _pages = demo_site
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(f"{url}/login")
        page.fill("input[name=email]", "field@demo.test")
        page.fill("input[name=password]", "demo")
        page.click("main button[type=submit]")
        page.wait_for_load_state()
        assert page.url.endswith("/deliveries/")
    finally:
        context.close()
