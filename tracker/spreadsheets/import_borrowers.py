"""A school's class list: each row a pupil (or teacher) who may borrow a tablet. A known code
updates its borrower. The file is read and checked whole before any row is written
(`tracker.loans.services.save_class_list` writes them)."""

import io

from openpyxl import Workbook

from tracker.errors import ValidationFailed
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.loans.services import BORROWER_FIELDS, MAX_CLASS_LIST, clean_borrower, save_class_list
from tracker.spreadsheets.headers import Column
from tracker.spreadsheets.importers import Problem, RowImporter, as_text, cell

BORROWER_COLUMNS = (
    Column(
        "code",
        (
            "code",
            "pupil code",
            "student code",
            "code élève",
            "code eleve",
            "code massar",
            "massar",
            "numéro",
            "n°",
            "matricule",
            "رمز التلميذ",
            "رمز مسار",
            "مسار",
            "الرقم",
            "رقم التلميذ",
        ),
        required=True,
        label=_l("Borrower's code"),
    ),
    Column(
        "name",
        (
            "name",
            "full name",
            "pupil",
            "nom",
            "nom et prénom",
            "nom complet",
            "élève",
            "prénom et nom",
            "الاسم",
            "الاسم الكامل",
            "الاسم و النسب",
            "الاسم والنسب",
            "التلميذ",
        ),
        required=True,
        label=_l("Name"),
    ),
    Column(
        "class_name", ("class", "classe", "niveau", "groupe", "القسم", "الفصل"), label=_l("Class")
    ),
    Column(
        "kind",
        ("pupil or teacher", "kind", "type", "élève ou enseignant", "statut", "الصفة"),
        label=_l("Pupil or teacher"),
    ),
    Column(
        "guardian_name",
        (
            "guardian",
            "guardian's name",
            "parent",
            "tuteur",
            "nom du tuteur",
            "parent/tuteur",
            "responsable légal",
            "ولي الأمر",
            "اسم ولي الأمر",
        ),
        label=_l("Guardian's name"),
    ),
    Column(
        "guardian_phone",
        (
            "guardian's phone",
            "phone",
            "téléphone",
            "tél",
            "téléphone du tuteur",
            "tél. tuteur",
            "الهاتف",
            "هاتف ولي الأمر",
        ),
        label=_l("Guardian's phone"),
    ),
)


class BorrowerImporter(RowImporter):
    kind = "borrowers"
    columns = BORROWER_COLUMNS

    def __init__(self, school_id: int):
        super().__init__()
        self.school_id = school_id
        self.rows: list[dict] = []

    def process(self, rows, header, report, write):
        for row in rows:
            raw = {key: cell(row, header, key) for key in BORROWER_FIELDS}
            try:
                values = clean_borrower({key: as_text(value) for key, value in raw.items()})
            except ValidationFailed as error:
                key = error.field or ""
                report.rejected_rows += 1
                report.add_problem(
                    Problem(
                        row.number,
                        header.headers.get(key, ""),
                        as_text(raw.get(key)),
                        error.reason,
                        header.positions.get(key),
                    )
                )
                continue
            first = self.repeats("code", [(row.number, values["code"])]).get(row.number)
            if first:
                report.rejected_rows += 1
                report.add_problem(
                    Problem(
                        row.number,
                        header.headers["code"],
                        values["code"],
                        _("same code as row %(row)s", row=first),
                        header.positions["code"],
                    )
                )
                continue
            self.rows.append(values)
        if len(self.rows) > MAX_CLASS_LIST:
            raise ValidationFailed(_("At most %(n)s rows in one class list.", n=MAX_CLASS_LIST))

    def finish(self, report, write):
        if write and report.ok and self.rows:
            report.new, report.updated, report.unchanged = save_class_list(
                self.school_id, self.rows
            )


def class_list_template() -> bytes:
    """An empty class list with our headers, the code column as text."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Class list")
    sheet.append([str(column.label) for column in BORROWER_COLUMNS])
    for column in ("A", "F"):
        for row in range(2, 202):
            sheet[f"{column}{row}"].number_format = "@"
    for letter in "ABCDEF":
        sheet.column_dimensions[letter].width = 24
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
