"""CSRF tokens masked afresh in every response, so that compressed pages do not give them
away (BREACH).

Pages are compressed (Flask-Compress). A secret repeated the same in every compressed page
beside text an attacker can put in it (a search reflected in the page) leaks through the
compressed length, a character at a time. Flask-WTF's token repeats its session secret in
each page, so each page gets it XORed with a fresh random pad instead (as Django and Rails
do): the bytes differ every time and compress to nothing guessable. A masked token is
unmasked before Flask-WTF checks it; an unmasked one is still taken.
"""

import base64
import secrets

from flask import g, request
from flask_wtf import CSRFProtect
from flask_wtf.csrf import _FlaskFormCSRF, generate_csrf

MARK = "m"


def mask(token: str) -> str:
    raw = token.encode()
    pad = secrets.token_bytes(len(raw))
    mixed = bytes(a ^ b for a, b in zip(raw, pad, strict=True))
    return MARK + base64.urlsafe_b64encode(pad + mixed).decode().rstrip("=")


def unmask(value: str | None) -> str | None:
    if not value or not value.startswith(MARK):
        return value
    try:
        data = base64.urlsafe_b64decode(value[1:] + "=" * (-len(value[1:]) % 4))
    except (ValueError, TypeError):
        return value
    half = len(data) // 2
    if not data or len(data) % 2:
        return value
    raw = bytes(a ^ b for a, b in zip(data[:half], data[half:], strict=True))
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        return value


def masked_csrf_token() -> str:
    """What templates write as the token (`{{ csrf_token() }}`): masked for this response,
    once (a page's forms carry the same masked token; the next response gets another)."""
    token = generate_csrf()
    # Kept beside the request it was made for: an app context (and its `g`) may outlive a
    # request, as in a test or a shell.
    this = request._get_current_object()
    kept = g.get("_tracker_masked_csrf")
    if kept is None or kept[0] is not this or kept[1] != token:
        kept = g._tracker_masked_csrf = (this, token, mask(token))
    return kept[2]


class MaskedCSRFProtect(CSRFProtect):
    def init_app(self, app):
        super().init_app(app)
        app.jinja_env.globals["csrf_token"] = masked_csrf_token
        app.context_processor(lambda: {"csrf_token": masked_csrf_token})

    def _get_csrf_token(self):
        return unmask(super()._get_csrf_token())


class MaskedFormCSRF(_FlaskFormCSRF):
    """The forms' hidden token (`form.hidden_tag()`), masked the same way."""

    def generate_csrf_token(self, csrf_token_field):
        return mask(super().generate_csrf_token(csrf_token_field))

    def validate_csrf_token(self, form, field):
        field.data = unmask(field.data)
        return super().validate_csrf_token(form, field)
