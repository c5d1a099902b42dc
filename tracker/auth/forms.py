"""Sign-in and user administration forms (input shape only; rules live in services)."""

from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from tracker.auth.models import ROLES
from tracker.auth.services import stays_donor
from tracker.forms import Form
from tracker.i18n import lazy_gettext as _l

ROLE_LABELS = {
    "admin": _l("Admin"),
    "coordinator": _l("Coordinator"),
    "field": _l("Field staff"),
    "manager": _l("Manager"),
    "school": _l("School staff"),
    "donor": _l("Donor"),
}
# A donor's account is made by inviting them from their donor's page (it names the donor).
ROLE_CHOICES = [SelectChoice(role, ROLE_LABELS[role]) for role in ROLES if not stays_donor(role)]


class LoginForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me signed in on this device"))


class UserCreateForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Length(max=120)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    password = PasswordField(_l("Initial password"), validators=[DataRequired()])


class UserEditForm(Form):
    name = StringField(_l("Name"), validators=[Length(max=120)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    active = BooleanField(_l("Active (may sign in)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = kwargs.get("obj")
        if user is not None and stays_donor(user.role):  # a donor stays one (auth.services)
            self.role.choices = [SelectChoice("donor", ROLE_LABELS["donor"])]


class PasswordForm(Form):
    password = PasswordField(_l("New password"), validators=[DataRequired()])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class OwnPasswordForm(PasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])


class AcceptInvitationForm(Form):
    name = StringField(_l("Your name"), validators=[Length(max=120)])
    password = PasswordField(_l("Choose a password"), validators=[DataRequired()])
    again = PasswordField(
        _l("The same password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )
