"""Languages: French, Arabic and English catalogues, and choosing one per request.

The catalogues (`tracker/translations/<lang>/LC_MESSAGES/messages.po`) are compiled into
the instance folder when the app starts, whenever a .po is newer than its .mo, so a
checkout or an installed package needs no build step.
"""

import json
import os
import re
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations
from flask import current_app, g, request, session
from flask_babel import LazyString, get_locale, get_translations
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


def request_translations():
    """The reader's catalogue, found once per request and language.

    Flask-Babel finds it again for every word (a dozen lookups in the request context each);
    a page says a few dozen words. Kept beside the locale object it belongs to, so a block
    under `force_locale` gets its own language's words.
    """
    try:
        context = g._get_current_object()
    except RuntimeError:  # outside the app: the words as written
        return NullTranslations()
    kept = context.__dict__.get("_tracker_translations")
    # Flask-Babel keeps the request's locale (or the one `force_locale` set) there; if a
    # later version keeps it elsewhere, this only takes the longer way below.
    babel = context.__dict__.get("_flask_babel")
    if kept is not None and kept[0] is getattr(babel, "babel_locale", None):
        return kept[1]
    locale = get_locale()
    if kept is None or kept[0] is not locale:
        kept = context._tracker_translations = (locale, get_translations())
    return kept[1]


# The placeholders our messages use, and any other %-specifier (which a kept message of
# ours never has).
PLAIN_SPECIFIERS = re.compile(r"%\((\w+)\)[sd]|%%")
SPECIFIER = re.compile(r"%")


class Words(str):
    """A sentence in the reader's language that remembers what it says: its message and
    values. What is kept to be read later (a scan's refusal, an import's problems, a
    delivery's unexpected codes) keeps that (`kept`), and is said again in the language of
    whoever reads it (`said`), never in the language of whoever caused it."""

    def __str__(self) -> str:  # str() keeps what it says (an exception's message too)
        return self

    def lower(self) -> "Words":
        return _words(str.lower(self), self.kept_as, "lower")

    def kept(self) -> dict:
        return self.kept_as


def _words(text: str, kept_as: dict, transform: str = "") -> Words:
    words = Words(text)
    words.kept_as = {**kept_as, "t": transform} if transform else kept_as
    return words


def _value(value):
    """A value as kept: a sentence as what it says, a number or text as it is."""
    if isinstance(value, Words):
        return value.kept_as
    if isinstance(value, LazyString):
        return _value(str(value))
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def gettext(string: str, **variables) -> str:
    """Flask-Babel's `gettext`, through `request_translations`."""
    translated = request_translations().ugettext(string)
    text = translated % variables if variables else translated
    kept_as = {"m": string}
    if variables:
        kept_as["v"] = {key: _value(value) for key, value in variables.items()}
    return _words(text, kept_as)


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    """The form of a message for `num` (Arabic has six, French two); `%(num)s` is the count."""
    translated = request_translations().ungettext(singular, plural, num)
    kept_as = {"m": singular, "p": plural, "n": num}
    if variables:
        kept_as["v"] = {key: _value(value) for key, value in variables.items()}
    return _words(translated % {"num": num, **variables}, kept_as)


def kept(message) -> dict | str:
    """What to store of a message so it can be said again in any language: its message and
    values (a JSON-able dict), or the text itself when it is not one of ours (a server's
    answer, a name)."""
    if isinstance(message, LazyString):
        message = str(message)
    if isinstance(message, Words):
        return message.kept_as
    return "" if message is None else str(message)


def kept_text(message, limit: int = 500) -> str:
    """`kept` for a text column of `limit` characters: the dict as JSON (it starts with
    `{"m":`), or the text (cut to the column when it is longer)."""
    stored = kept(message)
    if isinstance(stored, dict):
        text = json.dumps(stored, ensure_ascii=False)
        if len(text) <= limit:
            return text
        stored = str(message)
    return stored[:limit]


def said(stored) -> str:
    """A kept message in the reader's language now (`kept` or `kept_text` made it); a
    text that is not a kept message is shown as it was written."""
    if isinstance(stored, str):
        if not stored.startswith('{"m"'):
            return stored
        try:
            stored = json.loads(stored)
        except ValueError:
            return stored
    if not isinstance(stored, dict) or not isinstance(stored.get("m"), str):
        return "" if stored is None else str(stored)
    message, plural, values = stored["m"], stored.get("p"), stored.get("v") or {}
    # Only our own kind of sentence is formatted: named values, no widths or precisions
    # (a stored text is data, and data must not make a 100 MB string or fail a page).
    if not isinstance(values, dict) or any(
        not isinstance(text, str) or SPECIFIER.search(PLAIN_SPECIFIERS.sub("", text))
        for text in (message, plural or "")
    ):
        return message
    values = {
        key: said(value) if isinstance(value, dict) else value for key, value in values.items()
    }
    try:
        if plural is not None:
            count = stored.get("n", 0)
            if type(count) is not int or abs(count) > 10**12:
                return message
            text = ngettext(message, plural, count, **values)
        else:
            text = gettext(message, **values)
    except (KeyError, TypeError, ValueError, OverflowError):  # values changed since
        text = message
    return text.lower() if stored.get("t") == "lower" else text


def plural_forms(singular: str, plural: str) -> dict[str, str]:
    """Every plural form of a message in the reader's language, by CLDR category ("one",
    "two", "few", "many", "other"…), for a script that counts on the phone: it picks one
    with `Intl.PluralRules`, which names the same categories. `%(n)s` is left in."""
    locale = get_locale()
    rule = locale.plural_form if locale is not None else None
    if rule is None:
        return {"one": singular, "other": plural}
    forms = {}
    for number in (0, 1, 2, 3, 11, 100, 101, 1000000):
        category = rule(number)
        if category not in forms:
            forms[category] = request_translations().ungettext(singular, plural, number)
    return forms


def N_(string: str) -> str:  # noqa: N802  (the name Babel's extractor knows)
    """Marks a message kept as written and translated where it is shown."""
    return string


def school_name(school) -> str:
    """A school's name as the reader reads it: the Arabic one for Arabic readers (pages,
    papers, workbooks and messages all ask here)."""
    if str(get_locale()) == "ar" and school.name_ar:
        return school.name_ar
    return school.name_fr


def lazy_gettext(string: str, **variables) -> LazyString:
    """A message translated when it is shown, in the reader's language of that moment."""
    return LazyString(gettext, string, **variables)


def install_template_gettext(app) -> None:
    """Templates' `_`, `gettext` and `ngettext` through `request_translations` (after Babel)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: request_translations().ugettext(string),
        ngettext=lambda singular, plural, n: request_translations().ungettext(singular, plural, n),
        pgettext=lambda context, string: request_translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: request_translations().unpgettext(
            context, singular, plural, n
        ),
        newstyle=True,
    )
    app.jinja_env.globals["plural_forms"] = plural_forms
    app.jinja_env.globals["said"] = said  # in imported macros too (no context there)
