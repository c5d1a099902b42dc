"""Who reads a donation besides the office: its donor's own people, and, when the programme
opens them, anyone with the link to its public figures.

A donor's people (role `donor`, bound to one donor organisation by `User.donor_id`) read
their organisation's donations and nothing else, and change nothing. The national office
invites them as it invites a school's staff: a one-time link by e-mail, shown once to
whoever invited them, ended when used, replaced or after its days; someone who already
chose a password is never sent one (no one takes over their account by "inviting" them).
Removing one ends the account.

A donation's open figures are off until the national office opens them: the page's key is
made then (unguessable: a closed page and a page never opened read alike), and closing
them drops the key, so an old link opens nothing even if they are opened again.
"""

import secrets

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from tracker.auth.invitations import (
    create_invitation,
    ever_accepted,
    ever_invited,
    invitation_link,
    unusable_password,
)
from tracker.auth.models import User
from tracker.auth.permissions import check, role_can
from tracker.auth.services import DONOR_ROLE, clean_email, update_user
from tracker.database import utcnow
from tracker.donations.models import Donation, Donor
from tracker.donations.services import get_donation, require_national_office
from tracker.errors import NotFound, ValidationFailed
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.messages.services import message_kind, queue_message

DONOR_INVITATION = message_kind(
    "donor_invitation", _l("An invitation to the tracker (to a donor's contact)")
)
LANGUAGES = ("fr", "ar", "en")
MAX_CONTACTS = 50  # a donor's people on its page, at most


def is_donor(user: User | None) -> bool:
    return user is not None and role_can(user.role, "donor.home")


def donor_of(user: User) -> Donor | None:
    """The donor organisation `user` reads for (none for anyone else)."""
    return db.session.get(Donor, user.donor_id) if is_donor(user) else None


def donations_of(user: User) -> list[Donation]:
    """The donations `user` reads as a donor: their organisation's, newest first."""
    return list(
        db.session.scalars(
            sa.select(Donation)
            .where(Donation.donor_id == user.donor_id)
            .order_by(Donation.received_on.desc(), Donation.id.desc())
        )
    )


def donation_for(user: User, donation_id: int) -> Donation:
    """The donation as `user` may read it in the donor's view: a donor, only their own
    organisation's (another's reads exactly as none); the office, the national office only
    (the view covers the whole programme)."""
    donation = db.session.get(Donation, donation_id)
    if is_donor(user):
        if donation is None or donation.donor_id != user.donor_id:
            raise NotFound(_("No donation with id %(id)s.", id=donation_id))
        return donation
    require_national_office()
    return get_donation(donation_id)


def contacts_of(donor_id: int) -> list[User]:
    """A donor's people, active first (those removed stay listed, as ended)."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.donor_id == donor_id)
            .order_by(User.active.desc(), User.email)
            .limit(MAX_CONTACTS)
        )
    )


def pending_ids(users: list[User]) -> set[int]:
    """Of `users`, those invited who have not yet used a link."""
    ids = [user.id for user in users]
    return set(ever_invited(ids)) - set(ever_accepted(ids))


def readers(users: list[User]) -> list[User]:
    """Of `users`, those who chose their password (or were given one): not someone invited
    who never used the link, who may not even be who the office meant (a mistyped e-mail)."""
    ids = [user.id for user in users]
    accepted, invited = set(ever_accepted(ids)), set(ever_invited(ids))
    return [user for user in users if user.id in accepted or user.id not in invited]


def _has_own_password(user: User) -> bool:
    if user.id in ever_accepted([user.id]):
        return True
    return user.id not in ever_invited([user.id])


def _send_link(user: User, donor: Donor, token: str, actor: User | None, language: str) -> None:
    """The one-time link by e-mail; its secret waits sealed in the outbox and is erased once
    the message has left (as a school's staff's does)."""
    inviter = actor.display_name if actor else ""
    with force_locale(language):
        subject = _("Your access to the tablet tracker")
        body = _(
            "%(inviter)s invites you to follow, on behalf of %(donor)s, what became of its "
            "donated tablets. Open this link to choose your password (it works once, for "
            "%(days)s days):\n%(link)s",
            inviter=inviter or _("The programme's office"),
            donor=donor.name,
            days=current_app.config.get("INVITATION_DAYS", 7),
            link=invitation_link("{code}"),
        )
    queue_message(
        DONOR_INVITATION,
        channel="email",
        recipient=user.email,
        language=language,
        subject=subject,
        body=body,
        secret=token,
    )


def invite_contact(
    actor: User | None,
    donation_id: int,
    email: str,
    name: str = "",
    language: str = "fr",
) -> tuple[User, str]:
    """Give the donor of `donation_id` a reader: a new account with a one-time link (also
    returned, to be passed on by hand), or a new link for one invited who never used theirs.
    Anyone else with that e-mail is refused by name: the programme's people and schools'
    staff, another donor's people, someone who already chose a password."""
    check(actor, "donors.invite")
    require_national_office()
    donor = get_donation(donation_id).donor
    email = clean_email(email)
    if language not in LANGUAGES:
        raise ValidationFailed(_("Choose the language of the e-mail."), field="language")
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = User(
            email=email,
            role=DONOR_ROLE,
            donor_id=donor.id,
            name=(name or "").strip()[:120],
            password_hash=unusable_password(),
            locale=language,
        )
        db.session.add(user)
        db.session.flush()
    elif not is_donor(user):
        raise ValidationFailed(
            _(
                "%(email)s already has an account of the programme or a school: a donor's "
                "contact needs an account of their own.",
                email=email,
            ),
            field="email",
        )
    elif user.donor_id != donor.id:
        raise ValidationFailed(
            _("%(email)s is a contact of another donor.", email=email), field="email"
        )
    elif not user.active:
        raise ValidationFailed(
            _("The account %(email)s was ended: an admin turns it on again.", email=email),
            field="email",
        )
    elif _has_own_password(user):
        raise ValidationFailed(
            _("%(email)s already reads this donor's donations.", email=email), field="email"
        )
    token = create_invitation(user, actor)
    _send_link(user, donor, token, actor, language)
    db.session.flush()
    return user, invitation_link(token)


def remove_contact(actor: User | None, donation_id: int, user_id: int) -> User:
    """End a donor's contact's account (their sessions and API tokens end at once)."""
    check(actor, "donors.invite")
    require_national_office()
    donor_id = get_donation(donation_id).donor_id
    user = db.session.get(User, user_id)
    if user is None or user.donor_id != donor_id or not is_donor(user):
        raise NotFound(_("This person is not a contact of this donor."))
    if user.active:
        update_user(user.id, actor=actor, name=user.name, role=user.role, active=False)
    return user


def set_open_figures(actor: User | None, donation_id: int, *, open_: bool) -> Donation:
    """Open a donation's public figures (a new key) or close them (the key is dropped)."""
    check(actor, "donors.open_figures")
    require_national_office()
    donation = get_donation(donation_id)
    if open_ and donation.public_key is None:
        donation.public_key = secrets.token_urlsafe(16)
        donation.public_since = utcnow()
    elif not open_:
        donation.public_key, donation.public_since = None, None
    db.session.flush()
    return donation


def open_donation(key: str) -> Donation:
    """The donation whose open figures `key` names; a closed one, or none, alike."""
    key = (key or "")[:43]
    donation = db.session.scalar(sa.select(Donation).where(Donation.public_key == key))
    if donation is None or not key:
        raise NotFound(_("This page is not open."))
    return donation
