"""Transfer forms: one by hand, a scan at the first school, a button."""

from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from tracker.forms import Form
from tracker.i18n import lazy_gettext as _l


class TransferForm(Form):
    from_school = StringField(
        _l("From the school (its code)"), validators=[DataRequired(), Length(max=30)]
    )
    to_school = StringField(
        _l("To the school (its code)"), validators=[DataRequired(), Length(max=30)]
    )
    quantity = IntegerField(
        _l("Tablets"), validators=[DataRequired(), NumberRange(min=1, max=10_000)]
    )
    note = StringField(_l("Why"), validators=[Length(max=300)])


class ScanOutForm(Form):
    code = StringField(
        _l("Tablet"),
        validators=[DataRequired(), Length(max=300)],
        render_kw={"autofocus": True, "autocomplete": "off", "autocapitalize": "off"},
    )


class TransferActionForm(Form):
    """A button that moves the transfer on: its CSRF token only."""


class AssignForm(Form):
    assigned_to_id = SelectField(_l("Field agent"), coerce=int)
