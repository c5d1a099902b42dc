"""tracker: follow donated tablets from a donor's manifest to a signed hand-over at a school."""

import os
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from tracker.config import load_config
from tracker.paths import resource_dir


def create_app(config: dict | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, CLI commands and error pages."""
    # What the server writes (the SQLite database, its WAL, uploads, backups) is its own:
    # password and token hashes, signatures and photos are in there.
    os.umask(0o077)
    app = Flask(
        __name__,
        instance_path=os.environ.get("TRACKER_INSTANCE_PATH") or None,
        template_folder=str(resource_dir("templates")),
        static_folder=str(resource_dir("static")),
    )
    app.config.update(load_config(Path(app.instance_path)))
    if config:
        app.config.update(config)
    from tracker.jobs.queue import default_mode

    app.config.setdefault("JOBS_MODE", default_mode(app.config["SQLALCHEMY_DATABASE_URI"]))
    proxies = app.config.get("TRUSTED_PROXIES", 0)
    if proxies:
        # Only the addresses our own proxies add are believed: a forged X-Forwarded-For
        # from the client is further left and is ignored.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    register_extensions(app)
    _keep_database_private(app)
    from tracker.web import install_converters

    install_converters(app)
    register_blueprints(app)
    from tracker.auth.permissions import can_here

    # Templates ask `can("plans.approve", plan)`, never a role or a state.
    app.jinja_env.globals["can"] = can_here
    register_commands(app)
    from tracker import web

    web.init_app(app)
    from tracker.schools.reach import check_view_args

    app.before_request(check_view_args)  # after the sign-in wall: objects out of reach are 404
    serve_static(app)
    return app


def serve_static(app: Flask) -> None:
    """Static files by WhiteNoise from their served copy (tracker/static_files.py): hashed
    names cached a year, gzip or brotli made once; url_for gives the hashed names."""
    from whitenoise import WhiteNoise

    from tracker.static_files import add_cache_headers, build

    served, manifest = build(Path(app.static_folder), Path(app.config["STATIC_BUILD_DIR"]))
    app.extensions["static_manifest"] = manifest

    @app.url_defaults
    def hashed_static_names(endpoint, values):
        if endpoint == "static" and "filename" in values:
            values["filename"] = manifest.get(values["filename"], values["filename"])

    app.wsgi_app = WhiteNoise(
        app.wsgi_app,
        root=served,
        prefix="static/",
        max_age=3600,  # an unhashed name (an old page's link) is asked again within the hour
        add_headers_function=add_cache_headers,
    )


def _keep_database_private(app: Flask) -> None:
    """An SQLite file made before the umask (by an older version) becomes owner-only too."""
    from sqlalchemy.engine import make_url

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    for suffix in ("", "-wal", "-shm"):
        path = Path(url.database + suffix)
        try:
            if path.exists() and path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
                path.chmod(0o600)
        except OSError:  # another process removed the WAL meanwhile; it comes back private
            pass


def register_extensions(app: Flask) -> None:
    from tracker import models  # noqa: F401  (every model registered before Alembic looks)
    from tracker.auth.services import load_session_user
    from tracker.auth.tokens import load_token_user
    from tracker.database import attach_sqlite
    from tracker.extensions import babel, csrf, db, login_manager, migrate
    from tracker.i18n import (
        N_,
        compile_catalogues,
        gettext,
        install_template_gettext,
        select_locale,
    )

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            attach_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT"])
    migrate.init_app(app, db, directory=str(resource_dir("migrations")), render_as_batch=True)
    csrf.init_app(app)
    from flask_compress import Compress

    # Pages and JSON compressed as the browser asks (brotli, else gzip), at a level quick
    # enough per request; static files come precompressed from WhiteNoise instead.
    app.config.setdefault(
        "COMPRESS_MIMETYPES",
        [
            "text/html",
            "application/json",
            "text/javascript",
            "application/manifest+json",
            "image/svg+xml",
        ],
    )
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 4)
    app.config.setdefault("COMPRESS_LEVEL", 6)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    app.config.setdefault("COMPRESS_STREAMS", False)  # exports stream as they are written
    Compress(app)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = compile_catalogues(app.instance_path)
    babel.init_app(app, locale_selector=select_locale)
    install_template_gettext(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # Flashed when the sign-in wall sends someone to sign in, in the language they read.
    login_manager.login_message = N_("Sign in to see this page.")
    login_manager.localize_callback = gettext
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_session_user)
    login_manager.request_loader(load_token_user)


def register_blueprints(app: Flask) -> None:
    from tracker.allocations.views import bp as plans_bp
    from tracker.allocations.views import swap_bp
    from tracker.api.views import bp as api_bp
    from tracker.auth.views import admin_bp, auth_bp
    from tracker.counts.views import bp as counts_bp
    from tracker.dashboard.views import bp as dashboard_bp
    from tracker.deliveries.move_views import bp as moves_bp
    from tracker.deliveries.offline import bp as offline_bp
    from tracker.deliveries.receiving import bp as receiving_bp
    from tracker.deliveries.views import bp as deliveries_bp
    from tracker.devices.depot_views import bp as depots_bp
    from tracker.devices.views import bp as devices_bp
    from tracker.devices.views import scan_bp
    from tracker.donations.views import bp as donations_bp
    from tracker.jobs.views import bp as jobs_bp
    from tracker.labels.views import bp as labels_bp
    from tracker.loans.views import bp as loans_bp
    from tracker.messages.views import bp as messages_bp
    from tracker.repairs.views import bp as repairs_bp
    from tracker.repairs.views import school_bp as faults_bp
    from tracker.reports.donor_pages import bp as donors_bp
    from tracker.reports.open_figures import bp as open_bp
    from tracker.reports.views import bp as reports_bp
    from tracker.schools.offices import bp as offices_bp
    from tracker.schools.views import bp as schools_bp
    from tracker.spreadsheets.views import exports_bp, imports_bp, workbooks_bp
    from tracker.transfers.views import bp as transfers_bp

    for blueprint in (
        auth_bp,
        admin_bp,
        dashboard_bp,
        donations_bp,
        devices_bp,
        depots_bp,
        moves_bp,
        scan_bp,
        schools_bp,
        offices_bp,
        labels_bp,
        reports_bp,
        donors_bp,
        open_bp,
        imports_bp,
        exports_bp,
        workbooks_bp,
        plans_bp,
        swap_bp,
        deliveries_bp,
        receiving_bp,
        api_bp,
        offline_bp,
        jobs_bp,
        messages_bp,
        loans_bp,
        counts_bp,
        repairs_bp,
        faults_bp,
        transfers_bp,
    ):
        app.register_blueprint(blueprint)


def register_commands(app: Flask) -> None:
    from tracker.auth.cli import users_cli
    from tracker.backup import backup_command, restore_command
    from tracker.demo.cli import demo_command
    from tracker.donations.cli import donations_cli
    from tracker.jobs.cli import jobs_cli, worker_command
    from tracker.labels.cli import labels_command
    from tracker.loans.cli import loans_cli
    from tracker.reports import cli as _reports_cli  # noqa: F401  (adds export donor-report)
    from tracker.spreadsheets.cli import export_cli, import_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(donations_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(labels_command)
    app.cli.add_command(import_cli)
    app.cli.add_command(export_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(loans_cli)
