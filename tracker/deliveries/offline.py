"""The offline field app: its page, its web app manifest and its service worker.

The service worker keeps the app's page and every static file on the phone, so the field
app opens with no network; deliveries taken offline live in the phone's IndexedDB and the
actions done offline wait there until `/api/v1/sync` accepts them (static/js/field.js).
"""

import hashlib
from functools import cache

from flask import Blueprint, current_app, jsonify, make_response, render_template, url_for

from tracker.auth.permissions import requires
from tracker.paths import resource_dir

bp = Blueprint("offline", __name__)


# Office pages only: not kept on the phone.
NOT_ON_THE_PHONE = ("vendor/leaflet/", "js/map.js")


@cache
def _template_digest() -> str:
    digest = hashlib.sha256()
    for template in (
        "deliveries/field_app.html",
        "deliveries/_scan_box.html",
        "base.html",
        "_frame_head.html",
        "_frame_top.html",
        "_frame_bottom.html",
        "_nav.html",
        "deliveries/sw.js",
    ):
        digest.update((resource_dir("templates") / template).read_bytes())
    return digest.hexdigest()


def _shell_files() -> tuple[list[str], str]:
    """The static files the phone keeps (their hashed names) and the cache's version: a
    new content of any of them, or of the app's page, is a new version."""
    manifest = current_app.extensions["static_manifest"]
    names = [
        manifest[name]
        for name in sorted(manifest)
        if not name.startswith(NOT_ON_THE_PHONE) and not name.endswith(".webmanifest")
    ]
    digest = hashlib.sha256(_template_digest().encode())
    for name in names:
        digest.update(name.encode())
    return names, digest.hexdigest()[:16]


@bp.route("/field/")
@requires("deliveries.act")
def field_app():
    return render_template("deliveries/field_app.html")


@bp.route("/sw.js")
def service_worker():
    files, version = _shell_files()
    # Hashed names: an update's files never mix with the old ones, which go with the old
    # cache when the new worker takes over.
    # The field app's page is not among them: it names its user and language, so it is kept
    # as each signed-in page finds it (store.js, keepFieldPage) and as it is opened.
    shell = [url_for("offline.web_manifest")] + [
        current_app.static_url_path + "/" + name for name in files
    ]
    body = render_template("deliveries/sw.js", version=version, shell=shell)
    response = make_response(body)
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.route("/manifest.webmanifest")
def web_manifest():
    response = jsonify(
        {
            "name": current_app.config.get("APP_NAME", "tracker — field"),
            "short_name": "tracker",
            "start_url": url_for("offline.field_app"),
            "scope": "/",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#01579b",
            "icons": [
                {
                    "src": url_for("static", filename=f"icons/icon-{size}.png"),
                    "sizes": f"{size}x{size}",
                    "type": "image/png",
                }
                for size in (192, 512)
            ],
        }
    )
    response.headers["Content-Type"] = "application/manifest+json"
    return response
