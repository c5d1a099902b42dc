"""Repair forms: what is known of the repair, how it ended, a photo."""

from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from tracker.forms import DayField, Form
from tracker.i18n import lazy_gettext as _l
from tracker.loans.forms import PHOTO, SCANNED
from tracker.repairs.words import OUTCOME_LABELS


class CaseForm(Form):
    fault = TextAreaField(_l("The fault"), validators=[Length(max=2000)])
    warranty_claim = BooleanField(_l("Claimed under the warranty"))
    repairer = StringField(_l("Repairer"), validators=[Length(max=120)])
    repairer_ref = StringField(_l("The repairer's reference"), validators=[Length(max=64)])
    sent_on = DayField(_l("Sent on"), validators=[Optional()])
    returned_on = DayField(_l("Back on"), validators=[Optional()])
    cost = StringField(_l("Cost (MAD)"), validators=[Length(max=20)])


class CloseCaseForm(Form):
    outcome = SelectField(
        _l("How it ended"),
        choices=[SelectChoice(code, label) for code, label in OUTCOME_LABELS.items()],
    )
    replacement = StringField(
        _l("Replacement tablet (from stock): scan or type its code"), validators=[Length(max=300)]
    )


class PhotoForm(Form):
    photo = FileField(_l("A photo of the fault"))


class ReportFaultForm(Form):
    """The school reports one of its tablets faulty: which, what is wrong, a photo."""

    code = StringField(
        _l("Tablet"), validators=[DataRequired(), Length(max=300)], render_kw=SCANNED
    )
    fault = TextAreaField(
        _l("What is wrong"), validators=[DataRequired(), Length(max=2000)], render_kw={"rows": 3}
    )
    photo = FileField(_l("A photo of the fault (if you can)"), render_kw=PHOTO)
