"""The words for a school's cycle and setting, and how ministries' lists write them."""

import re
import unicodedata

from tracker.i18n import lazy_gettext as _l

CYCLE_LABELS = {
    "primary": _l("Primary"),
    "middle": _l("Middle school (collège)"),
    "secondary": _l("Secondary (lycée)"),
}
SETTING_LABELS = {"urban": _l("Urban"), "rural": _l("Rural")}

# As the lists write them (Massar, GRESA, the AREFs' own sheets), folded.
CYCLE_WORDS = {
    "primary": (
        "primary", "primaire", "enseignement primaire", "école primaire", "ecole", "école",
        "ابتدائي", "الابتدائي", "التعليم الابتدائي", "مدرسة ابتدائية",
    ),
    "middle": (
        "middle", "middle school", "middle school (collège)", "collège", "college",
        "collégial", "secondaire collégial",
        "enseignement secondaire collégial", "إعدادي", "الإعدادي", "الثانوي الإعدادي",
        "ثانوية إعدادية", "إعدادية",
    ),
    "secondary": (
        "secondary", "secondary (lycée)", "high school", "lycée", "lycee", "qualifiant",
        "secondaire qualifiant",
        "enseignement secondaire qualifiant", "تأهيلي", "التأهيلي", "الثانوي التأهيلي",
        "ثانوية تأهيلية", "ثانوي",
    ),
}  # fmt: skip
SETTING_WORDS = {
    "urban": ("urban", "urbain", "urbaine", "u", "حضري", "الحضري", "حضرية"),
    "rural": ("rural", "rurale", "r", "قروي", "القروي", "قروية"),
}


def fold(text) -> str:
    """A word compared whatever its case, accents, hamzas and spaces."""
    text = unicodedata.normalize("NFKD", str(text or "").casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("أ", "ا").replace("إ", "ا").replace("ة", "ه")
    return re.sub(r"[\W_]+", "", text)


CYCLES_READ = {fold(word): code for code, words in CYCLE_WORDS.items() for word in words}
SETTINGS_READ = {fold(word): code for code, words in SETTING_WORDS.items() for word in words}
