"""The form beside each alert: a note, and acknowledge or resolve."""

from wtforms import StringField, SubmitField
from wtforms.validators import Length

from tracker.forms import Form
from tracker.i18n import lazy_gettext as _l


class AlertForm(Form):
    note = StringField(_l("Note"), validators=[Length(max=500)])
    acknowledge = SubmitField(_l("Acknowledge"))
    resolve = SubmitField(_l("Resolve"))
