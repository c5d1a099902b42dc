"""User rules: who may sign in, with which role; passwords are only ever stored hashed."""

from datetime import timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from tracker.auth.models import ROLES, LoginFailure, User
from tracker.database import utcnow
from tracker.errors import NotFound, ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _

MIN_PASSWORD_LENGTH = 8
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


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationFailed(
            _("Role '%(value)s' is not one of: %(roles)s.", value=role, roles=", ".join(ROLES)),
            field="role",
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
    email: str, role: str, password: str, name: str = "", *, check_strength: bool = True
) -> User:
    """Add a user. `check_strength=False` is only for the demo's well-known `demo` password."""
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


def update_user(user_id: int, *, actor: User, name: str, role: str, active: bool) -> User:
    """Change a user's name, role or access. Role and access changes end their sessions."""
    user = get_user(user_id)
    _check_role(role)
    losing_admin = user.role == "admin" and (role != "admin" or not active)
    if losing_admin and _active_admins_other_than(user) == 0:
        raise ValidationFailed(_("There must remain at least one active admin."), field="role")
    if user.id == actor.id and not active:
        raise ValidationFailed(_("You cannot deactivate your own account."), field="active")
    if role != user.role or active != user.active:
        user.session_version += 1
    user.name = (name or "").strip()
    user.role = role
    user.active = active
    db.session.flush()
    return user


def set_password(user_id: int, password: str) -> User:
    """Set a new password; every existing session of the user ends."""
    user = get_user(user_id)
    _check_password(password)
    user.password_hash = hash_password(password)
    user.session_version += 1
    db.session.flush()
    return user


def load_session_user(session_id: str) -> User | None:
    """The user a session cookie names, if that session is still valid."""
    try:
        user_id, version = (int(part) for part in session_id.split(":", 1))
    except ValueError:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_version != version or not user.active:
        return None
    return user


def set_locale(user_id: int, locale: str) -> User:
    """Save the language a user reads the app in."""
    user = get_user(user_id)
    user.locale = locale
    db.session.flush()
    return user


FAILURE_WINDOW = timedelta(minutes=15)
FAILURES_PER_ACCOUNT = 10
FAILURES_PER_ADDRESS = 50


def sign_in(email: str, password: str, address: str) -> User | None:
    """`authenticate`, slowed down: after 10 failures on an account, or 50 from one client
    address, within 15 minutes, sign-in waits. The caller commits (failures are kept)."""
    since = utcnow() - FAILURE_WINDOW
    try:
        account = clean_email(email)
    except ValidationFailed:
        account = (email or "").strip().lower()[:254]
    address = (address or "?")[:64]
    recent = db.session.execute(
        sa.select(
            sa.func.count().filter(LoginFailure.email == account),
            sa.func.count().filter(LoginFailure.address == address),
        ).where(
            LoginFailure.at >= since,
            sa.or_(LoginFailure.email == account, LoginFailure.address == address),
        )
    ).one()
    if recent[0] >= FAILURES_PER_ACCOUNT or recent[1] >= FAILURES_PER_ADDRESS:
        raise ValidationFailed(
            _(
                "Too many failed sign-ins. Wait %(n)s minutes and try again.",
                n=int(FAILURE_WINDOW.total_seconds() // 60),
            )
        )
    user = authenticate(email, password)
    if user is None:
        db.session.add(LoginFailure(email=account, address=address))
    return user
