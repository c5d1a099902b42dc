"""Finding the header row and matching its headers to fields, in French, English and Arabic.

Headers match whatever their case, accents, punctuation, spacing or order: "N° de série",
"N°Série", "No Série", "Serial N°", "Serial Number (S/N)", "S/N" and "الرقم التسلسلي" all mean
the serial. A header first matches a known name exactly once folded; failing that, it is
scored against each known name as a set of words (number markers — N°, No, Num, Numéro,
Number, رقم — and small words left out), and the best name above `GOOD_MATCH` wins.
"""

import difflib
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

from flask_babel import force_locale

from tracker.errors import ValidationFailed
from tracker.i18n import LOCALES
from tracker.i18n import gettext as _

HEADER_SEARCH_ROWS = 20
UNKNOWN_KEPT = 50  # columns nobody recognised, listed (and offered for a choice) at most
HEADER_SHOWN = 120  # characters of a header kept to show it
# Shelf writes a custom field's header as "cf: Serial number,type:text".
_CUSTOM_FIELD = re.compile(r"^\s*cf\s*:\s*(.*?)\s*(?:,\s*type\s*:[^,]*)?\s*$", re.I | re.S)


def bare_header(text: str) -> str:
    """A header without the markings a tool adds around a field's name (Shelf's "cf:" and
    ",type:text")."""
    match = _CUSTOM_FIELD.match(text)
    return match.group(1) if match else text


def header_digest(headers: list[str]) -> str:
    """What names a header row whatever the order and spelling of its headers: the key
    under which a user's choices for its columns are remembered."""
    folded = sorted({normalise(header) for header in headers} - {""})
    return hashlib.sha256("\x1f".join(folded).encode()).hexdigest()[:64]


class MissingColumns(ValidationFailed):
    """A header row was found, but a required column is not in it (a user may say which of
    its columns it is)."""

    def __init__(self, message, *, row: int, unknown: list[str]):
        super().__init__(message)
        self.row, self.unknown = row, unknown


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


# Words that say "number of" and small words: they tell nothing about which column it is.
NUMBER_MARKERS = {"n", "no", "nr", "nº", "num", "numero", "number", "nbr", "nb", "رقم"}
SMALL_WORDS = {
    "de",
    "du",
    "des",
    "d",
    "la",
    "le",
    "les",
    "l",
    "en",
    "the",
    "of",
    "a",
    "in",
    "et",
    "and",
    "par",
    "per",
    "pour",
    "for",
    "au",
    "aux",
    "في",
    "من",
}
# Words that say what the whole list is about, not this column ("Modèle de l'appareil",
# "Effectif des élèves"): left out of the score when other words remain.
GENERIC_WORDS = {
    "appareil",
    "device",
    "tablette",
    "tablet",
    "eleves",
    "eleve",
    "students",
    "pupils",
    "ecole",
    "school",
    "جهاز",
    "لوحه",
    "تلاميذ",
}
GOOD_MATCH = 0.66
_SERIAL_SHORT = re.compile(r"\bs\s*/\s*n\b", re.I)


def words(text) -> frozenset[str]:
    """The words of a header that say what it holds, folded, in any order."""
    if text is None:
        return frozenset()
    text = _SERIAL_SHORT.sub(" serial ", str(text))
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _ARABIC_MARKS.sub("", text)
    text = text.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا").replace("ة", "ه")
    found = set()
    for word in re.split(r"[\W_]+", text.casefold()):
        if word.startswith("ال") and len(word) > 3:
            word = word[2:]  # the Arabic article
        if word and word not in SMALL_WORDS and word not in NUMBER_MARKERS:
            found.add(word)
    return frozenset(found)


def closeness(header_words: frozenset[str], name_words: frozenset[str]) -> float:
    """How much a header's words say a known name: shared words over all words (0 to 1)."""
    shared = header_words & name_words
    if not shared:
        return 0.0
    # Beside a word that matches, the list's generic words ("appareil") say nothing.
    extra = (header_words - name_words) - GENERIC_WORDS
    return len(shared) / (len(shared) + len(extra) + len(name_words - header_words))


@dataclass(frozen=True)
class Column:
    key: str
    names: tuple[str, ...]
    required: bool = False
    label: str = ""  # the header our templates and exports write
    exact: bool = False  # matched by its names only, never by the closeness of words

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


class Matcher:
    """Which field a header holds: an exact known name, else the closest by its words."""

    def __init__(self, columns: tuple[Column, ...], chosen: dict[str, str] | None = None):
        # What a user said a header holds ("" for nothing): asked before anything else.
        self.chosen = {normalise(header): key for header, key in (chosen or {}).items()}
        self.exact: dict[str, str] = {}
        self.named: list[tuple[frozenset[str], str]] = []
        for column in columns:
            # The label is what our exports and templates write, in the reader's language:
            # each language's label is known, so any of them imports back as it is.
            for name in (*column.names, *labels_in_every_language(column.label)):
                self.exact.setdefault(normalise(name), column.key)
                if words(name) and not column.exact:
                    self.named.append((words(name), column.key))
        self.cache: dict[str, str | None] = {}

    def key_of(self, header) -> str | None:
        if header is None or not str(header).strip():
            return None
        text = str(header)
        if text not in self.cache:
            text_read = bare_header(text)
            key = self.exact.get(normalise(text_read))
            if key is None:
                scored = self.scores(words(text_read))
                if scored and scored[0][0] >= GOOD_MATCH:
                    key = scored[0][1]
            self.cache[text] = key
        return self.cache[text]

    def scores(self, header_words: frozenset[str]) -> list[tuple[float, str]]:
        best: dict[str, float] = {}
        for name_words, key in self.named:
            score = closeness(header_words, name_words)
            if score > best.get(key, 0.0):
                best[key] = score
        return sorted(((score, key) for key, score in best.items()), reverse=True)

    def closest(self, column: Column, headers: list[str]) -> str | None:
        """Of headers nothing matched, the one likeliest to be `column` (for the message)."""
        ranked = []
        for header in headers:
            for score, key in self.scores(words(header)):
                if key == column.key and score > 0:
                    ranked.append((score, header))
        if ranked:
            return max(ranked)[1]
        names = [normalise(name) for name in (*column.names, str(column.label))]
        best = max(
            (
                (difflib.SequenceMatcher(None, normalise(header), name).ratio(), header)
                for header in headers
                for name in names
                if name
            ),
            default=(0.0, None),
        )
        return best[1] if best[0] >= 0.6 else None


def _matched(matcher: Matcher, row) -> dict[str, int]:
    """Where each field is in `row`: the headers known by name first, then what a user
    chose for the others (a choice never takes a header known by name, nor its field)."""
    found = {}
    for index, value in enumerate(row.values):
        key = matcher.key_of(value)
        if key and key not in found:
            found[key] = index
    if matcher.chosen:
        for index, value in enumerate(row.values):
            if value is None or index in found.values() or matcher.key_of(value):
                continue
            # (by the header as kept: at most HEADER_SHOWN characters)
            key = matcher.chosen.get(normalise(str(value).strip()[:HEADER_SHOWN]))
            if key and key not in found:
                found[key] = index
    return found


def find_header(rows, columns: tuple[Column, ...], choices=None) -> tuple[HeaderMap, list]:
    """Look through the first rows for the header; return it and the rows read past it.

    The header is the row matching the most known headers among the first 20 rows; any
    required column it lacks is named (MissingColumns). `choices(headers)` gives what a
    user said the header row's columns hold, asked before the known names.
    """
    matcher = Matcher(columns)
    best, best_row, seen = None, None, []
    for row in rows:
        seen.append(row)
        found = _matched(matcher, row)
        if found and (best is None or len(found) > len(best)):
            best, best_row = found, row
        if len(seen) >= HEADER_SEARCH_ROWS:
            break
    if best_row is None:
        # No known header at all: the first row of words is the header the user may map.
        best_row = next(
            (
                row
                for row in seen
                if sum(isinstance(value, str) and bool(value.strip()) for value in row.values) >= 2
            ),
            None,
        )
        best = {} if best_row is not None else None
    written_row = (
        [str(value).strip()[:HEADER_SHOWN] for value in best_row.values if value not in (None, "")]
        if best_row is not None
        else []
    )
    chosen = choices(written_row) if choices and written_row else None
    if chosen:
        matcher = Matcher(columns, chosen)
        best = _matched(matcher, best_row)
    ignored = {normalise(h) for h, key in (chosen or {}).items() if not key}
    ignored -= {normalise(value) for value in written_row if matcher.key_of(value)}
    if best is None or (not best and not chosen and not written_row):
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
        written = [
            str(value).strip()[:HEADER_SHOWN]
            for index, value in enumerate(best_row.values)
            if value not in (None, "")
            and index not in best.values()
            and normalise(str(value).strip()[:HEADER_SHOWN]) not in ignored
        ]
        message = _(
            "Row %(row)s looks like the header, but the required column %(columns)s is missing.",
            row=best_row.number,
            columns=", ".join(f'"{c.label}"' for c in missing),
        )
        if written:
            message += " " + _(
                "Found: %(headers)s.", headers=", ".join(f"“{h}”" for h in written[:12])
            )
            guess = matcher.closest(missing[0], written)
            if guess:
                message += " " + _(
                    "Is “%(header)s” the %(label)s? Name it as in the template (Import page).",
                    header=guess,
                    label=str(missing[0].label).lower(),
                )
        raise MissingColumns(message, row=best_row.number, unknown=written[:UNKNOWN_KEPT])
    headers = {
        key: str(best_row.values[index]).strip()[:HEADER_SHOWN] for key, index in best.items()
    }
    unknown = [
        str(value).strip()[:HEADER_SHOWN]
        for index, value in enumerate(best_row.values)
        if value not in (None, "")
        and index not in best.values()
        and normalise(str(value).strip()[:HEADER_SHOWN]) not in ignored
    ][:UNKNOWN_KEPT]
    remaining = [row for row in seen if row.number > best_row.number]
    header = HeaderMap(best_row.number, best, headers, unknown, len(best_row.values))
    return header, remaining
