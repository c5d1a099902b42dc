"""School form."""

from wtforms import FloatField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from tracker.forms import Form
from tracker.i18n import lazy_gettext as _l
from tracker.schools.words import CYCLE_LABELS, SETTING_LABELS


def cycle_field(label=None) -> SelectField:
    """Choose a cycle, or every one (for a plan's or a count's schools)."""
    return SelectField(
        label or _l("Only the cycle"),
        choices=[SelectChoice("", _l("Every cycle"))]
        + [SelectChoice(code, label) for code, label in CYCLE_LABELS.items()],
        default="",
    )


def setting_field(label=None) -> SelectField:
    """Choose urban or rural, or both."""
    return SelectField(
        label or _l("Only urban or rural schools"),
        choices=[SelectChoice("", _l("Urban and rural"))]
        + [SelectChoice(code, label) for code, label in SETTING_LABELS.items()],
        default="",
    )


class SchoolForm(Form):
    code = StringField(_l("School code"), validators=[DataRequired(), Length(max=30)])
    name_fr = StringField(_l("Name (French)"), validators=[DataRequired(), Length(max=200)])
    name_ar = StringField(_l("Name (Arabic)"), validators=[Length(max=200)])
    region = StringField(_l("Region"), validators=[DataRequired(), Length(max=100)])
    province = StringField(_l("Province"), validators=[Length(max=100)])
    commune = StringField(_l("Commune"), validators=[Length(max=100)])
    address = StringField(_l("Address"), validators=[Length(max=300)])
    latitude = FloatField(_l("Latitude"), validators=[Optional(), NumberRange(-90, 90)])
    longitude = FloatField(_l("Longitude"), validators=[Optional(), NumberRange(-180, 180)])
    contact_name = StringField(_l("Contact person"), validators=[Length(max=120)])
    contact_phone = StringField(_l("Contact phone"), validators=[Length(max=40)])
    contact_email = StringField(
        _l("Contact e-mail"), validators=[Optional(), Email(), Length(max=254)]
    )
    contact_language = SelectField(
        _l("Language of the school's messages"),
        choices=[SelectChoice("fr", "Français"), SelectChoice("ar", "العربية")],
        default="fr",
    )
    enrolment = IntegerField(_l("Pupils enrolled"), validators=[Optional(), NumberRange(min=0)])
    need = IntegerField(_l("Tablets needed"), validators=[Optional(), NumberRange(min=0)])
    cycle = SelectField(
        _l("Cycle"),
        choices=[SelectChoice("", "—")]
        + [SelectChoice(code, label) for code, label in CYCLE_LABELS.items()],
        default="",
    )
    milieu = SelectField(
        _l("Setting (urban or rural)"),
        choices=[SelectChoice("", "—")]
        + [SelectChoice(code, label) for code, label in SETTING_LABELS.items()],
        default="",
    )


class InviteStaffForm(Form):
    email = StringField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Length(max=120)])
