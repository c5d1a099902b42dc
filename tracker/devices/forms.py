"""Device forms."""

from wtforms import (
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from tracker.devices.states import CONDITION_LABELS
from tracker.forms import DayField, Form
from tracker.i18n import lazy_gettext as _l

CONDITION_CHOICES = [SelectChoice(value, label) for value, label in CONDITION_LABELS.items()]


class DeviceForm(Form):
    donation_id = SelectField(_l("Donation"), coerce=int, validators=[DataRequired()])
    depot_id = SelectField(_l("Depot"), coerce=int, validate_choice=False)
    serial = StringField(_l("Serial number"), validators=[DataRequired(), Length(max=64)])
    imei = StringField(_l("IMEI (15 digits, optional)"), validators=[Optional(), Length(max=40)])
    model = StringField(_l("Model"), validators=[Length(max=120)])
    condition = SelectField(_l("Condition"), choices=CONDITION_CHOICES)
    notes = TextAreaField(_l("Notes"))
    # What the donor's packing list says beside the serial (see Device).
    imei2 = StringField(_l("Second IMEI (optional)"), validators=[Optional(), Length(max=40)])
    brand = StringField(_l("Brand"), validators=[Length(max=60)])
    donor_ref = StringField(_l("Donor's inventory number"), validators=[Length(max=64)])
    donor_delivered_on = DayField(_l("Delivered by the donor on"), validators=[Optional()])
    warranty_until = DayField(_l("Warranty until"), validators=[Optional()])
    version = HiddenField()

    def donor_fields(self) -> dict:
        """The packing list's fields as the devices service takes them."""
        return {
            "imei2": self.imei2.data,
            "brand": self.brand.data or "",
            "donor_ref": self.donor_ref.data or "",
            "donor_delivered_on": self.donor_delivered_on.data,
            "warranty_until": self.warranty_until.data,
        }


class MoveForm(Form):
    event = SelectField(_l("Action"), choices=[], validators=[DataRequired()])
    note = StringField(_l("Note (why)"), validators=[Length(max=500)])
    version = IntegerField(validators=[Optional()])


class PickedForm(Form):
    """The list's ticked tablets: a move for all of them, or their labels or workbook."""

    event = SelectField(_l("Action"), choices=[], validate_choice=False)
    note = StringField(_l("Note (why)"), validators=[Length(max=500)])
    move = SubmitField(_l("Apply to the ticked tablets"))
    labels = SubmitField(_l("Labels for the ticked tablets"))
    workbook = SubmitField(_l("Workbook of the ticked tablets"))

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.move.data and self.event.data not in {
            value for value, *_rest in self.event.choices
        }:
            self.event.errors = [_l("Choose an action.")]
            return False
        return bool(self.move.data or self.labels.data or self.workbook.data)


class ReplaceLabelForm(Form):
    note = StringField(_l("Why (label lost, damaged, copied…)"), validators=[Length(max=300)])
