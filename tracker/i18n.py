"""Choosing the language of a request (issue 8 adds the catalogues)."""

from flask import current_app, request
from flask_login import current_user

LOCALES = ("fr", "ar", "en")


def select_locale() -> str:
    """The user's saved preference, else the browser's, else TRACKER_DEFAULT_LOCALE."""
    if getattr(current_user, "is_authenticated", False) and current_user.locale in LOCALES:
        return current_user.locale
    if request:
        best = request.accept_languages.best_match(LOCALES)
        if best:
            return best
    return current_app.config["BABEL_DEFAULT_LOCALE"]
