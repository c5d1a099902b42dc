"""One-time links to set one's password: how an invited user gets in (no self-registration).

The link carries 256 random bits after a `#` (never sent in a URL, so never in a log); only
their SHA-256 is kept, so a copy of the database opens no account. A link ends when used,
when a newer one is made for the same user, when an admin sets their password, or after
INVITATION_DAYS.
"""

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from tracker.auth.models import Invitation, User
from tracker.auth.services import hash_password, set_password
from tracker.database import utcnow
from tracker.errors import NotFound
from tracker.extensions import db
from tracker.i18n import gettext as _

DEFAULT_DAYS = 7


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def unusable_password() -> str:
    """The hash of a password nobody knows: the account opens only through its link."""
    return hash_password(secrets.token_urlsafe(32))


def invitation_link(token: str) -> str:
    """The link to send: the token after `#`, which a browser never sends to a server, so
    no access log, proxy or referrer keeps it; the page posts it (tracker/auth/views.py)."""
    return f"{current_app.config['BASE_URL']}/invitation#{token}"


def create_invitation(user: User, by: User | None) -> str:
    """A new link for `user` (earlier unused ones end): returns the token, which is not kept."""
    now = utcnow()
    db.session.execute(
        sa.update(Invitation)
        .where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
        .values(expires_at=now)
    )
    token = secrets.token_urlsafe(32)
    days = current_app.config.get("INVITATION_DAYS", DEFAULT_DAYS)
    db.session.add(
        Invitation(
            user_id=user.id,
            token_hash=_digest(token),
            created_by_id=by.id if by else None,
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
    )
    db.session.flush()
    return token


def open_invitation(token: str, *, lock: bool = False) -> Invitation:
    """The invitation this link opens, if it still does."""
    if not token or len(token) > 100:
        raise NotFound(_("This link is not valid."))
    query = sa.select(Invitation).where(Invitation.token_hash == _digest(token))
    invitation = db.session.scalar(query.with_for_update() if lock else query)
    if invitation is None:
        raise NotFound(_("This link is not valid."))
    if invitation.used_at is not None:
        raise NotFound(_("This link was used already: sign in with your password."))
    if invitation.expires_at <= utcnow() or not invitation.user.active:
        raise NotFound(_("This link has expired: ask whoever invited you for a new one."))
    return invitation


def accept_invitation(token: str, password: str, name: str = "") -> User:
    """Set the invited user's password (and name), once; the link ends with it."""
    invitation = open_invitation(token, lock=True)
    user = set_password(invitation.user_id, password)
    if name.strip():
        user.name = name.strip()[:120]
    invitation.used_at = utcnow()
    db.session.flush()
    return user


def pending_invitations(user_ids: list[int]) -> dict[int, Invitation]:
    """For each of these users, their unused, unexpired link, if any."""
    if not user_ids:
        return {}
    rows = db.session.scalars(
        sa.select(Invitation).where(
            Invitation.user_id.in_(user_ids),
            Invitation.used_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
    )
    return {row.user_id: row for row in rows}


def ever_accepted(user_ids: list[int]) -> set[int]:
    if not user_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(Invitation.user_id).where(
                Invitation.user_id.in_(user_ids), Invitation.used_at.is_not(None)
            )
        )
    )


def ever_invited(user_ids: list[int]) -> set[int]:
    if not user_ids:
        return set()
    return set(
        db.session.scalars(sa.select(Invitation.user_id).where(Invitation.user_id.in_(user_ids)))
    )
