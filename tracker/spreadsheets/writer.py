"""Spreadsheets for managers: streamed (openpyxl write-only), so 100,000 rows use flat memory.

Every sheet has a bold frozen header, filters and widths that hold their dates and numbers;
dates are real dates in the programme's time zone, shown as 2026-12-06 (14:30); a sheet
asked in Arabic runs right to left; serials, IMEIs and codes are text, so Excel never turns
them into numbers; a text that a spreadsheet would run as a formula (= + - @, tab, return) is
written as an inert text cell; and characters XML cannot hold (control characters) are
dropped, so no stored value can break a file.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from flask_babel import get_locale
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from tracker.i18n import RTL
from tracker.i18n import lazy_gettext as _l
from tracker.jobs.services import advance
from tracker.text import xml_safe
from tracker.timezone import local_naive

PROGRESS_EVERY = 1000  # rows between two words to the job's progress
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
HEADER_FONT = Font(bold=True)
# How a date or a moment reads in any spreadsheet, and the width that shows it whole (a
# narrower column shows ### in LibreOffice and Excel).
FORMATS = {"date": ("yyyy-mm-dd", 11), "datetime": ("yyyy-mm-dd hh:mm", 17)}
HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")


@dataclass(frozen=True)
class ExportColumn:
    header: str
    width: int = 14
    kind: str = "text"  # text | number | date | datetime | value (number or text)


# The columns that more than one workbook shows, with one header and one width each: the
# device list, the allocation workbook and the donor report agree on what a tablet is.
COLUMNS = {
    "asset_tag": ExportColumn(_l("Asset tag"), 12),
    "serial": ExportColumn(_l("Serial number"), 20),
    "imei": ExportColumn(_l("IMEI"), 18),
    "model": ExportColumn(_l("Model"), 24),
    "donation": ExportColumn(_l("Donation"), 18),
    "state": ExportColumn(_l("State"), 12),
    "school_code": ExportColumn(_l("School code"), 12),
    "school": ExportColumn(_l("School"), 34),
    "region": ExportColumn(_l("Region"), 24),
    "delivered_on": ExportColumn(_l("Delivered on"), 18, "datetime"),
    "received_by": ExportColumn(_l("Received by"), 24),
    "role": ExportColumn(_l("Role"), 20),
    "proof": ExportColumn(_l("Proof of delivery"), 14),
}


def columns(*keys: str) -> list[ExportColumn]:
    """The shared columns named by `keys`, in that order."""
    return [COLUMNS[key] for key in keys]


def inert(sheet, value: str):
    """A text cell that no spreadsheet will evaluate, even after the user edits it."""
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    cell.quotePrefix = True  # Excel keeps the cell text when it is edited again
    return cell


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS) or text.lstrip(" ").startswith(FORMULA_TRIGGERS)


def new_workbook() -> Workbook:
    return Workbook(write_only=True)


def write_sheet(
    workbook: Workbook,
    title: str,
    columns: list[ExportColumn],
    rows: Iterable[tuple],
    percent_columns: tuple[int, ...] = (),
) -> int:
    """Append one sheet; returns the number of data rows written."""
    sheet = workbook.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    if str(get_locale() or "") in RTL:
        sheet.sheet_view.rightToLeft = True  # an Arabic reader's sheet starts at the right
    for index, column in enumerate(columns, start=1):
        width = max(column.width, FORMATS[column.kind][1] if column.kind in FORMATS else 0)
        sheet.column_dimensions[get_column_letter(index)].width = width
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=str(column.header))
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        header.append(cell)
    sheet.append(header)
    text_columns = [i for i, c in enumerate(columns) if c.kind == "text"]
    # "value": numbers stay numbers, text is still made inert.
    value_columns = [i for i, c in enumerate(columns) if c.kind == "value"]
    time_columns = [i for i, c in enumerate(columns) if c.kind in FORMATS]
    count = 0
    for row in rows:
        # What XML cannot hold is dropped: an old value in the history may carry it.
        values = [xml_safe(value) for value in row]
        for i in text_columns:
            value = values[i]
            if value is None:
                continue
            text = value if isinstance(value, str) else str(value)
            values[i] = inert(sheet, text) if is_formula_like(text) else text
        for i in value_columns:
            if isinstance(values[i], str) and is_formula_like(values[i]):
                values[i] = inert(sheet, values[i])
            elif isinstance(values[i], date):  # a date among figures: a date, not text
                values[i] = WriteOnlyCell(sheet, value=values[i])
                values[i].number_format = FORMATS["date"][0]
        for i in percent_columns:
            if values[i] is not None:
                cell = WriteOnlyCell(sheet, value=values[i])
                cell.number_format = "0%"
                values[i] = cell
        for i in time_columns:
            value = values[i]
            if isinstance(value, datetime) and value.tzinfo is not None:
                # Excel has no time zones: write the programme's local time.
                value = local_naive(value)
            if isinstance(value, date):
                values[i] = WriteOnlyCell(sheet, value=value)
                values[i].number_format = FORMATS[columns[i].kind][0]
        sheet.append(values)
        count += 1
        if count % PROGRESS_EVERY == 0:
            advance(PROGRESS_EVERY)
    advance(count % PROGRESS_EVERY)
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A1:{last}{count + 1}"
    return count


def save(workbook: Workbook, path: Path) -> None:
    workbook.save(path)


__all__ = ["ExportColumn", "inert", "new_workbook", "save", "write_sheet"]
