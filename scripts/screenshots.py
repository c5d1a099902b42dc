"""The screenshot set: every role's main pages on a phone (390 × 844) and a desktop
(1280 × 900), in French, Arabic and English, and the demo's PDFs rendered to PNG.

    .venv/bin/python scripts/screenshots.py [--out screenshots] [--pages /,/deliveries/3]
        [--roles field,coordinator] [--languages fr,ar] [--sizes phone] [--no-pdfs]

Runs the demo on a new SQLite database in a temporary folder, serves it on a local port,
and drives Debian's Chromium through Playwright (no browser download: the network may be
closed). PDFs are rendered with pypdfium2. `docs/screenshots/` holds a small current set:
    .venv/bin/python scripts/screenshots.py --out docs/screenshots --small
"""

import argparse
import shutil
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
MAIN_PAGES = {
    "field": ["/deliveries/", "/deliveries/4", "/field/", "/devices/1"],
    "coordinator": ["/", "/plans/1", "/deliveries/1", "/devices/", "/imports/", "/labels/"],
    "manager": ["/", "/progress", "/alerts", "/plans/2", "/deliveries/6"],
    "admin": ["/admin/users", "/schools/"],
}
SMALL = {  # what docs/screenshots/ holds
    "field": ["/deliveries/", "/deliveries/4"],
    "coordinator": ["/plans/1"],
    "manager": ["/"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="screenshots")
    parser.add_argument("--pages", help="comma-separated paths, for every role chosen")
    parser.add_argument("--roles", default="field,coordinator,manager,admin")
    parser.add_argument("--languages", default="fr,ar,en")
    parser.add_argument("--sizes", default="phone,desktop")
    parser.add_argument("--no-pdfs", action="store_true")
    parser.add_argument("--small", action="store_true", help="the set kept in docs/screenshots")
    parser.add_argument("--full-page", action="store_true", help="the whole page, not the screen")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="tracker-shots-"))
    try:
        app = demo_app(folder)
        url, stop = serve(app)
        try:
            pages = MAIN_PAGES if not args.small else SMALL
            if args.pages:
                pages = {role: args.pages.split(",") for role in args.roles.split(",")}
            languages = args.languages.split(",") if not args.small else ["fr", "ar"]
            sizes = args.sizes.split(",") if not args.small else ["phone"]
            count = shoot(url, pages, args.roles.split(","), languages, sizes, out, args.full_page)
        finally:
            stop()
        if not args.no_pdfs:
            count += render_pdfs(app, out, languages, args.small)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{count} images in {out}/")
    return 0


def demo_app(folder: Path):
    import os

    os.environ["TRACKER_INSTANCE_PATH"] = str(folder)
    from tracker import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'demo.sqlite'}",
            "BASE_URL": "http://127.0.0.1",
            "SECRET_KEY": "screenshots",
        }
    )
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["demo"])
        if result.exit_code:
            raise SystemExit(result.output)
    return app


def serve(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        thread.join(5)

    return f"http://127.0.0.1:{server.server_port}", stop


def shoot(url, pages, roles, languages, sizes, out: Path, full_page: bool) -> int:
    from playwright.sync_api import sync_playwright

    count = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            headless=True,
            args=ARGS,
        )
        for role in roles:
            for language in languages:
                for size in sizes:
                    context = browser.new_context(viewport=SIZES[size])
                    page = context.new_page()
                    page.goto(f"{url}/login")
                    page.fill("input[name=email]", f"{role}@demo.test")
                    page.fill("input[name=password]", "demo")
                    page.click("main button[type=submit]")
                    page.wait_for_load_state()
                    page.click(f".language-switch button[value={language}]")
                    page.wait_for_load_state()
                    for path in pages.get(role, []):
                        page.goto(url + path)
                        page.wait_for_load_state("networkidle")
                        name = path.strip("/").replace("/", "-") or "home"
                        target = out / f"{role}-{name}-{language}-{size}.png"
                        page.screenshot(path=str(target), full_page=full_page)
                        count += 1
                    context.close()
        browser.close()
    return count


def render_pdfs(app, out: Path, languages, small: bool = False) -> int:
    """The PDFs' first pages; papers printed in both French and Arabic (the delivery note,
    the labels) once only in the small set."""
    import pypdfium2 as pdfium
    import sqlalchemy as sa
    from flask_babel import force_locale

    from tracker.deliveries import documents
    from tracker.deliveries.models import HANDED_OVER, Delivery
    from tracker.deliveries.services import get_delivery
    from tracker.donations.models import Donation
    from tracker.extensions import db
    from tracker.labels.services import choose_layout, labels_for
    from tracker.labels.sheets import render_labels
    from tracker.reports.donor import donor_pdf

    count = 0
    with app.app_context():
        for language in languages:
            with app.test_request_context(), force_locale(language):
                made = {}
                delivery = db.session.scalar(
                    sa.select(Delivery).where(Delivery.status.in_(HANDED_OVER)).limit(1)
                )
                delivery = get_delivery(delivery.id, whole=True)
                made["proof-of-delivery"] = documents.receipt(delivery)
                made["delivery-note"] = documents.delivery_note(delivery)
                made["donor-report"] = donor_pdf(db.session.scalar(sa.select(Donation.id)))
                made["labels"] = render_labels(labels_for(), choose_layout(None))
                if small and language != languages[0]:
                    made = {
                        k: v for k, v in made.items() if k in ("proof-of-delivery", "donor-report")
                    }
                for name, data in made.items():
                    page = pdfium.PdfDocument(data)[0]
                    page.render(scale=100 / 72).to_pil().save(out / f"pdf-{name}-{language}.png")
                    count += 1
    return count


if __name__ == "__main__":
    raise SystemExit(main())
