"""Sign-in, sign-out, one's own password, and the admin's user pages."""

import secrets
from urllib.parse import quote

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.security import check_password_hash

from tracker.auth import invitations, services, throttle
from tracker.auth.forms import (
    ROLE_LABELS,
    AcceptInvitationForm,
    LoginForm,
    OwnPasswordForm,
    PasswordForm,
    UserCreateForm,
    UserEditForm,
)
from tracker.auth.models import User
from tracker.auth.permissions import home_endpoint, requires
from tracker.auth.tokens import revoke_token as revoke
from tracker.auth.tokens import tokens_of
from tracker.errors import NotFound
from tracker.extensions import db
from tracker.figures import figure
from tracker.i18n import LOCALES
from tracker.i18n import gettext as _
from tracker.transaction import committed
from tracker.web import run_service, safe_next

auth_bp = Blueprint("auth", __name__)
admin_bp = Blueprint("admin", __name__, url_prefix="/admin")


KNOWN_BROWSER_COOKIE = "tracker_known"
KNOWN_BROWSER_DAYS = 180
KNOWN_ACCOUNTS = 5  # a shared phone remembers this many accounts that signed in on it


def _known_browser() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="known-browser")


def _known_accounts() -> dict[str, str]:
    """Accounts this browser signed in to before (account -> key), from its signed cookie."""
    value = request.cookies.get(KNOWN_BROWSER_COOKIE, "")
    if not value or len(value) > 4096:
        return {}
    try:
        pairs = _known_browser().loads(value, max_age=KNOWN_BROWSER_DAYS * 86400)
    except BadSignature:
        return {}
    if not isinstance(pairs, list):
        return {}
    return {p[0]: p[1] for p in pairs if isinstance(p, list) and len(p) == 2}


def _remember_browser(response, account: str, known: dict[str, str]) -> None:
    known.pop(account, None)
    pairs = [[account, secrets.token_urlsafe(24)], *[[a, k] for a, k in known.items()]]
    response.set_cookie(
        KNOWN_BROWSER_COOKIE,
        _known_browser().dumps(pairs[:KNOWN_ACCOUNTS]),
        max_age=KNOWN_BROWSER_DAYS * 86400,
        httponly=True,
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        samesite="Lax",
    )


@auth_bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for(home_endpoint(current_user)))
    form = LoginForm()
    if form.validate_on_submit():
        account = throttle.account_of(form.email.data)
        known = _known_accounts()
        attempt = throttle.Attempt(
            form.email.data, form.password.data, request.remote_addr, known.get(account)
        )
        try:
            user = committed(lambda: throttle.sign_in(attempt))  # failures are kept
        except throttle.TooSoon as error:
            form.form_errors.append(str(error))
            return (
                render_template("auth/login.html", form=form),
                429,
                {"Retry-After": str(error.seconds)},
            )
        if user is None:
            form.form_errors.append(_("Wrong e-mail or password, or the account is disabled."))
        else:
            # A new session at sign-in (nothing from before it carries over but the language).
            language = session.get("locale")
            session.clear()
            if language:
                session["locale"] = language
            login_user(services.start_session(user), remember=form.remember.data)
            home = url_for(home_endpoint(user))
            response = redirect(safe_next(request.args.get("next")) or home)
            _remember_browser(response, account, known)
            return response
    return render_template("auth/login.html", form=form), 200 if not form.errors else 400


INVITATION_KEY = "invitation_token"


@auth_bp.route("/invitation")
def invitation():
    """The link's page: its script posts the token after `#` (which never reaches a server
    in a URL, so no log keeps it) to `open_invitation`."""
    return render_template("auth/invitation_open.html")


@auth_bp.route("/invitation/open", methods=["POST"])
def open_invitation():
    """Check the link's token and keep it in this browser's session for the next page."""
    token = (request.form.get("token") or "").strip()
    try:
        invitations.open_invitation(token)
    except NotFound as error:
        return render_template("auth/invitation.html", problem=str(error), form=None), 404
    session[INVITATION_KEY] = token
    return redirect(url_for("auth.choose_password"), 303)


@auth_bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """A link sent before links carried their token after `#`: to the page that posts it,
    writing nothing (a link followed from elsewhere plants nothing in anyone's session)."""
    return redirect(url_for("auth.invitation") + "#" + quote(token, safe=""))


@auth_bp.route("/invitation/password", methods=["GET", "POST"])
def choose_password():
    """An invited person chooses their password, once, and is signed in."""
    token = session.get(INVITATION_KEY, "")
    try:
        invitation = invitations.open_invitation(token)
    except NotFound as error:
        return render_template("auth/invitation.html", problem=str(error), form=None), 404
    form = AcceptInvitationForm(obj=invitation.user)
    if request.method == "POST" and request.form.get("invitation") != str(invitation.id):
        # The session now holds another link than the page showed (one opened in another
        # tab, or planted): never set the password of an account the reader did not see.
        session.pop(INVITATION_KEY, None)
        message = _("This page is out of date: open the link from your e-mail again.")
        return render_template("auth/invitation.html", problem=message, form=None), 409
    if form.validate_on_submit():
        user = run_service(
            form,
            lambda: invitations.accept_invitation(token, form.password.data, form.name.data),
        )
        if user is not None:
            logout_user()
            session.clear()
            login_user(services.start_session(db.session.get(User, user.id)))
            flash(_("Welcome: your password is set."), "success")
            return redirect(url_for(home_endpoint(user)))
    return render_template(
        "auth/invitation.html",
        form=form,
        email=invitation.user.email,
        invitation_id=invitation.id,
        problem=None,
    ), 200 if not form.errors else 400


@auth_bp.route("/language", methods=["POST"])
def set_language():
    """The language switcher on every page: remembered in the session, and saved as the
    user's preference when someone is signed in."""
    chosen = request.form.get("language", "")
    if chosen in LOCALES:
        session["locale"] = chosen
        if current_user.is_authenticated:
            committed(lambda: services.set_locale(current_user.id, chosen))
    return redirect(safe_next(request.form.get("next")) or url_for("dashboard.index"))


@auth_bp.route("/logout", methods=["POST"])
@login_required
def logout():
    committed(lambda: services.end_session(current_user))
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@auth_bp.route("/account/password", methods=["GET", "POST"])
@login_required
def own_password():
    form = OwnPasswordForm()
    if form.validate_on_submit():
        if not check_password_hash(current_user.password_hash, form.current.data):
            form.current.errors = [_("This is not your current password.")]
        elif run_service(form, lambda: services.set_password(current_user.id, form.password.data)):
            # The session version moved on: sign in again on this device only.
            login_user(services.start_session(db.session.get(User, current_user.id)))
            flash(_("Your password is changed. Other devices were signed out."), "success")
            return redirect(url_for("dashboard.index"))
    return render_template("auth/own_password.html", form=form)


@admin_bp.route("/users")
@requires("users.manage")
def users():
    rows = db.session.scalars(sa.select(User).order_by(User.role, User.email)).all()
    rows = figure("users_in_reach", rows)  # a regional admin's: the people of their regions
    return render_template("auth/users.html", users=rows, role_labels=ROLE_LABELS)


@admin_bp.route("/users/new", methods=["GET", "POST"])
@requires("users.manage")
def user_new():
    form = UserCreateForm()
    if form.validate_on_submit():
        user = run_service(
            form,
            lambda: services.create_user(
                form.email.data,
                form.role.data,
                form.password.data,
                form.name.data,
                created_by=current_user,
            ),
        )
        if user:
            flash(_("User %(email)s created.", email=user.email), "success")
            return redirect(url_for("admin.users"))
    return render_template("auth/user_form.html", form=form, user=None)


@admin_bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires("users.manage")
def user_edit(user_id: int):
    user = services.get_user(user_id)
    form = UserEditForm(obj=user)
    password_form = PasswordForm(prefix="pw")
    if form.validate_on_submit():
        saved = run_service(
            form,
            lambda: services.update_user(
                user.id,
                actor=current_user,
                name=form.name.data,
                role=form.role.data,
                active=form.active.data,
            ),
        )
        if saved:
            flash(_("User %(email)s saved.", email=saved.email), "success")
            return redirect(url_for("admin.users"))
    return render_template(
        "auth/user_form.html",
        form=form,
        user=user,
        password_form=password_form,
        tokens=tokens_of(user.id),
    )


@admin_bp.route("/users/<int:user_id>/tokens/<int:token_id>/revoke", methods=["POST"])
@requires("users.manage")
def revoke_token(user_id: int, token_id: int):
    if run_service(None, lambda: revoke(token_id, user_id)) is not None:
        flash(_("Token revoked: it no longer opens the API."), "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@admin_bp.route("/users/<int:user_id>/password", methods=["POST"])
@requires("users.manage")
def user_password(user_id: int):
    user = services.get_user(user_id)
    form = UserEditForm(obj=user, formdata=None)
    password_form = PasswordForm(prefix="pw")
    if password_form.validate_on_submit() and run_service(
        password_form,
        lambda: services.reset_password(user.id, password_form.password.data, current_user),
    ):
        flash(_("Password of %(email)s reset; their sessions ended.", email=user.email), "success")
        return redirect(url_for("admin.user_edit", user_id=user.id))
    return render_template(
        "auth/user_form.html",
        form=form,
        user=user,
        password_form=password_form,
        tokens=tokens_of(user.id),
    ), 400
