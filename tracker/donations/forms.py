"""Donation form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange


class DonationForm(FlaskForm):
    reference = StringField(_l("Reference"), validators=[DataRequired(), Length(max=60)])
    title = StringField(_l("Title"), validators=[Length(max=200)])
    donor = StringField(_l("Donor"), validators=[DataRequired(), Length(max=200)])
    received_on = DateField(_l("Date of the agreement"), validators=[DataRequired()])
    quantity = IntegerField(
        _l("Tablets promised"), validators=[InputRequired(), NumberRange(min=0, max=10_000_000)]
    )
    notes = TextAreaField(_l("Notes"))
