"""Languages: French, Arabic and English catalogues, and choosing one per request.

The catalogues (`tracker/translations/<lang>/LC_MESSAGES/messages.po`) are compiled into
the instance folder when the app starts, whenever a .po is newer than its .mo, so a
checkout or an installed package needs no build step.
"""

import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app, request, session
from flask_login import current_user

LOCALES = ("fr", "ar", "en")
RTL = frozenset({"ar"})
LANGUAGE_NAMES = {"fr": "Français", "ar": "العربية", "en": "English"}


def compile_catalogues(instance_path: str) -> str:
    """Compile every .po that changed into `<instance>/translations`; return that folder."""
    source = Path(__file__).parent / "translations"
    target = Path(instance_path) / "translations"
    for po in sorted(source.glob("*/LC_MESSAGES/messages.po")):
        mo = target / po.relative_to(source).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as handle:
            catalogue = read_po(handle, locale=po.parent.parent.name)
        # Written aside then renamed: several workers may start at once.
        handle, temporary = tempfile.mkstemp(dir=mo.parent, suffix=".part")
        with os.fdopen(handle, "wb") as out:
            write_mo(out, catalogue)
        os.replace(temporary, mo)
    return str(target)


def select_locale() -> str:
    """The user's saved preference, else the switcher's choice, else the browser's, else
    TRACKER_DEFAULT_LOCALE."""
    if getattr(current_user, "is_authenticated", False) and current_user.locale in LOCALES:
        return current_user.locale
    if request:
        chosen = session.get("locale")
        if chosen in LOCALES:
            return chosen
        best = request.accept_languages.best_match(LOCALES)
        if best:
            return best
    return current_app.config["BABEL_DEFAULT_LOCALE"]
