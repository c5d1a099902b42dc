"""Per-user API tokens: made once (shown once), kept as a SHA-256, revocable."""

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import g

from tracker.auth.models import ApiToken, User
from tracker.auth.services import when_access_changes
from tracker.database import utcnow
from tracker.errors import NotFound
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.transaction import soon

PREFIX = "trk_"
TOUCH_EVERY = timedelta(minutes=5)  # last-used time is written at most this often


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, label: str = "") -> tuple[ApiToken, str]:
    """A new token for `user`: returns the record and the token itself, which is not kept.

    The token is 256 random bits, so a plain SHA-256 is enough to store it (no guessing).
    """
    token = PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(user_id=user.id, token_hash=_digest(token), label=label.strip()[:120])
    db.session.add(record)
    db.session.flush()
    return record, token


def user_for_token(token: str) -> User | None:
    """The active user a token belongs to, or None for an unknown or revoked token."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    record = db.session.scalar(
        sa.select(ApiToken).where(
            ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None)
        )
    )
    if record is None or not record.user.active:
        return None
    now = utcnow()
    if record.last_used_at is None or now - record.last_used_at > TOUCH_EVERY:
        # One statement of its own (a read request may make no other change), kept.
        soon(sa.update(ApiToken).where(ApiToken.id == record.id).values(last_used_at=now))
    return record.user


def tokens_of(user_id: int) -> list[ApiToken]:
    return list(
        db.session.scalars(
            sa.select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
        )
    )


def revoke_token(token_id: int, user_id: int) -> ApiToken:
    record = db.session.get(ApiToken, token_id)
    if record is None or record.user_id != user_id:
        raise NotFound(_("No such token."))
    if record.revoked_at is None:
        record.revoked_at = utcnow()
    db.session.flush()
    return record


@when_access_changes
def revoke_tokens_of(user_id: int) -> None:
    """A password reset, a role change or a deactivation ends the user's tokens too."""
    db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def bearer_token(request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.startswith("Bearer ") else None


def bearer_user(request) -> User | None:
    """The user of the request's bearer token, checked once per request."""
    if "_bearer_user" not in g:
        token = bearer_token(request)
        g._bearer_user = user_for_token(token) if token else None
    return g._bearer_user


def load_token_user(request) -> User | None:
    """Flask-Login's request loader: a bearer token signs in API calls only."""
    if not request.path.startswith("/api/"):
        return None
    return bearer_user(request)
