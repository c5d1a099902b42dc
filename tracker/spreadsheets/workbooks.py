"""Workbooks made for people to fill in or to fix: blank templates and the problem report."""

from collections import defaultdict
from pathlib import Path

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.i18n import said
from tracker.schools.models import School
from tracker.spreadsheets.import_devices import DEVICE_COLUMNS
from tracker.spreadsheets.import_schools import SCHOOL_COLUMNS
from tracker.spreadsheets.readers import iter_rows, sniff
from tracker.spreadsheets.writer import HEADER_FILL, HEADER_FONT, inert, is_formula_like
from tracker.text import xml_safe

TEMPLATE_ROWS = 2000  # rows given dropdowns and text formats
BAD_FILL = PatternFill("solid", fgColor="F8C9C4")

DEVICE_EXAMPLE = [
    "AGR9X20C14000013",
    "867815041000376",
    "Huawei MatePad T10 (AGR-L09)",
    "new",
    "Carton 1",
    "",
]
SCHOOL_EXAMPLE = [
    "01001A",
    "École primaire Ibn Khaldoun",
    "مدرسة ابن خلدون الابتدائية",
    "Tanger-Tétouan-Al Hoceïma",
    "Tanger-Assilah",
    "Tanger",
    "12 rue Al Amal",
    35.76,
    -5.83,
    "Ahmed Benali",
    "+212 661 23 45 67",
    640,
    25,
]
INSTRUCTIONS = {
    "devices": [
        _l("How to fill in the Devices sheet"),
        _l("One row per tablet. Keep the header row; columns may be in any order."),
        _l(
            "Serial number is required. IMEI is optional: 15 digits; type it as text, never "
            "as a number."
        ),
        _l("Condition: new, good, fair or damaged (the cell offers a list). Empty means new."),
        _l("Donation: leave empty to use the donation chosen at upload, or give its reference."),
        _l(
            "Headers may also be written in French or Arabic (N° de série, Modèle, "
            "الرقم التسلسلي ...)."
        ),
        _l(
            "Upload the file on the Import page, check the preview, then import: if any row "
            "has a problem, nothing is imported and each problem is listed with its row."
        ),
        "",
        _l("Example row:"),
    ],
    "schools": [
        _l("How to fill in the Schools sheet"),
        _l("One row per school. Keep the header row; columns may be in any order."),
        _l(
            "School code, French name and Region are required. A code already in the tracker "
            "updates that school; only the columns in the file are changed."
        ),
        _l("Latitude and longitude in decimal degrees (33.57 and -7.59 for Casablanca)."),
        _l("Pupils enrolled and Tablets needed are whole numbers."),
        _l(
            "Headers may also be written in French or Arabic (Code établissement, Besoin, "
            "الجهة ...)."
        ),
        "",
        _l("Example row:"),
    ],
}


def _header(sheet, labels):
    for index, label in enumerate(labels, start=1):
        cell = sheet.cell(row=1, column=index, value=label)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        sheet.column_dimensions[get_column_letter(index)].width = max(14, len(label) + 4)
    sheet.freeze_panes = "A2"


def template_workbook(kind: str, path: Path) -> None:
    """A blank workbook to fill in: headers, formats and dropdowns, and an Instructions sheet."""
    columns = DEVICE_COLUMNS if kind == "devices" else SCHOOL_COLUMNS
    labels = [str(column.label) for column in columns]
    keys = [column.key for column in columns]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Devices") if kind == "devices" else _("Schools")
    _header(sheet, labels)
    text_keys = {"serial", "imei", "code", "contact_phone"}
    for index, column in enumerate(columns, start=1):
        if column.key in text_keys:
            letter = get_column_letter(index)
            for row in range(2, TEMPLATE_ROWS + 2):
                sheet[f"{letter}{row}"].number_format = "@"
    if kind == "devices":
        choices = DataValidation(
            type="list",
            formula1='"new,good,fair,damaged"',
            allow_blank=True,
            showErrorMessage=True,
            error="Choose new, good, fair or damaged.",
        )
        letter = get_column_letter(keys.index("condition") + 1)
        choices.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
        sheet.add_data_validation(choices)
    else:
        regions = db.session.scalars(sa.select(School.region).distinct().order_by(School.region))
        names = [name for name in regions if name and "," not in name and '"' not in name]
        if names and len(",".join(names)) < 250:  # Excel's limit for an inline list
            suggest = DataValidation(
                type="list",
                formula1='"' + ",".join(names) + '"',
                allow_blank=True,
                showErrorMessage=False,
            )
            letter = get_column_letter(keys.index("region") + 1)
            suggest.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
            sheet.add_data_validation(suggest)
    notes = workbook.create_sheet(_("Instructions"))
    notes.column_dimensions["A"].width = 110
    for line in INSTRUCTIONS[kind]:
        notes.append([str(line)])
    notes["A1"].font = Font(bold=True, size=13)
    notes.append(labels)
    notes.append(DEVICE_EXAMPLE if kind == "devices" else SCHOOL_EXAMPLE)
    workbook.save(path)


MAX_CELL = 2_000


def problems_workbook(upload: Path, header_row: int, problems: list[dict], out: Path) -> None:
    """The uploaded rows from the header on, bad cells highlighted, a Problems column last.

    Fix the cells in this workbook and upload it again: the extra column is ignored.
    """
    by_row = defaultdict(list)
    for problem in problems:
        by_row[problem["row"]].append(problem)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Rows to fix")[:31])  # Excel's limit for a sheet's name
    sheet.freeze_panes = "A2"
    width = columns = 0
    for row in iter_rows(upload, sniff(upload), max_rows=10_000_000):
        if row.number < header_row:
            continue
        values = [_safe(sheet, value) for value in row.values]
        width = max(width, len(values))
        if row.number == header_row:
            header = [
                value if isinstance(value, Cell) else WriteOnlyCell(sheet, value=value)
                for value in values
            ]
            for cell in header:
                cell.font, cell.fill = HEADER_FONT, HEADER_FILL
            sheet.append([*header, WriteOnlyCell(sheet, value=_("Problems"))])
            columns = len(values)
            continue
        found = by_row.get(row.number, [])
        bad = {p["column_index"] for p in found if p.get("column_index") is not None}
        cells = []
        for index, value in enumerate(values):
            cell = value if isinstance(value, Cell) else WriteOnlyCell(sheet, value)
            if index in bad:
                cell.fill = BAD_FILL
            cells.append(cell)
        text = "; ".join(
            f"{p['column']}: {said(p['reason'])}" if p["column"] else said(p["reason"])
            for p in found
        )
        # A row that stops short of the header's last column still gets its problems in
        # the Problems column, never in a data column.
        cells += [None] * (columns - len(cells))
        told = _("row %(row)s: %(problems)s", row=row.number, problems=text) if text else None
        sheet.append([*cells, xml_safe(told)])
    workbook.save(out)


def _safe(sheet, value):
    value = xml_safe(value)
    if isinstance(value, str) and len(value) > MAX_CELL:
        value = value[: MAX_CELL - 1] + "…"  # one huge cell must not make a huge workbook
    if isinstance(value, str) and is_formula_like(value):
        return inert(sheet, value)
    return value
