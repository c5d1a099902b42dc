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


def gettext(string: str, **variables) -> str:
    """Flask-Babel's `gettext`, through `request_translations`."""
    translated = request_translations().ugettext(string)
    return translated % variables if variables else translated


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    """The form of a message for `num` (Arabic has six, French two); `%(num)s` is the count."""
    translated = request_translations().ungettext(singular, plural, num)
    return translated % {"num": num, **variables}


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
