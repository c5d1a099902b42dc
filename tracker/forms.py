"""The base of every form: what any text field refuses, whatever the feature.

Flask-WTF checks CSRF; this adds what no text typed by a person holds: control characters
other than tab and newline (an ESC in a school name broke every export once).
"""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField

from tracker.csrf import MaskedFormCSRF
from tracker.i18n import gettext as _
from tracker.text import CONTROL_CHARACTERS
from tracker.timezone import format_day, local_today, read_day


class DayField(StringField):
    """A day typed and shown as the reader writes it (06/12/2026 in French and Arabic,
    12/6/2026 in English; 2026-12-06 is read too), today in that form as its hint. Not the
    browser's date picker, which speaks the browser's language, not the page's."""

    def __init__(self, label=None, validators=None, **kwargs):
        typed = {"inputmode": "numeric", "autocomplete": "off", "dir": "ltr"}
        typed.update(kwargs.pop("render_kw", None) or {})
        super().__init__(label, validators, render_kw=typed, **kwargs)

    def __call__(self, **kwargs):
        kwargs.setdefault("placeholder", format_day(local_today()))
        return super().__call__(**kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return format_day(self.data) if self.data else ""

    def process_formdata(self, valuelist) -> None:
        text = valuelist[0].strip() if valuelist and valuelist[0] else ""
        self.data = None
        if not text:
            return
        try:
            self.data = read_day(text)
        except ValueError:
            raise ValueError(
                _(
                    "'%(value)s' is not a day: write it as %(example)s.",
                    value=text[:40],
                    example=format_day(local_today()),
                )
            ) from None


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
