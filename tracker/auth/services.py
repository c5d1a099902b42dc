"""User rules: who may sign in, with which role; passwords are only ever stored hashed."""

import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import cache

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from tracker.auth.models import ROLES, EndedSession, Invitation, User
from tracker.auth.permissions import role_can
from tracker.database import LARGEST_ID, utcnow
from tracker.errors import NotFound, ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _

MIN_PASSWORD_LENGTH = 8
# Called with a user's id when their password, role or access changes: what a higher layer
# keeps for the user (API tokens) ends with it. Registered by `auth.tokens`.
_ACCESS_CHANGED: list[Callable[[int], None]] = []


def when_access_changes(callback: Callable[[int], None]) -> Callable[[int], None]:
    """Register `callback(user_id)` to run whenever a user's sessions are ended."""
    if callback not in _ACCESS_CHANGED:
        _ACCESS_CHANGED.append(callback)
    return callback


# Called with (user, admin) when an admin resets someone's password: the person is told
# (registered by the outbox, tracker.messages).
_PASSWORD_RESET: list[Callable[[User, User | None], None]] = []


def when_password_reset(callback: Callable[[User, User | None], None]):
    if callback not in _PASSWORD_RESET:
        _PASSWORD_RESET.append(callback)
    return callback


def reset_password(user_id: int, password: str, actor: User | None) -> User:
    """An admin sets someone else's password (the only way but their own link or their own
    page): their sessions and tokens end, and they are told."""
    user = set_password(user_id, password)
    # The person now has a password: a link not yet used must not set another one (and
    # an invitation "to another school" must see that they have one).
    db.session.execute(
        sa.update(Invitation)
        .where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
        .values(used_at=utcnow())
    )
    for callback in _PASSWORD_RESET:
        callback(user, actor)
    return user


def access_changed(user: User) -> None:
    """What changes when what a user may reach changes: every session and token ends."""
    _access_changed(user)


def _access_changed(user: User) -> None:
    user.session_version += 1
    for callback in _ACCESS_CHANGED:
        callback(user.id)


# Checked against when the e-mail is unknown, so a wrong address costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def clean_email(email: str) -> str:
    try:
        return validate_email(
            email or "", check_deliverability=False, test_environment=True
        ).normalized.lower()
    except EmailNotValidError:
        raise ValidationFailed(
            _("'%(value)s' is not a valid e-mail address.", value=email), field="email"
        ) from None


DONOR_ROLE = "donor"  # a donor organisation's own people (tracker.donations.donors)


def stays_donor(role: str) -> bool:
    """Whether an account of `role` is a donor's, which no change of role makes another's."""
    return role == DONOR_ROLE


def _check_role(role: str, before: str | None = None) -> str:
    if role not in ROLES:
        raise ValidationFailed(
            _("Role '%(value)s' is not one of: %(roles)s.", value=role, roles=", ".join(ROLES)),
            field="role",
        )
    if stays_donor(role) != stays_donor(before or ""):
        # A donor's account names its donor: it is made by an invitation from the donor's
        # page and ended there, never turned into (or out of) another role.
        raise ValidationFailed(
            _("A donor's account is made and ended on its donor's page."), field="role"
        )
    return role


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            _("The password must have at least %(n)s characters.", n=MIN_PASSWORD_LENGTH),
            field="password",
        )


def hash_password(password: str) -> str:
    # scrypt, a memory-hard hash; tests lower its cost through the config, never production.
    return generate_password_hash(
        password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    )


def create_user(
    email: str,
    role: str,
    password: str,
    name: str = "",
    *,
    check_strength: bool = True,
    created_by: User | None = None,
) -> User:
    """Add a user. `check_strength=False` is only for the demo's well-known `demo` password.
    Someone a regional office adds works in its regions (`created_by`'s areas): only the
    whole programme's admins make people of the whole programme."""
    email = clean_email(email)
    _check_role(role)
    if check_strength:
        _check_password(password)
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise ValidationFailed(
            _("A user with e-mail %(email)s already exists.", email=email), field="email"
        )
    user = User(
        email=email, role=role, name=(name or "").strip(), password_hash=hash_password(password)
    )
    _take_areas_of(created_by, user, role)
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None (never saying which part was wrong)."""
    try:
        email = clean_email(email)
    except ValidationFailed:
        email = ""
    user = db.session.scalar(sa.select(User).where(User.email == email)) if email else None
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No user with id %(id)s.", id=user_id))
    return user


def _active_admins_other_than(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(User)
        .where(User.role == "admin", User.active.is_(True), User.id != user.id)
    )


def _take_areas_of(admin: User | None, user: User, role: str) -> None:
    """Someone a regional admin makes (or makes office staff) works in that admin's regions:
    only the whole programme's admins make people of the whole programme. A school's staff
    reach their schools, not areas."""
    if admin is not None and admin.areas and not role_can(role, "school.home"):
        user.areas = [list(area) for area in admin.areas]


def update_user(user_id: int, *, actor: User | None, name: str, role: str, active: bool) -> User:
    """Change a user's name, role or access. Role and access changes end their sessions and
    revoke their API tokens."""
    user = get_user(user_id)
    _check_role(role, user.role)
    losing_admin = user.role == "admin" and (role != "admin" or not active)
    if losing_admin and _active_admins_other_than(user) == 0:
        raise ValidationFailed(_("There must remain at least one active admin."), field="role")
    if actor is not None and user.id == actor.id and not active:
        raise ValidationFailed(_("You cannot deactivate your own account."), field="active")
    if role != user.role or active != user.active:
        _access_changed(user)
    if not user.areas:  # (a school's staff made office staff here)
        _take_areas_of(actor, user, role)
    user.name = (name or "").strip()
    user.role = role
    user.active = active
    db.session.flush()
    return user


def set_password(user_id: int, password: str) -> User:
    """Set a new password; every existing session and API token of the user ends."""
    user = get_user(user_id)
    _check_password(password)
    user.password_hash = hash_password(password)
    _access_changed(user)
    db.session.flush()
    return user


def start_session(user: User) -> User:
    """Give `user` a new sign-in key before `login_user`: the cookies carry it, and
    `end_session` refuses it from then on."""
    user.session_key = secrets.token_urlsafe(24)
    return user


def end_session(user: User) -> None:
    """Signing out: this sign-in's session and remember cookies stop working at once,
    wherever a copy of them is. Ended keys older than any cookie can be are purged."""
    if user.session_key:
        db.session.add(EndedSession(key=user.session_key, user_id=user.id))
    oldest = utcnow() - current_app.config["REMEMBER_COOKIE_DURATION"] - timedelta(days=1)
    db.session.execute(sa.delete(EndedSession).where(EndedSession.ended_at < oldest))
    db.session.flush()


@cache
def _session_user() -> sa.Select:
    """The user and whether this sign-in was ended: built once (every request asks it)."""
    ended = sa.exists().where(EndedSession.key == sa.bindparam("key"))
    return sa.select(User, ended).where(User.id == sa.bindparam("user_id"))


def load_session_user(session_id: str) -> User | None:
    """The user a session or remember cookie names, if that sign-in is still valid: same
    session version (no password, role or access change since) and not signed out."""
    try:
        user_id, version, key = session_id.split(":", 2)
        user_id, version = int(user_id), int(version)
    except ValueError:
        return None
    if not key or len(key) > 43 or not 0 < user_id <= LARGEST_ID:
        return None
    row = db.session.execute(_session_user(), {"user_id": user_id, "key": key}).first()
    if row is None or row[1]:
        return None
    user = row[0]
    if user.session_version != version or not user.active:
        return None
    user.session_key = key
    return user


def set_locale(user_id: int, locale: str) -> User:
    """Save the language a user reads the app in."""
    user = get_user(user_id)
    user.locale = locale
    db.session.flush()
    return user
