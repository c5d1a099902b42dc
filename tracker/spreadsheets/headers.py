"""Finding the header row and matching its headers to fields, in French, English and Arabic.

Headers match whatever their case, accents, punctuation, spacing or order: "N° de série",
"Numéro de série", "Serial number", "S/N" and "الرقم التسلسلي" all mean the serial.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from flask_babel import force_locale

from tracker.errors import ValidationFailed
from tracker.i18n import LOCALES
from tracker.i18n import gettext as _

HEADER_SEARCH_ROWS = 20
_ARABIC_MARKS = re.compile(r"[\u0610-\u061a\u064b-\u065f\u0670\u0640]")  # harakat, tatweel


def normalise(text) -> str:
    """Fold a header to compare it: no accents, no case, no punctuation or spaces."""
    if text is None:
        return ""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _ARABIC_MARKS.sub("", text)
    text = text.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا").replace("ة", "ه")
    return re.sub(r"[\W_]+", "", text.casefold())


@dataclass(frozen=True)
class Column:
    key: str
    names: tuple[str, ...]
    required: bool = False
    label: str = ""  # the header our templates and exports write

    def matches(self, header: str) -> bool:
        return normalise(header) in {normalise(name) for name in self.names}


@dataclass
class HeaderMap:
    row_number: int
    positions: dict[str, int]  # field key -> column index
    headers: dict[str, str]  # field key -> the header as written in the file
    unknown: list[str] = field(default_factory=list)
    width: int = 0


def labels_in_every_language(label) -> list[str]:
    """A column label as French, Arabic and English readers see it."""
    if isinstance(label, str):
        return [label]
    names = []
    for language in LOCALES:
        with force_locale(language):
            names.append(str(label))
    return names


def find_header(rows, columns: tuple[Column, ...]) -> tuple[HeaderMap, list]:
    """Look through the first rows for the header; return it and the rows read past it.

    The header is the row matching the most known headers among the first 20 rows; any
    required column it lacks is named.
    """
    lookup = {}
    for column in columns:
        # The label is what our exports and templates write, in the reader's language: each
        # language's label is known, so any of them imports back as it is.
        for name in (*column.names, *labels_in_every_language(column.label)):
            lookup[normalise(name)] = column.key
    best, best_row, seen = None, None, []
    for row in rows:
        seen.append(row)
        found = {}
        for index, value in enumerate(row.values):
            key = lookup.get(normalise(value))
            if key and key not in found:
                found[key] = index
        if found and (best is None or len(found) > len(best)):
            best, best_row = found, row
        if len(seen) >= HEADER_SEARCH_ROWS:
            break
    if best is None:
        expected = ", ".join(f'"{c.label}"' for c in columns if c.required)
        raise ValidationFailed(
            _(
                "No header row found in the first %(n)s rows: the table "
                "needs the columns %(columns)s.",
                n=HEADER_SEARCH_ROWS,
                columns=expected,
            )
        )
    missing = [c for c in columns if c.required and c.key not in best]
    if missing:
        raise ValidationFailed(
            _(
                "Row %(row)s looks like the header, but the required column %(columns)s is "
                "missing.",
                row=best_row.number,
                columns=", ".join(f'"{c.label}"' for c in missing),
            )
        )
    headers = {key: str(best_row.values[index]).strip() for key, index in best.items()}
    unknown = [
        str(value).strip()
        for index, value in enumerate(best_row.values)
        if value not in (None, "") and index not in best.values()
    ]
    remaining = [row for row in seen if row.number > best_row.number]
    return HeaderMap(best_row.number, best, headers, unknown, len(best_row.values)), remaining
