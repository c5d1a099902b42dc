"""Label sheet options (read from the query string: printing changes nothing)."""

from wtforms import DecimalField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from tracker.forms import Form
from tracker.i18n import lazy_gettext as _l
from tracker.labels.sheets import DEFAULT_LAYOUT, LAYOUTS


class LabelOptionsForm(Form):
    class Meta:
        csrf = False  # a GET that only produces a PDF

    layout = SelectField(
        _l("Label stock"),
        choices=[SelectChoice(name, layout.title) for name, layout in LAYOUTS.items()],
        default=DEFAULT_LAYOUT,
    )
    start = IntegerField(
        _l("Start at label number"), default=1, validators=[Optional(), NumberRange(1, 200)]
    )
    offset_x = DecimalField(
        _l("Shift right (mm, negative: left)"),
        default=0,
        places=1,
        validators=[Optional(), NumberRange(-20, 20)],
    )
    offset_y = DecimalField(
        _l("Shift down (mm, negative: up)"),
        default=0,
        places=1,
        validators=[Optional(), NumberRange(-20, 20)],
    )
