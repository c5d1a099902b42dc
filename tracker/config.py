"""Configuration read from `TRACKER_*` environment variables when the app is created."""

import os
import secrets
from datetime import timedelta
from pathlib import Path


def _secret_key(instance_path: Path) -> str:
    """Return TRACKER_SECRET_KEY, or a key generated once and kept in the instance folder.

    The file is created owner-only (0600) so other users on the server cannot read it.
    """
    from_env = os.environ.get("TRACKER_SECRET_KEY")
    if from_env:
        return from_env
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def load_config(instance_path: Path) -> dict:
    """Build the Flask configuration from the environment."""
    instance_path.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("TRACKER_DATABASE_URL") or (
        f"sqlite:///{instance_path / 'tracker.sqlite'}"
    )
    if database_url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    https = os.environ.get("TRACKER_BASE_URL", "").startswith("https://")
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Pre-ping costs a round trip per request; recycling connections every half hour
        # covers a restarted database as well on a private network.
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": os.environ.get("TRACKER_DB_PRE_PING", "0") == "1",
            "pool_recycle": 1800,
        },
        "BASE_URL": os.environ.get("TRACKER_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "ASSET_TAG_PREFIX": os.environ.get("TRACKER_ASSET_TAG_PREFIX", "TAB"),
        "BABEL_DEFAULT_LOCALE": os.environ.get("TRACKER_DEFAULT_LOCALE", "fr"),
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("TRACKER_TIMEZONE", "Africa/Casablanca"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("TRACKER_MAX_UPLOAD_MB", "20")) * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # "Remember me" lasts at most this long; signing out ends it at once.
        "REMEMBER_COOKIE_DURATION": timedelta(
            days=min(int(os.environ.get("TRACKER_REMEMBER_DAYS", "30")), 30)
        ),
        "PAGE_SIZE": 50,
        # How long an SQLite writer waits for the lock before the request answers "busy".
        "SQLITE_BUSY_TIMEOUT": float(os.environ.get("TRACKER_SQLITE_BUSY_TIMEOUT", "5")),
        # Map tiles, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png; empty on a closed
        # network: the schools are then drawn on a plain background.
        "MAP_TILES": os.environ.get("TRACKER_MAP_TILES", ""),
        # How many reverse proxies (nginx, a load balancer) stand in front of the app; their
        # X-Forwarded-For entries give the client address used to slow password guessing.
        "TRUSTED_PROXIES": int(os.environ.get("TRACKER_TRUSTED_PROXIES", "0")),
        # Jobs (tracker/jobs/queue.py): embedded (SQLite's default), workers (PostgreSQL's
        # default: `tracker worker` processes) or immediate (run where started).
        **(
            {"JOBS_MODE": os.environ["TRACKER_JOBS_MODE"]}
            if os.environ.get("TRACKER_JOBS_MODE")
            else {}
        ),
        "JOBS_HEARTBEAT_SECONDS": float(os.environ.get("TRACKER_JOBS_HEARTBEAT_SECONDS", "5")),
        # A running job silent this long has lost its worker: it is sent again.
        "JOBS_STALE_SECONDS": float(os.environ.get("TRACKER_JOBS_STALE_SECONDS", "30")),
        "JOBS_ATTEMPTS": int(os.environ.get("TRACKER_JOBS_ATTEMPTS", "3")),
        # A queued job no worker took this long is sent again (its first sending was lost).
        "JOBS_RESEND_SECONDS": float(os.environ.get("TRACKER_JOBS_RESEND_SECONDS", "60")),
        "JOBS_KEEP_DAYS": float(os.environ.get("TRACKER_JOBS_KEEP_DAYS", "30")),
        "DOWNLOADS_KEEP_DAYS": int(os.environ.get("TRACKER_DOWNLOADS_KEEP_DAYS", "7")),
        "INVITATION_DAYS": int(os.environ.get("TRACKER_INVITATION_DAYS", "7")),
        # Messages (tracker/messages): kinds turned off for everyone, comma-separated
        # (delivery_dispatched, handover_confirmed, plan_submitted, overdue_digest).
        "MESSAGES_OFF": os.environ.get("TRACKER_MESSAGES_OFF", ""),
        "MESSAGES_ATTEMPTS": int(os.environ.get("TRACKER_MESSAGES_ATTEMPTS", "5")),
        # A message a worker took and neither sent nor gave back this long (it died) is
        # taken back and sent again, with the same idempotency key; longer than the
        # slowest sending (SMTP 30 s, the SMS gateway 20 s).
        "MESSAGES_LEASE_SECONDS": float(os.environ.get("TRACKER_MESSAGES_LEASE_SECONDS", "90")),
        # E-mail: none set, messages are written to the log (with no text).
        "SMTP_HOST": os.environ.get("TRACKER_SMTP_HOST", ""),
        "SMTP_PORT": int(os.environ.get("TRACKER_SMTP_PORT", "25")),
        "SMTP_USER": os.environ.get("TRACKER_SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("TRACKER_SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": os.environ.get("TRACKER_SMTP_STARTTLS", "0") == "1",
        "MAIL_FROM": os.environ.get("TRACKER_MAIL_FROM", "tracker@localhost"),
        # SMS through an HTTP gateway: its address, credentials and the JSON body it takes.
        "SMS_URL": os.environ.get("TRACKER_SMS_URL", ""),
        "SMS_BODY": os.environ.get("TRACKER_SMS_BODY", '{"to": "{to}", "text": "{text}"}'),
        "SMS_USER": os.environ.get("TRACKER_SMS_USER", ""),
        "SMS_PASSWORD": os.environ.get("TRACKER_SMS_PASSWORD", ""),
        "SMS_TOKEN": os.environ.get("TRACKER_SMS_TOKEN", ""),
        "SMS_SENDER": os.environ.get("TRACKER_SMS_SENDER", ""),
        # Days after a delivery's planned day its school's code still works.
        "DELIVERY_CODE_DAYS": int(os.environ.get("TRACKER_DELIVERY_CODE_DAYS", "7")),
        # New codes the office may send for one delivery after the one sent at dispatch.
        "DELIVERY_CODE_RESENDS": int(os.environ.get("TRACKER_DELIVERY_CODE_RESENDS", "3")),
        # Days after a hand-over a school with staff accounts has to confirm its receipt
        # before the office is alerted.
        "RECEIPT_DAYS": int(os.environ.get("TRACKER_RECEIPT_DAYS", "3")),
        # Loans to pupils and teachers (tracker/loans): the day loans are due back by default
        # (the end of the school year, MM-DD), the version of the agreement signed, and the
        # years after a borrower's last return when their name is erased (law 09-08).
        "LOAN_DUE_ON": os.environ.get("TRACKER_LOAN_DUE_ON", "06-30"),
        "LOAN_AGREEMENT_VERSION": os.environ.get("TRACKER_LOAN_AGREEMENT_VERSION", "2026-1"),
        "LOAN_RETENTION_YEARS": float(os.environ.get("TRACKER_LOAN_RETENTION_YEARS", "2")),
        # Repair cases open longer than this, and warranties of tablets in use ending within
        # this many days, raise an alert.
        "REPAIR_ALERT_DAYS": int(os.environ.get("TRACKER_REPAIR_ALERT_DAYS", "30")),
        "WARRANTY_ALERT_DAYS": int(os.environ.get("TRACKER_WARRANTY_ALERT_DAYS", "60")),
        # Delivered tablets nobody had in hand for this long raise an alert, by school.
        "ALERT_UNSEEN_DAYS": int(os.environ.get("TRACKER_ALERT_UNSEEN_DAYS", "180")),
        "ALERT_UNCONFIRMED_DAYS": int(os.environ.get("TRACKER_ALERT_UNCONFIRMED_DAYS", "3")),
        # Where the served copy of static/ (hashed names, compressed) is made at start.
        "STATIC_BUILD_DIR": os.environ.get(
            "TRACKER_STATIC_BUILD_DIR", str(instance_path / "static-build")
        ),
    }
