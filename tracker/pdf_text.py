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


def has_arabic(text: str) -> bool:
    return bool(ARABIC.search(text or ""))


def for_page(text: str) -> str:
    """The text as a PDF must draw it: Arabic joined and in display order; else unchanged."""
    if not has_arabic(text):
        return text
    return get_display(arabic_reshaper.reshape(text))
