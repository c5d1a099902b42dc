"""Arabic in our PDFs: letters joined and ordered for the page, and still readable by a
machine (copy, search, text extraction) in logical order.

fpdf2 can shape with HarfBuzz, but the glyphs it then draws have no Unicode meaning in the
file (its ToUnicode map leaves the joined forms out), so copying or searching Arabic gives
garbage. Instead, Arabic text is turned into Unicode's presentation forms (arabic-reshaper:
each letter in its joined shape, a real code point) and put in display order (python-bidi),
and is drawn with Noto Sans Arabic, which also holds the Latin letters of a mixed line.
"""

import re

import arabic_reshaper
from bidi.algorithm import get_display

ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")
ARABIC_FONT = "NotoArabic"
# Marks that steer the direction on a screen (Babel puts them in Arabic dates: "2026/‏12/‏01")
# but that a PDF's text has no use for: the line is already in display order.
DIRECTION_MARKS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def has_arabic(text: str) -> bool:
    return bool(ARABIC.search(text or ""))


def for_page(text: str) -> str:
    """The text as a PDF must draw it: Arabic joined and in display order; else unchanged."""
    text = DIRECTION_MARKS.sub("", text)
    if not has_arabic(text):
        return text
    return get_display(arabic_reshaper.reshape(text))
