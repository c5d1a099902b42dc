"""Donation form."""

import sqlalchemy as sa
from wtforms import BooleanField, EmailField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from tracker.donations.models import Donation
from tracker.extensions import db
from tracker.forms import DayField, Form
from tracker.i18n import lazy_gettext as _l


class DonationForm(Form):
    reference = StringField(_l("Reference"), validators=[DataRequired(), Length(max=60)])
    title = StringField(_l("Title"), validators=[Length(max=200)])
    donor = StringField(_l("Donor"), validators=[DataRequired(), Length(max=200)])
    received_on = DayField(_l("Date of the agreement"), validators=[DataRequired()])
    quantity = IntegerField(
        _l("Tablets promised"), validators=[InputRequired(), NumberRange(min=0, max=10_000_000)]
    )
    notes = TextAreaField(_l("Notes"))


def donation_choices(first: str | None = None) -> list[SelectChoice]:
    """Every donation as a dropdown choice ("REF — Donor"), after an optional `first` (id 0)."""
    donations = db.session.scalars(
        sa.select(Donation).options(sa.orm.joinedload(Donation.donor)).order_by(Donation.reference)
    ).all()
    choices = [SelectChoice(0, first)] if first else []
    return choices + [SelectChoice(d.id, f"{d.reference} — {d.donor.name}") for d in donations]


class WarrantyForm(Form):
    """The warranty's end for one model of a donation (the donor's terms)."""

    model = SelectField(_l("Model"), choices=[], validate_choice=False)
    until = DayField(_l("Warranty until"), validators=[DataRequired()])
    every = BooleanField(_l("Also for tablets whose list gave an end already"))


class InviteDonorForm(Form):
    """A donor's contact, invited to read its donations."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Length(max=120)])
    language = SelectField(
        _l("Language of the e-mail"),
        choices=[
            SelectChoice("fr", "Français"),
            SelectChoice("ar", "العربية"),
            SelectChoice("en", "English"),
        ],
        default="fr",
    )
