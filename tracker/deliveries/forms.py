"""Delivery forms: planning, the scan box, the hand-over, and one-button actions."""

from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from tracker.forms import DayField, Form
from tracker.i18n import lazy_gettext as _l


class PlanDeliveriesForm(Form):
    assigned_to_id = SelectField(_l("Field agent"), coerce=int)
    planned_on = DayField(_l("Planned for"), validators=[Optional()])
    at_most = IntegerField(
        _l("At most, tablets per school (empty: all)"),
        validators=[Optional(), NumberRange(1, 100_000)],
    )


class EditDeliveryForm(Form):
    assigned_to_id = SelectField(_l("Field agent"), coerce=int)
    planned_on = DayField(_l("Planned for"), validators=[Optional()])


class ScanForm(Form):
    code = StringField(_l("Scan or type a code"), validators=[DataRequired(), Length(max=500)])


class ActionForm(Form):
    reason = StringField(_l("Why"), validators=[Length(max=300)])


class HandoverForm(Form):
    recipient_name = StringField(
        _l("Received by (name)"), validators=[DataRequired(), Length(max=120)]
    )
    recipient_role = StringField(
        _l("Their role (head teacher, …)"), validators=[DataRequired(), Length(max=120)]
    )
    signature = HiddenField(_l("Signature"))
    photo = FileField(_l("Photo (optional)"))
    # The photo of a refused try, sent back with the page so the retry keeps it.
    photo_kept = HiddenField()
    latitude = HiddenField()
    longitude = HiddenField()
    accuracy = HiddenField()
    notes = TextAreaField(_l("Notes"), validators=[Length(max=2000)])
    # Asked only when a code was sent to the school (deliveries/codes.py).
    school_code = StringField(
        _l("The school's code (received by SMS)"),
        validators=[Length(max=20)],
        # Digits run left to right, in an Arabic page too (as the code is printed).
        render_kw={"inputmode": "numeric", "autocomplete": "off", "dir": "ltr"},
    )
    no_code_reason = StringField(_l("Or: why without the code"), validators=[Length(max=300)])
