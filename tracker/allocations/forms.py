"""Plan forms."""

from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from tracker.forms import Form
from tracker.i18n import lazy_gettext as _l
from tracker.schools.forms import cycle_field, setting_field

BASIS_CHOICES = [
    SelectChoice("need", _l("In proportion to need")),
    SelectChoice("enrolment", _l("In proportion to pupils enrolled")),
    SelectChoice("equal", _l("Equally")),
]


class PlanForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    donation_id = SelectField(_l("Tablets from"), coerce=int)
    depot_id = SelectField(_l("Depot"), coerce=int, validate_choice=False)
    total = IntegerField(
        _l("Tablets to share"), validators=[InputRequired(), NumberRange(1, 10_000_000)]
    )
    basis = SelectField(_l("Share"), choices=BASIS_CHOICES)
    minimum = IntegerField(
        _l("At least, per school"), default=0, validators=[Optional(), NumberRange(0, 100_000)]
    )
    maximum = IntegerField(
        _l("At most, per school"), validators=[Optional(), NumberRange(0, 100_000)]
    )
    region = SelectField(_l("Schools of the region"), choices=[], validate_choice=False)
    province = StringField(_l("Only the province"), validators=[Length(max=100)])
    commune = StringField(_l("Only the commune"), validators=[Length(max=100)])
    cycle = cycle_field()
    milieu = setting_field()
    codes = TextAreaField(_l("Or these school codes (one per line)"))
    notes = TextAreaField(_l("Notes"))


class ActionForm(Form):
    """Submit, approve, send back or cancel: a button, and a note where it helps."""

    note = StringField(_l("Note"), validators=[Length(max=500)])


class LineForm(Form):
    quantity = IntegerField(_l("Quantity"), validators=[InputRequired(), NumberRange(0, 100_000)])
