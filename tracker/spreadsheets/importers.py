"""The import engine shared by devices, schools (and later delivery manifests).

One pass over the file, in chunks: every row is cleaned and checked (inside the file and
against the database); while no row has been rejected, each chunk's new and changed rows
are written. The caller owns the transaction: it commits only when the report has no
rejected row, so an import is all or nothing, and a preview writes nothing at all.
"""

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import chain, islice
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import kept, ngettext
from tracker.spreadsheets.headers import (
    Column,
    HeaderMap,
    MissingColumns,
    find_header,
    header_digest,
)
from tracker.spreadsheets.models import ColumnChoice, ImportBatch
from tracker.spreadsheets.readers import SheetRow, iter_rows, sniff

CHUNK = 2000
# Beyond this only the count grows, so memory and what a batch stores stay bounded.
MAX_KEPT_PROBLEMS = 1_000
QUOTED = 80  # a rejected value is quoted at most this long in the report


def quote(value: str) -> str:
    """A rejected value as the report shows it: cut short, so a huge cell stays small."""
    return value if len(value) <= QUOTED else value[: QUOTED - 1] + "…"


@dataclass
class Problem:
    row: int
    column: str  # the header as written in the file; empty for the whole row
    value: str
    reason: str
    column_index: int | None = None

    def __post_init__(self):
        self.column = quote(self.column or "")
        self.value = quote(self.value or "")
        if len(self.reason) > 300:  # (a sentence of ours is shorter: it stays what it says)
            self.reason = self.reason[:300]

    def __str__(self) -> str:
        if self.column:
            return _(
                "row %(row)s, %(column)s '%(value)s': %(reason)s",
                row=self.row,
                column=self.column,
                value=self.value,
                reason=self.reason,
            )
        return _("row %(row)s: %(problems)s", row=self.row, problems=self.reason)

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "reason": kept(self.reason),
            "column_index": self.column_index,
        }


@dataclass
class ImportReport:
    kind: str
    filename: str
    committed: bool = False
    rows_read: int = 0
    new: int = 0
    unchanged: int = 0
    updated: int = 0
    rejected_rows: int = 0
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    skipped_rows: list[int] = field(default_factory=list)  # totals lines, not data
    # Said in the preview without refusing a row: {"code": ..., "column": ..., "rows": ...}
    warnings: list[dict] = field(default_factory=list)
    header_row: int = 0
    batch_id: int | None = None
    header_digest: str = ""  # names the header row (the user's choices are kept under it)
    # What the check read each field from ({header as written: field key}), the user's
    # choices it applied (frozen for the commit) and whether they were an earlier file's.
    columns_read: dict = field(default_factory=dict)
    columns_chosen: dict = field(default_factory=dict)
    remembered: bool = False
    # An opening balance's places (opening.Places.summary): shown before anything is written.
    places: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.rejected_rows == 0

    def add_problem(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_KEPT_PROBLEMS:
            self.problems.append(problem)

    def summary(self) -> str:
        return _(
            "%(read)s rows read: %(new)s new, %(updated)s updated, %(unchanged)s unchanged, "
            "%(rejected)s rejected.",
            read=self.rows_read,
            new=self.new,
            updated=self.updated,
            unchanged=self.unchanged,
            rejected=self.rejected_rows,
        )


class RowImporter:
    """One kind of import: its columns, and how a chunk of rows is checked and written."""

    kind: str = ""
    columns: tuple[Column, ...] = ()

    def __init__(self):
        # What the user said the file's columns hold ({header: field key or ""}), if they
        # did for this file; else what was said for a file with the same headers.
        self.chosen: dict[str, str] | None = None
        self.digest = ""
        self.remembered = False  # the choices came from an earlier file with these headers
        # value -> the first row that had it, per kind ("serial", "imei"): about 100 bytes a
        # value, so 20 MB for a 100,000-row file of serials and IMEIs (IMPORT_MAX_ROWS
        # bounds it); a lookup costs 50 ns where the temporary SQLite index it replaces
        # cost 3 µs and a second of a 100,000-row import.
        self.seen: dict[str, dict[str, int]] = {}

    def process(
        self, rows: list[SheetRow], header: HeaderMap, report: ImportReport, write: bool
    ) -> None:
        raise NotImplementedError

    def column_choices(self, headers: list[str]) -> dict[str, str] | None:
        """What a user said this header row's columns hold (`find_header` asks it)."""
        self.digest = header_digest(headers)
        if self.chosen is None:
            self.chosen = (
                db.session.scalar(
                    sa.select(ColumnChoice.choices).where(
                        ColumnChoice.kind == self.kind, ColumnChoice.headers == self.digest
                    )
                )
                or {}
            )
            self.remembered = bool(self.chosen)
        return self.chosen

    def finish(self, report: ImportReport, write: bool) -> None:
        """After the last chunk: checks that need every row (a delivery's rows together)."""

    def header_warnings(self, header: HeaderMap) -> list[dict]:
        """What the header alone says is worth a warning (a school list without needs)."""
        return []

    def close(self) -> None:
        self.seen.clear()

    def repeats(self, kind: str, keyed: list[tuple[int, str | None]]) -> dict[int, int]:
        """For (row, value) pairs in file order: {row: the earlier row with the same value}.

        First occurrences are remembered for the chunks that follow.
        """
        seen = self.seen.setdefault(kind, {})
        repeats = {}
        for row, value in keyed:
            if value:
                first = seen.setdefault(value, row)
                if first != row:
                    repeats[row] = first
        return repeats


def _blank(row: SheetRow) -> bool:
    return all(
        value is None or (isinstance(value, str) and not value.strip()) for value in row.values
    )


TOTAL_WORDS = re.compile(
    r"^\s*(sous[-\s]?)?(total|totaux|grand\s+total|sum|subtotal)\b|^\s*(ال)?(مجموع|إجمالي|اجمالي)",
    re.I,
)


def required_positions(header: HeaderMap, columns: tuple[Column, ...]) -> list[int]:
    """Where the required columns are in the file's rows."""
    return [header.positions[c.key] for c in columns if c.required and c.key in header.positions]


def holds_data(values: tuple, required: list[int]) -> bool:
    """The common case, said at once: a required cell holds something other than a totals
    word, so the row is neither blank nor a totals line."""
    width = len(values)
    for index in required:
        if index < width:
            value = values[index]
            if value is not None and not (
                isinstance(value, str) and (not value.strip() or TOTAL_WORDS.search(value))
            ):
                return True
    return False


def is_totals(row: SheetRow, required: list[int]) -> bool:
    """A totals line under (or inside) the table: "TOTAL", "Total général", "المجموع" in one
    of its cells with nothing in the required columns (at `required`) but that word, or only
    numbers while every required column is empty."""
    if holds_data(row.values, required):
        return False
    filled = [(index, value) for index, value in enumerate(row.values) if not _empty(value)]
    if not filled:
        return False
    worded = [i for i, value in filled if isinstance(value, str) and TOTAL_WORDS.search(value)]
    if worded:
        return all(i in worded or i not in required for i, _value in filled)
    numbers_only = all(
        isinstance(value, int | float) and not isinstance(value, bool) for _i, value in filled
    )
    return numbers_only and all(i not in required for i, _value in filled)


def lost_text(value) -> bool:
    """Text whose letters became question marks when the file was saved in an encoding
    without them ("???? ?????" for "مدرسة الأمل" in a Windows-1252 CSV)."""
    marks = value.count("?")
    return marks >= 2 and marks * 2 >= len(value) - value.count(" ")


class LostText:
    """Which columns hold text that lost its letters, and on which rows first.

    Saving in the wrong encoding loses every such letter of the file, so the first rows
    tell: only the first SAMPLE rows are looked at (a 100,000-row import would otherwise
    spend a quarter of a second on it)."""

    SAMPLE = 2000

    def __init__(self):
        self.rows: dict[int, list[int]] = {}
        self.looked = 0

    def look(self, row: SheetRow) -> None:
        if self.looked >= self.SAMPLE:
            return
        self.looked += 1
        for index, value in enumerate(row.values):
            if type(value) is str and "??" in value and lost_text(value):
                found = self.rows.setdefault(index, [])
                if len(found) < 5:
                    found.append(row.number)

    def warnings(self, header: HeaderMap) -> list[dict]:
        names = {position: header.headers[key] for key, position in header.positions.items()}
        return [
            {"code": "lost_text", "column": names.get(index, ""), "rows": rows}
            for index, rows in sorted(self.rows.items())
        ]


def warning_text(warning: dict) -> str:
    """A preview's warning in the reader's words (the page and the command line)."""
    code = warning.get("code")
    if code == "lost_text":
        return _(
            "The text in column “%(column)s” was lost when this file was saved: it reads "
            "“???” (rows %(rows)s). Save the file as “CSV UTF-8” or as .xlsx and send it "
            "again.",
            column=warning.get("column") or "?",
            rows=", ".join(str(row) for row in warning.get("rows", [])),
        )
    if code == "no_need" and warning.get("enrolment"):
        return _(
            "The list has no need column: new schools get a need of 0 and a plan by need "
            "gives them nothing. Keep the needs the tracker has, or set each school's need "
            "from its pupils below."
        )
    if code == "no_need":
        return _(
            "The list has no need column: new schools get a need of 0 and a plan by need "
            "gives them nothing. Add a need column, or share the plan by pupils."
        )
    return str(code)


def report_lines(report: ImportReport) -> list[str]:
    """What the preview page shows beside the problems, as lines for the command line:
    the totals lines skipped, the columns ignored, where the tablets go, the places no
    school matched."""
    lines = []
    if report.skipped_rows:
        lines.append(
            ngettext(
                "Row %(rows)s looks like a totals line: it was skipped, not imported.",
                "Rows %(rows)s look like totals lines: they were skipped, not imported.",
                len(report.skipped_rows),
                rows=", ".join(str(row) for row in report.skipped_rows[:20]),
            )
        )
    if report.unknown_columns:
        lines.append(
            _("Columns ignored (not known): %(names)s", names=", ".join(report.unknown_columns))
        )
    places = report.places
    if places.get("tablets"):
        lines.append(
            ngettext(
                "Tablets by school (%(num)s school): %(first)s",
                "Tablets by school (%(num)s schools): %(first)s",
                places["schools"],
                first=", ".join(f"{row[0]} {row[-1]}" for row in places["placed"][:10])
                + (" …" if places["schools"] > 10 else ""),
            )
        )
    for place in places.get("unmatched", []):
        rows = ", ".join(str(row) for row in place["rows"])
        if place["closest"]:
            lines.append(
                _(
                    "No school matches “%(place)s” (rows %(rows)s); the closest is %(school)s.",
                    place=place["place"],
                    rows=rows,
                    school=place["closest"],
                )
            )
        else:
            lines.append(
                _("No school matches “%(place)s” (rows %(rows)s).", place=place["place"], rows=rows)
            )
    return lines


def _empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _chunks(rows: Iterable[SheetRow], size: int):
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def run_import(
    importer: RowImporter,
    path: Path,
    filename: str,
    *,
    commit: bool,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Read, check and (when `commit` and every row is good) write one file.

    Raises UnusableFile when the file cannot be read as a table, ValidationFailed when its
    header cannot be found. Nothing is committed here.
    """
    report = ImportReport(kind=importer.kind, filename=filename)
    try:
        kind = sniff(path, filename)
        rows = iter_rows(path, kind, current_app.config.get("IMPORT_MAX_ROWS", 200_000))
        try:
            header, buffered = find_header(rows, importer.columns, importer.column_choices)
        except MissingColumns as missing:
            # The user may say which column is which: the preview offers them.
            report.header_row, report.header_digest = missing.row, importer.digest
            report.columns_chosen, report.remembered = importer.chosen or {}, importer.remembered
            report.unknown_columns = missing.unknown
            report.add_problem(Problem(missing.row, "", "", missing.reason))
            report.rejected_rows = 1
            return report
        report.header_digest = importer.digest
        report.columns_chosen, report.remembered = importer.chosen or {}, importer.remembered
        report.columns_read = {written: key for key, written in header.headers.items()}
        report.header_row = header.row_number
        report.unknown_columns = header.unknown
        required = required_positions(header, importer.columns)
        report.warnings = importer.header_warnings(header)
        lost = LostText()

        def data_rows():
            for row in chain(buffered, rows):
                lost.look(row)
                if holds_data(row.values, required):
                    yield row
                    continue
                if _blank(row):
                    continue
                if is_totals(row, required):
                    report.skipped_rows.append(row.number)
                    continue
                yield row

        data = data_rows()
        for chunk in _chunks(data, CHUNK):
            report.rows_read += len(chunk)
            importer.process(chunk, header, report, write=commit and report.ok)
            if progress:
                progress(len(chunk))
        importer.finish(report, write=commit and report.ok)
        report.warnings += lost.warnings(header)
    finally:
        importer.close()
    if report.rows_read == 0:
        report.add_problem(
            Problem(header.row_number, "", "", _("The table has a header but no rows under it."))
        )
        report.rejected_rows = 1
    report.committed = commit and report.ok
    report.problems.sort(key=lambda problem: (problem.row, problem.column_index or -1))
    return report


def record_batch(
    report: ImportReport,
    *,
    user_id: int | None,
    donation_id: int | None = None,
    batch: ImportBatch | None = None,
) -> ImportBatch:
    """Keep the import's outcome (who, when, counts, problems) as an ImportBatch."""
    if batch is None:
        batch = ImportBatch(kind=report.kind, filename=report.filename[:255])
        db.session.add(batch)
    batch.user_id = user_id
    batch.donation_id = donation_id
    batch.rows_read = report.rows_read
    batch.rows_accepted = report.new + report.updated + report.unchanged
    batch.state, batch.failure = "done", ""
    batch.rows_new, batch.rows_updated = report.new, report.updated
    batch.rows_unchanged = report.unchanged
    batch.header_row = report.header_row
    batch.problem_count = report.problem_count
    batch.unknown_columns = report.unknown_columns
    batch.skipped_rows = report.skipped_rows[:MAX_KEPT_PROBLEMS]
    batch.warnings = report.warnings
    batch.places = report.places
    batch.header_digest = report.header_digest
    batch.columns_read = report.columns_read
    batch.rows_rejected = report.rejected_rows
    batch.committed = report.committed
    batch.errors = [problem.as_dict() for problem in report.problems[:MAX_KEPT_PROBLEMS]]
    db.session.flush()
    report.batch_id = batch.id
    return batch


def cell(row: SheetRow, header: HeaderMap, key: str):
    """The raw value of field `key` in `row` (None when the column is absent or short)."""
    index = header.positions.get(key)
    if index is None or index >= len(row.values):
        return None
    return row.values[index]


def cells(row: SheetRow, header: HeaderMap, keys: tuple[str, ...]) -> list:
    """The raw values of fields `keys` in `row`, as `cell` gives each."""
    positions, values = header.positions, row.values
    width = len(values)
    found = []
    for key in keys:
        index = positions.get(key)
        found.append(values[index] if index is not None and index < width else None)
    return found


EXCEL_EPOCH = date(1899, 12, 30)
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%d/%m/%y")


def as_date(value) -> date | None:
    """A cell as a day: a date cell, an Excel day number left unformatted (45291), or text
    as written in Morocco (31/12/2027) or ISO (2027-12-31). None when empty; ValueError
    with the reason the report shows when it is not a day."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 20000 < value < 80000:
        return EXCEL_EPOCH + timedelta(days=int(value))  # 1954 to 2119
    text = as_text(value)
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(_("not a date: write it as 31/12/2027 or 2027-12-31"))


def add_months(day: date, months: int) -> date:
    """`day` plus `months` (a warranty's end): the 31st becomes the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def as_text(value) -> str:
    """A cell as trimmed text with inner spaces folded; numbers lose a trailing '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())
