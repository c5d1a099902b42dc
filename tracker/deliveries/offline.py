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
NOT_CACHED = {".md", ".txt"}


@cache
def _static_files() -> tuple[tuple[str, ...], str]:
    """Every static file the app serves (relative paths) and a hash of their contents."""
    root = resource_dir("static")
    digest = hashlib.sha256()
    files = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix in NOT_CACHED or path.name.startswith("LICENSE"):
            continue
        relative = path.relative_to(root).as_posix()
        files.append(relative)
        digest.update(relative.encode())
        digest.update(path.read_bytes())
    for template in (
        "deliveries/field_app.html",
        "deliveries/_scan_box.html",
        "base.html",
        "deliveries/sw.js",
    ):
        digest.update((resource_dir("templates") / template).read_bytes())
    return tuple(files), digest.hexdigest()[:16]


@bp.route("/field/")
@requires("deliveries.act")
def field_app():
    return render_template("deliveries/field_app.html")


@bp.route("/sw.js")
def service_worker():
    files, version = _static_files()
    shell = [url_for("offline.field_app"), url_for("offline.web_manifest")] + [
        url_for("static", filename=name) for name in files
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
