"""Donation rules: donors are found or created by name; references are unique."""

import re
from datetime import date

import sqlalchemy as sa

from tracker.auth.permissions import Forbidden
from tracker.donations.models import Donation, Donor
from tracker.errors import NotFound, ValidationFailed
from tracker.extensions import db
from tracker.figures import figure
from tracker.i18n import gettext as _
from tracker.text import refuse_control_characters

_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{1,59}$")


def get_or_create_donor(name: str) -> Donor:
    name = refuse_control_characters(" ".join((name or "").split()), "donor", _("Donor"))
    if not name:
        raise ValidationFailed(_("Donor name is required."), field="donor")
    donor = db.session.scalar(sa.select(Donor).where(sa.func.lower(Donor.name) == name.lower()))
    if donor is None:
        donor = Donor(name=name)
        db.session.add(donor)
        db.session.flush()
    return donor


def _clean(reference: str, quantity, received_on, exclude_id: int | None = None):
    reference = (reference or "").strip()
    if not _REFERENCE.match(reference):
        raise ValidationFailed(
            _(
                "Reference '%(value)s' is not valid: use 2 to 60 letters, digits, dots, "
                "dashes or slashes.",
                value=reference,
            ),
            field="reference",
        )
    taken = sa.select(Donation.id).where(sa.func.lower(Donation.reference) == reference.lower())
    if exclude_id is not None:
        taken = taken.where(Donation.id != exclude_id)
    if db.session.scalar(taken) is not None:
        raise ValidationFailed(
            _("A donation with reference '%(value)s' already exists.", value=reference),
            field="reference",
        )
    try:
        quantity = int(quantity)
    except (TypeError, ValueError):
        raise ValidationFailed(
            _("Quantity '%(value)s' is not a whole number.", value=quantity), field="quantity"
        ) from None
    if quantity < 0:
        raise ValidationFailed(_("Quantity cannot be negative."), field="quantity")
    if not isinstance(received_on, date):
        raise ValidationFailed(_("Give the date as YYYY-MM-DD."), field="received_on")
    return reference, quantity


def create_donation(
    *,
    reference: str,
    donor_name: str,
    received_on: date,
    quantity: int,
    title: str = "",
    notes: str = "",
) -> Donation:
    """Record a grant agreement: who gives how many tablets, under which reference."""
    reference, quantity = _clean(reference, quantity, received_on)
    donation = Donation(
        reference=reference,
        donor=get_or_create_donor(donor_name),
        received_on=received_on,
        quantity_promised=quantity,
        title=refuse_control_characters((title or "").strip(), "title", _("Title")),
        notes=refuse_control_characters((notes or "").strip(), "notes", _("Notes")),
    )
    db.session.add(donation)
    db.session.flush()
    return donation


def update_donation(
    donation_id: int,
    *,
    reference: str,
    donor_name: str,
    received_on: date,
    quantity: int,
    title: str = "",
    notes: str = "",
) -> Donation:
    donation = get_donation(donation_id)
    reference, quantity = _clean(reference, quantity, received_on, exclude_id=donation.id)
    donation.reference = reference
    donation.donor = get_or_create_donor(donor_name)
    donation.received_on = received_on
    donation.quantity_promised = quantity
    donation.title = refuse_control_characters((title or "").strip(), "title", _("Title"))
    donation.notes = refuse_control_characters((notes or "").strip(), "notes", _("Notes"))
    db.session.flush()
    return donation


def get_donation(donation_id: int) -> Donation:
    donation = db.session.get(Donation, donation_id)
    if donation is None:
        raise NotFound(_("No donation with id %(id)s.", id=donation_id))
    return donation


def find_donation(reference: str) -> Donation:
    donation = db.session.scalar(
        sa.select(Donation).where(sa.func.lower(Donation.reference) == reference.strip().lower())
    )
    if donation is None:
        raise NotFound(_("No donation with reference '%(ref)s'.", ref=reference))
    return donation


def require_national_office() -> None:
    """Donations are the whole programme's: a regional office reads them (its own tablets
    counted, tracker.schools.reach) but records and changes none."""
    if not figure("reader_reach").whole:
        raise Forbidden(_("Donations are recorded and changed by the national office."))


def list_donations(reach=None) -> list[tuple[Donation, int]]:
    """Every donation with the number of devices registered against it (those `reach`
    holds, when given), newest first."""
    registered = figure("tablets_per_donation", *([reach] if reach is not None else []))
    query = (
        sa.select(Donation, sa.func.coalesce(registered.c.n, 0))
        .outerjoin(registered, registered.c.donation_id == Donation.id)
        .options(sa.orm.joinedload(Donation.donor))
        .order_by(Donation.received_on.desc(), Donation.id.desc())
    )
    return [(donation, count) for donation, count in db.session.execute(query)]
