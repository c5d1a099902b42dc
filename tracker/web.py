"""What every page shares: sign-in wall, role checks, form errors from services, error pages."""

import re
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, flash, g, jsonify, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import format_date, format_decimal, get_locale
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from markupsafe import Markup, escape
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from tracker.database import LARGEST_ID, disk_full, free_wal
from tracker.errors import DomainError, ValidationFailed
from tracker.extensions import db, login_manager
from tracker.i18n import LANGUAGE_NAMES, N_, RTL, school_name
from tracker.i18n import gettext as _
from tracker.navigation import frame, navigation, role_may_open
from tracker.read_only import reads_without_transaction
from tracker.timezone import format_day, format_moment, local_today
from tracker.transaction import committed, end_of_request, saved_in_this_request

PUBLIC_ENDPOINTS = {
    "auth.login",
    "auth.accept_invitation",
    "auth.invitation",
    "auth.open_invitation",
    "auth.choose_password",
    "auth.set_language",
    "static",
    "api.openapi",
    "offline.service_worker",
    "healthz",
    "favicon",
    "offline.web_manifest",
    # A donation's open figures, when the programme opens them (tracker/reports/open_figures.py).
    "open.page",
    "open.data_json",
    "open.data_csv",
}


# What each refusal says (translated when shown).
ERROR_MESSAGES = {
    400: N_("The request could not be understood."),
    401: N_("Sign in to see this page."),
    403: N_("Your role does not allow this page."),
    404: N_("There is nothing at this address."),
    405: N_("This address does not take that method."),
    413: N_("The file is too large."),
    429: N_("Too many requests; wait a moment and try again."),
    500: N_("Something went wrong on the server; nothing was saved. Try again."),
}


class IdConverter(IntegerConverter):
    """`<int:...>` in a route: a number past what a database key can be answers 404."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(url_map, *args, **kwargs)


def install_converters(app) -> None:
    """Before any blueprint registers its routes."""
    app.url_map.converters["int"] = IdConverter


def whole_number(value: str) -> int:
    """For `request.args.get(name, type=whole_number)`: digits only, 0 to the largest key,
    or the argument is taken as absent (ValueError)."""
    if not value.isdigit() or not value.isascii() or len(value) > 19 or int(value) > LARGEST_ID:
        raise ValueError(value)
    return int(value)


# What templates may call besides the shell's own helpers: each feature's views register
# the words for its codes (states, events, reasons), so this shell knows no feature.
TEMPLATE_HELPERS: dict = {}


def template_helpers(**helpers) -> None:
    """Make `helpers` callable from every template (a feature's labels for its codes)."""
    TEMPLATE_HELPERS.update(helpers)


def labeller(labels: dict):
    """A template helper showing the words for a stored code (the code itself if unknown)."""
    return lambda code: labels.get(code, code)


def may_open(endpoint: str) -> bool:
    """Whether the signed-in user may open `endpoint`, as its route declares: what a page
    asks before showing a link or a button, so no template names a role."""
    return current_user.is_authenticated and role_may_open(current_user.role, endpoint)


def wants_json() -> bool:
    """The JSON API answers everything, refusals included, in JSON."""
    return request.path.startswith("/api/")


def _allow_header(error) -> dict:
    allowed = getattr(error, "valid_methods", None)
    return {"Allow": ", ".join(allowed)} if allowed else {}


def roles_required(*roles: str):
    """Let through signed-in users whose role is one of `roles`; others get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles
        return wrapped

    return decorator


def run_service(form, action):
    """Run a service call and commit; on a refusal roll back and show it next to its field.

    Returns the service's result, or None when it was refused.
    """
    try:
        return committed(action)
    except DomainError as error:
        for problem in getattr(error, "problems", None) or [error]:
            field = problem.field if isinstance(problem, ValidationFailed) else None
            if form is not None and field and field in form:
                form[field].errors = [*form[field].errors, str(problem)]
            elif form is not None:
                form.form_errors.append(str(problem))
            else:
                flash(str(problem), "error")
        return None


def safe_next(target: str | None) -> str | None:
    """Only follow `next=` to a path inside this app (no scheme, no host)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _reads_without_transaction():
    if request.endpoint not in PUBLIC_ENDPOINTS and request.endpoint is not None:
        reads_without_transaction()


def _require_sign_in():
    """Defence in depth: no endpoint answers a signed-out visitor unless it is public."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if not current_user.is_authenticated:
        if request.blueprint == "api":
            return jsonify(error=_("Sign in, or send 'Authorization: Bearer <token>'.")), 401

        return login_manager.unauthorized()
    return None


def other_school_name(school) -> str:
    """The school's name in its other language, shown under the first one."""
    name = school.name_fr if school_name(school) != school.name_fr else school.name_ar
    return name or ""


def _refuse_nul():
    """A NUL in an address or its query is no code, name or search anyone types, and
    PostgreSQL refuses it in any text: answered 400 here, before any query."""
    if "\x00" in request.path or any(
        "\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)
    ):
        abort(400)


FILE_KIND = re.compile(r"\((\.?[A-Za-z0-9]{2,5})\)")
# A file's kind written bare in a sentence (".xlsx, .ods or .csv").
FILE_EXTENSION = re.compile(r"(?<![\w.(])(\.(?:xlsx|xls|ods|csv|pdf|png|jpg))\b")


def bdi(value) -> Markup:
    """A name or a code inside a sentence of the other direction, isolated so neither
    reorders the other ("العون الميداني: Said Terrain · ICESCO 2020")."""
    return Markup("<bdi>{}</bdi>").format(value)


def isolated(text) -> Markup:
    """A label ending in a file kind, "(.xlsx)" or "(PDF)", with the kind kept left to right:
    in an Arabic sentence it would print "(xlsx.)"."""
    escaped = str(escape(text))  # escaped first: only our own tags are added
    escaped = FILE_KIND.sub(lambda m: f'<bdi dir="ltr">({m.group(1)})</bdi>', escaped)
    escaped = FILE_EXTENSION.sub(lambda m: f'<bdi dir="ltr">{m.group(1)}</bdi>', escaped)
    return Markup(escaped)  # noqa: S704


# Pages any cache may keep for everyone (a donation's open figures): no session cookie is
# ever set on them, so no cache keeps one reader's sign-in and hands it to the next.
SHARED_BLUEPRINTS = {"open"}


class _SessionInterface(SecureCookieSessionInterface):
    def save_session(self, app, session, response) -> None:
        if request.blueprint in SHARED_BLUEPRINTS:
            return
        super().save_session(app, session, response)


def init_app(app) -> None:
    app.session_interface = _SessionInterface()
    app.jinja_env.filters["bdi"] = bdi
    app.jinja_env.filters["isolated"] = isolated
    app.jinja_env.globals["bdi"] = bdi
    app.before_request(_refuse_nul)
    app.after_request(end_of_request)
    app.before_request(_reads_without_transaction)
    app.before_request(_require_sign_in)

    @app.route("/favicon.ico")
    def favicon():
        """What a browser asks of every site before any page says where its icon is."""
        return app.send_static_file("icons/icon-192.png"), 200, {"Cache-Control": "max-age=86400"}

    @app.route("/healthz")
    def healthz():
        """For load balancers and the load benchmark's baseline: answers without the database."""
        return "ok", 200, {"Content-Type": "text/plain", "Cache-Control": "no-store"}

    @app.errorhandler(DomainError)
    def domain_error(error):
        db.session.rollback()
        return render_template("error.html", message=str(error)), error.status_code

    @app.errorhandler(HTTPException)
    def http_error(error):
        """Every refusal in the reader's language: JSON under /api/, a page elsewhere."""
        code = error.code or 500
        if code >= 500:
            db.session.rollback()
        message = _(ERROR_MESSAGES.get(code, "The request could not be understood."))
        if code >= 500 and saved_in_this_request():
            # A page never says nothing was saved when something was.
            message = _(
                "Something went wrong on the server after part of what you asked was saved. "
                "Look at the page again before you try again."
            )
        if wants_json():
            return jsonify(error=str(message)), code, _allow_header(error)
        return render_template("error.html", message=message, code=code), code, _allow_header(error)

    @app.errorhandler(OperationalError)
    def database_busy(error):
        """SQLite's write lock stayed taken past the wait, or the disk is full: say so, and
        whether anything was written."""
        db.session.rollback()
        if disk_full(error):
            free_wal(db.engine)
            g._login_user = login_manager.anonymous_user()
            message = (
                _(
                    "The server's disk is full: what you asked was saved only in part. Tell the "
                    "administrator; the tracker works again once space is freed."
                )
                if saved_in_this_request()
                else _(
                    "The server's disk is full; nothing was saved. Tell the administrator; the "
                    "tracker works again once space is freed."
                )
            )
            if wants_json() or request.accept_mimetypes.best == "application/json":
                return jsonify(error=message, code="disk_full"), 507
            return render_template("error.html", message=message, code=507), 507
        if "database is locked" not in str(error.orig or error):
            raise error
        # Whoever asked stays unknown for this answer: loading them would need the database.
        g._login_user = login_manager.anonymous_user()
        message = _("The database is busy; nothing was saved. Try again in a moment.")
        body = (
            jsonify(error=message)
            if wants_json() or request.accept_mimetypes.best == "application/json"
            else render_template("busy.html", message=message)
        )
        return body, 503, {"Retry-After": "2"}

    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        message = _("This form expired or was sent from elsewhere. Go back, reload and try again.")
        if wants_json():
            return jsonify(error=message, code="csrf"), 400
        return render_template("error.html", message=message, code=400), 400

    @app.context_processor
    def helpers():
        locale = str(get_locale() or "fr")
        return {
            "locale_code": locale,
            "direction": "rtl" if locale in RTL else "ltr",
            "language_names": LANGUAGE_NAMES,
            "school_name": school_name,
            # A day as the reader types it (the filters' day fields), and today so (a hint).
            "format_day": format_day,
            "day_hint": lambda: format_day(local_today()),
            "other_school_name": other_school_name,
            **TEMPLATE_HELPERS,
            "format_datetime": format_moment,
            "format_date": lambda value: format_date(value, "medium") if value else "",
            "navigation": navigation,
            "frame": frame,
            "may_open": may_open,
            "number": lambda value: format_decimal(value) if value is not None else "",
        }

    https = app.config.get("BASE_URL", "").startswith("https://")
    tiles = urlsplit(app.config.get("MAP_TILES", ""))
    # The map's tile server, when one is configured, is the only other place images come from.
    tile_source = f" {tiles.scheme}://{tiles.netloc}" if tiles.scheme and tiles.netloc else ""

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(self), geolocation=(self), microphone=()"
        )
        if https:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        response.headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; img-src 'self' data: blob:{tile_source}; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'",
        )
        return response
