"""A school's own staff (head teacher, ICT teacher): who they are, which schools they see,
and how they are invited in.

A school user sees the schools they are staff of, nothing else; `schools_of` and
`school_for` are the one answer every page, the API and the CLI ask. The office invites
them with a one-time link (tracker.auth.invitations), sent by e-mail and shown once to
whoever invited them, to pass on by hand where e-mail does not reach.
"""

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from tracker.auth.invitations import (
    create_invitation,
    ever_accepted,
    ever_invited,
    invitation_link,
    pending_invitations,
    unusable_password,
)
from tracker.auth.models import Invitation, User
from tracker.auth.permissions import can, check, role_can, roles_for
from tracker.auth.services import clean_email
from tracker.errors import NotFound, ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.messages.services import message_kind, queue_message
from tracker.schools.models import School, SchoolStaff
from tracker.schools.reach import reach_of
from tracker.schools.services import get_school

INVITATION = message_kind("invitation", _l("An invitation to the tracker (to the invited person)"))
STAFF_ROLE = "school"
MAX_SCHOOLS = 20  # "one school, or a few": a school user is never a programme reader


def school_ids_of(user: User) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(SchoolStaff.school_id)
            .where(SchoolStaff.user_id == user.id)
            .order_by(SchoolStaff.school_id)
        )
    )


def staff_since(user: User, school_id: int):
    """Since when `user` has been the school's staff in fact: added to it, and holding a
    password of their own (their first invitation used, or an admin's reset); None when
    they are not. An account whose link was used only after some moment was not the
    school's before it, whoever holds it now."""
    link = db.session.get(SchoolStaff, (user.id, school_id))
    if link is None:
        return None
    first_password = db.session.scalar(
        sa.select(sa.func.min(Invitation.used_at)).where(Invitation.user_id == user.id)
    )
    invited = user.id in ever_invited([user.id])
    if invited and first_password is None:
        return None  # invited, never signed in by their own password: not yet anyone
    return max(link.added_at, first_password) if first_password else link.added_at


def schools_of(user: User) -> list[School]:
    """The schools `user` is staff of, by name."""
    return list(
        db.session.scalars(
            sa.select(School)
            .join(SchoolStaff, SchoolStaff.school_id == School.id)
            .where(SchoolStaff.user_id == user.id)
            .order_by(School.name_fr)
        )
    )


def school_for(user: User, school_id: int) -> School:
    """The school, if `user` may see it as its staff; any other looks like it does not exist."""
    allowed = db.session.scalar(
        sa.select(SchoolStaff.school_id).where(
            SchoolStaff.user_id == user.id, SchoolStaff.school_id == school_id
        )
    )
    if allowed is None:
        raise NotFound(_("No school with number %(id)s.", id=school_id))
    return get_school(school_id)


def school_in_reach(user: User | None, school_id: int) -> School:
    """The school, if `user` may see it: the programme's people see every school, a
    school's staff their own (`actor=None`, the CLI, sees every one); any other looks like
    it does not exist."""
    if user is None or can(user, "schools.read"):
        school = db.session.get(School, school_id)
        if school is None or not reach_of(user).covers_school(school):
            raise NotFound(_("No school with number %(id)s.", id=school_id))
        return school
    return school_for(user, school_id)


def active_staff(school_id: int) -> list[User]:
    """The school's staff whose account is active (who hear of its deliveries)."""
    return list(
        db.session.scalars(
            sa.select(User)
            .join(SchoolStaff, SchoolStaff.user_id == User.id)
            .where(
                SchoolStaff.school_id == school_id,
                User.active,
                User.role.in_(roles_for("school.home")),
            )
            .order_by(User.id)
            .limit(50)
        )
    )


def staff_of(school_id: int) -> list[dict]:
    """A school's staff: each user, whether their link waits unused, and whether they
    ever signed in through one."""
    users = list(
        db.session.scalars(
            sa.select(User)
            .join(SchoolStaff, SchoolStaff.user_id == User.id)
            .where(SchoolStaff.school_id == school_id)
            .order_by(User.name, User.email)
        )
    )
    ids = [user.id for user in users]
    waiting, joined, invited = pending_invitations(ids), ever_accepted(ids), ever_invited(ids)
    return [
        {
            "user": user,
            "invited_until": getattr(waiting.get(user.id), "expires_at", None),
            # A password of their own: through a link, a sign-in, or given before any link.
            "joined": user.id in joined or user.last_login_at is not None or user.id not in invited,
        }
        for user in users
    ]


def _language(school: School) -> str:
    return school.contact_language if school.contact_language in ("fr", "ar") else "fr"


def _school_name(school: School, language: str) -> str:
    return (school.name_ar or school.name_fr) if language == "ar" else school.name_fr


def _send_link(user: User, school: School, token: str, actor: User | None) -> None:
    """The one-time link by e-mail. The link's secret waits sealed in the outbox (as the
    delivery code does) and is erased once the message has left: a copy of the database, a
    backup or a log opens no account."""
    language = _language(school)
    inviter = actor.display_name if actor else ""
    with force_locale(language):
        subject = _("Your access to the tablet tracker")
        body = _(
            "%(inviter)s invites you to follow the tablets of %(school)s. Open this link to "
            "choose your password (it works once, for %(days)s days):\n%(link)s",
            inviter=inviter or _("The programme's office"),
            school=_school_name(school, language),
            days=_invitation_days(),
            link=invitation_link("{code}"),
        )
    queue_message(
        INVITATION,
        channel="email",
        recipient=user.email,
        language=language,
        subject=subject,
        body=body,
        secret=token,
    )


def _tell_school_added(user: User, school: School, actor: User | None) -> None:
    """Someone who has an account is told a school was added to it: no link, nothing that
    sets a password."""
    language = _language(school)
    inviter = actor.display_name if actor else ""
    with force_locale(language):
        subject = _("A school was added to your account")
        body = _(
            "%(inviter)s added %(school)s to your account on the tablet tracker. Sign in "
            "as usual to see it: %(link)s\nIf you did not expect this, tell the office.",
            inviter=inviter or _("The programme's office"),
            school=_school_name(school, language),
            link=current_app.config["BASE_URL"] + "/",
        )
    queue_message(
        INVITATION,
        channel="email",
        recipient=user.email,
        language=language,
        subject=subject,
        body=body,
        user=user,
    )


def _invitation_days() -> int:
    return current_app.config.get("INVITATION_DAYS", 7)


def invite_staff(
    actor: User | None, school_id: int, email: str, name: str = ""
) -> tuple[User, str | None]:
    """Make `email` staff of the school. A new person gets a one-time link to choose their
    password (returned too, to be passed on by hand), as does one invited before who never
    used theirs. Someone who has a password of their own gains the school and is told:
    no link, so no one can take over their account by "inviting" them (None is returned).
    The programme's own people cannot be made school staff."""
    check(actor, "staff.invite")
    school = school_in_reach(actor, school_id)
    email = clean_email(email)
    user = db.session.scalar(sa.select(User).where(User.email == email))
    new = user is None
    if user is None:
        user = User(
            email=email,
            role=STAFF_ROLE,
            name=(name or "").strip()[:120],
            password_hash=unusable_password(),
        )
        db.session.add(user)
        db.session.flush()
    elif not role_can(user.role, "school.home"):
        raise ValidationFailed(
            _(
                "%(email)s already works for the programme itself: "
                "school staff see their school only.",
                email=email,
            ),
            field="email",
        )
    elif not user.active:
        raise ValidationFailed(
            _("The account %(email)s is disabled: an admin turns it on again.", email=email),
            field="email",
        )
    elif not all(reach_of(actor).covers_school_id(other) for other in school_ids_of(user)):
        # Staff of a school another office runs: theirs to invite (a link sent from here
        # would hand their account to whoever asked).
        raise ValidationFailed(
            _(
                "%(email)s is staff of a school outside your part of the programme: "
                "its office invites them.",
                email=email,
            ),
            field="email",
        )
    if db.session.get(SchoolStaff, (user.id, school.id)) is None:
        if len(school_ids_of(user)) >= MAX_SCHOOLS:
            raise ValidationFailed(
                _("%(email)s is already staff of %(n)s schools.", email=email, n=MAX_SCHOOLS),
                field="email",
            )
        db.session.add(SchoolStaff(user_id=user.id, school_id=school.id))
    if not new and _has_own_password(user):
        _tell_school_added(user, school, actor)
        db.session.flush()
        return user, None
    token = create_invitation(user, actor)
    _send_link(user, school, token, actor)
    db.session.flush()
    return user, invitation_link(token)


def _has_own_password(user: User) -> bool:
    """Whether the person chose a password (through a link) or was given one (an admin,
    the CLI): anyone but someone invited who has not yet used their link."""
    if user.id in ever_accepted([user.id]):
        return True
    return user.id not in ever_invited([user.id])


def remove_staff(actor: User | None, school_id: int, user_id: int) -> User:
    """Take the school from a staff member; with no school left, their account is turned
    off (and their sessions end)."""
    from tracker.auth.services import update_user

    check(actor, "staff.invite")
    link = db.session.get(SchoolStaff, (user_id, school_id))
    if link is None:
        raise NotFound(_("This person is not staff of this school."))
    db.session.delete(link)
    db.session.flush()
    user = db.session.get(User, user_id)
    if not school_ids_of(user) and user.active:
        update_user(user.id, actor=actor or user, name=user.name, role=user.role, active=False)
    return user
