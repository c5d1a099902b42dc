"""Loan forms: a borrower, the lending desk, the return desk, the agreement's signature."""

from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from tracker.forms import DayField, Form
from tracker.i18n import lazy_gettext as _l
from tracker.loans.words import CONDITION_LABELS, KIND_LABELS


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(code, label) for code, label in labels.items()]


class BorrowerForm(Form):
    code = StringField(_l("Borrower's code"), validators=[DataRequired(), Length(max=40)])
    kind = SelectField(_l("Pupil or teacher"), choices=_choices(KIND_LABELS), default="pupil")
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    class_name = StringField(_l("Class"), validators=[Length(max=40)])
    guardian_name = StringField(_l("Guardian's name"), validators=[Length(max=120)])
    guardian_phone = StringField(_l("Guardian's phone"), validators=[Length(max=40)])


PHOTO = {"accept": "image/*", "capture": "environment"}  # the phone's camera, at the back
SCANNED = {"autofocus": True, "autocomplete": "off", "autocapitalize": "off", "spellcheck": "false"}


class LendForm(Form):
    code = StringField(
        _l("Tablet"), validators=[DataRequired(), Length(max=300)], render_kw=SCANNED
    )
    borrower_code = StringField(
        _l("Borrower's code"),
        validators=[DataRequired(), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters"},
    )
    # A borrower the school does not know yet, added as they are lent the tablet.
    kind = SelectField(_l("Pupil or teacher"), choices=_choices(KIND_LABELS), default="pupil")
    name = StringField(_l("Name"), validators=[Length(max=120)])
    class_name = StringField(_l("Class"), validators=[Length(max=40)])
    guardian_name = StringField(_l("Guardian's name"), validators=[Length(max=120)])
    guardian_phone = StringField(_l("Guardian's phone"), validators=[Length(max=40)])
    due_on = DayField(_l("Due back on"), validators=[Optional()])
    condition = SelectField(_l("Condition"), choices=_choices(CONDITION_LABELS), default="good")
    accessories = StringField(_l("Accessories (charger, cover…)"), validators=[Length(max=200)])
    signed_by = StringField(_l("Signed by (guardian or teacher)"), validators=[Length(max=120)])
    signature = HiddenField(_l("Signature"))


class TakeBackForm(Form):
    code = StringField(
        _l("Tablet"), validators=[DataRequired(), Length(max=300)], render_kw=SCANNED
    )
    condition = SelectField(_l("Condition"), choices=_choices(CONDITION_LABELS), default="good")
    accessories = StringField(_l("Accessories brought back"), validators=[Length(max=200)])
    # Asked when the condition is damaged: the tablet is reported faulty with them.
    fault = TextAreaField(_l("What is wrong"), validators=[Length(max=2000)], render_kw={"rows": 2})
    photo = FileField(_l("A photo of the fault (if you can)"), render_kw=PHOTO)


class SignForm(Form):
    signed_by = StringField(
        _l("Signed by (guardian or teacher)"), validators=[DataRequired(), Length(max=120)]
    )
    signature = HiddenField(_l("Signature"))
    paper = FileField(_l("Or a photo of the signed paper"))


class ClassListForm(Form):
    file = FileField(_l("Class list (.xlsx, .ods or .csv)"))
