"""Count forms: opening one, a scan at a school."""

from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from tracker.counts.words import SCOPE_LABELS
from tracker.devices.states import CONDITION_LABELS
from tracker.forms import DayField, Form, Needed
from tracker.i18n import lazy_gettext as _l
from tracker.schools.forms import cycle_field, setting_field


class OpenCountForm(Form):
    """What a count covers and when; the service checks it and tells every problem at once
    (so the fields ask nothing the service does not)."""

    name = StringField(_l("Name"), validators=[Needed(), Length(max=120)])
    scope = SelectField(
        _l("What it covers"),
        choices=[SelectChoice(code, label) for code, label in SCOPE_LABELS.items()],
        default="school",
    )
    scope_value = StringField(
        _l("The school's code, the province, the region or the depot's code"),
        validators=[Length(max=100)],
        render_kw={"list": "count-places", "autocomplete": "off"},
    )
    cycle = cycle_field()
    milieu = setting_field()
    starts_on = DayField(_l("First day"), validators=[Needed(), Optional()])
    ends_on = DayField(_l("Last day"), validators=[Needed(), Optional()])


class CountScanForm(Form):
    code = StringField(
        _l("Tablet"),
        validators=[DataRequired(), Length(max=300)],
        render_kw={"autofocus": True, "autocomplete": "off", "autocapitalize": "off"},
    )
    condition = SelectField(
        _l("Condition"),
        choices=[SelectChoice("", _l("Not noted"))]
        + [SelectChoice(code, label) for code, label in CONDITION_LABELS.items()],
        default="",
        validators=[Optional()],
    )


class CountActionForm(Form):
    """A button that changes the count (close, confirm, keep open): its CSRF token only."""
