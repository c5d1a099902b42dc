"""The base of every form: what any text field refuses, whatever the feature.

Flask-WTF checks CSRF; this adds what no text typed by a person holds: control characters
other than tab and newline (an ESC in a school name broke every export once).
"""

from flask_wtf import FlaskForm
from wtforms import PasswordField

from tracker.csrf import MaskedFormCSRF
from tracker.i18n import gettext as _
from tracker.text import CONTROL_CHARACTERS


class Needed:
    """A field the service requires: marked so (the star, `required` for screen readers),
    while the service says what is missing together with the form's other problems."""

    field_flags = {"required": True}

    def __call__(self, form, field) -> None:
        return None


class Form(FlaskForm):
    class Meta:
        csrf_class = MaskedFormCSRF  # a fresh mask in every page (tracker/csrf.py)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if isinstance(field, PasswordField) or not isinstance(field.data, str):
                continue
            if CONTROL_CHARACTERS.search(field.data):
                field.errors = [
                    *field.errors,
                    _(
                        "%(field)s contains a control character; remove it and try again.",
                        field=field.label.text,
                    ),
                ]
                valid = False
        return valid
