"""Users and their single role."""

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.database import UTCDateTime, one_of, utcnow
from tracker.extensions import db

ROLES = ("admin", "coordinator", "field", "manager", "school", "donor")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        one_of("role", ROLES, "role"),
        # A donor's account belongs to one donor organisation; nobody else's to any.
        sa.CheckConstraint("(role = 'donor') = (donor_id IS NOT NULL)", name="donor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    role: Mapped[str] = mapped_column(sa.String(20))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    # Bumped on password change, deactivation and role change: the session carries it, so
    # every existing session of the user ends at once.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The part of the programme the person works in (tracker.schools.reach): empty for the
    # whole programme, else [region, province] pairs, province "" for a whole region. Kept
    # on the row the sign-in already reads, so asking it costs no statement.
    areas: Mapped[list] = mapped_column(sa.JSON, default=list, server_default="[]")
    # A donor's own people (tracker.donations.contacts): the organisation whose donations
    # they read, and nothing else.
    donor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("donors.id"), index=True)

    # The key of the sign-in this object was loaded for (not a column): it goes into the
    # session and remember cookies, so signing out can end that one sign-in on the server.
    session_key = None  # type: str | None

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}:{self.session_key or ''}"

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class EndedSession(db.Model):
    """A sign-in ended by signing out: its session and remember cookies no longer sign in,
    even copied before. Kept as long as a remember cookie can live, then purged."""

    __tablename__ = "ended_sessions"

    key: Mapped[str] = mapped_column(sa.String(43), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class LoginFailure(db.Model):
    """A failed sign-in: counted per account, per client address and per known browser to
    slow guessing (see `auth.throttle`)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    address: Mapped[str] = mapped_column(sa.String(64), index=True)
    # The known-browser cookie the attempt came with, when it was this account's.
    device: Mapped[str | None] = mapped_column(sa.String(43), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ApiToken(db.Model):
    """A per-user token for `Authorization: Bearer`. Only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    label: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")


class Invitation(db.Model):
    """A one-time link to set one's password: how a new user (school staff) gets in. Only
    the SHA-256 of its 256-bit token is kept; it ends when used, when a newer one is sent,
    or after INVITATION_DAYS."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User", foreign_keys=[user_id])
