"""The field manifest workbook: for teams that deliver on paper or in Excel.

Exported with one row per tablet on the delivery, a Received yes/no dropdown, a reason
dropdown, a remark, and the hand-over columns. Read back by `import_manifest.py`.
"""

from pathlib import Path

import sqlalchemy as sa
from flask_babel import get_locale
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from tracker.auth.models import User
from tracker.database import as_id
from tracker.deliveries.models import UNDER_WAY, Delivery
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.schools.reach import reach_of
from tracker.spreadsheets.headers import Column
from tracker.spreadsheets.importers import as_text
from tracker.spreadsheets.writer import HEADER_FILL, HEADER_FONT, is_formula_like
from tracker.text import xml_safe

MANIFEST_COLUMNS = (
    Column("delivery", ("delivery", "livraison", "n° livraison", "التسليم"), True, _l("Delivery")),
    Column(
        "school_code",
        ("school code", "code école", "code ecole", "رمز المؤسسة"),
        False,
        _l("School code"),
    ),
    Column("school", ("school", "école", "établissement", "المؤسسة"), False, _l("School")),
    Column(
        "asset_tag",
        ("asset tag", "étiquette", "n° d'inventaire", "رقم الجرد"),
        True,
        _l("Asset tag"),
    ),
    Column(
        "serial",
        ("serial", "serial number", "n° de série", "الرقم التسلسلي"),
        False,
        _l("Serial number"),
    ),
    Column("imei", ("imei",), False, _l("IMEI")),
    Column("model", ("model", "modèle", "الطراز"), False, _l("Model")),
    Column("received", ("received", "reçu", "recu", "تم الاستلام"), True, _l("Received (yes/no)")),
    Column(
        "reason",
        ("if not, why", "reason", "motif", "si non, pourquoi", "السبب"),
        False,
        _l("If not received, why"),
    ),
    Column("remark", ("remark", "remarque", "observation", "ملاحظة"), False, _l("Remark")),
    Column(
        "recipient_name", ("received by", "reçu par", "المستلم"), False, _l("Received by (name)")
    ),
    Column("recipient_role", ("role", "fonction", "الصفة"), False, _l("Role")),
    Column(
        "received_on",
        ("date received", "date de réception", "تاريخ الاستلام"),
        False,
        _l("Date received"),
    ),
)
YES = {"yes", "y", "oui", "o", "x", "1", "true", "vrai", "نعم"}
NO = {"no", "n", "non", "0", "false", "faux", "لا"}
REASON_WORDS = {
    "missing": {
        "missing",
        "manquant",
        "manquante",
        "absent",
        "مفقود",
        "مفقودة",
        "missing from the box",
    },
    "damaged": {"damaged", "endommagé", "endommagée", "cassé", "abîmé", "تالف", "تالفة"},
    "refused": {"refused", "refusé", "refusée", "مرفوض", "مرفوضة", "refused by the school"},
}
TEXT_KEYS = {"delivery", "school_code", "asset_tag", "serial", "imei"}
# What the dropdowns offer, in the reader's language (each is also accepted by the import).
ANSWER_WORDS = {"fr": ("oui", "non"), "ar": ("نعم", "لا"), "en": ("yes", "no")}
REASON_CHOICES = {
    "fr": ("manquante", "endommagée", "refusée"),
    "ar": ("مفقود", "تالف", "مرفوض"),
    "en": ("missing", "damaged", "refused"),
}
ROWS_WITH_DROPDOWNS = 5000
INSTRUCTIONS = [
    _l("How to fill in the manifest"),
    _l(
        "One row per tablet. Keep the header row and the Delivery and Asset tag columns "
        "as they are."
    ),
    _l("Received: yes when the tablet was handed over, no when it was not."),
    _l("If not received, why: missing (not in the box), damaged, or refused by the school."),
    _l("Received by, Role and Date received: write them on the first row of each delivery."),
    _l("Upload the file on the Import page (What the file lists: Filled delivery manifest)."),
    _l("A delivery whose Received column is left empty is skipped: it can be sent later."),
]


def parse_reference(value) -> int | None:
    text = as_text(value).upper().removeprefix("DEL-").removeprefix("DEL").strip(" -#")
    return as_id(text)


def manifest_deliveries(*, delivery_id: int | None = None, agent: User | None = None):
    query = sa.select(Delivery).order_by(Delivery.planned_on, Delivery.id)
    if delivery_id is not None:
        query = query.where(Delivery.id == delivery_id)
    if agent is not None:
        query = query.where(
            Delivery.assigned_to_id == agent.id,
            Delivery.status.in_(UNDER_WAY),
            reach_of(agent).schools_clause(Delivery.school_id),  # their part of the programme
        )
    return list(db.session.scalars(query))


def export_manifest(path: Path, deliveries: list[Delivery]) -> int:
    """Write the manifest of `deliveries`; returns the number of tablet rows."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Manifest")
    labels = [str(column.label) for column in MANIFEST_COLUMNS]
    widths = (12, 12, 34, 12, 20, 18, 24, 12, 20, 24, 24, 18, 14)
    for index, (label, width) in enumerate(zip(labels, widths, strict=True), start=1):
        header = sheet.cell(row=1, column=index, value=label)
        header.font, header.fill = HEADER_FONT, HEADER_FILL
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    language = str(get_locale() or "en") if str(get_locale()) in ANSWER_WORDS else "en"
    yes, no = ANSWER_WORDS[language]
    reasons = dict(zip(("missing", "damaged", "refused"), REASON_CHOICES[language], strict=True))
    count = 0
    for delivery in deliveries:
        for item in delivery.items:
            if item.status == "removed":
                continue
            device = item.device
            values = [
                delivery.reference,
                delivery.school.code,
                delivery.school.name_fr,
                device.asset_tag,
                device.serial,
                device.imei or "",
                device.model,
                yes if item.status == "delivered" else None,
                reasons.get(item.status),
            ]
            count += 1
            for index, value in enumerate(values, start=1):
                value = xml_safe(value)
                target = sheet.cell(row=count + 1, column=index, value=value)
                if isinstance(value, str) and is_formula_like(value):
                    target.data_type, target.quotePrefix = "s", True
                if MANIFEST_COLUMNS[index - 1].key in TEXT_KEYS:
                    target.number_format = "@"
    last = max(count + 1, 2) + ROWS_WITH_DROPDOWNS
    received = DataValidation(
        type="list",
        formula1=f'"{yes},{no}"',
        allow_blank=True,
        showErrorMessage=True,
        error=f"{yes} / {no}",
    )
    reason = DataValidation(
        type="list",
        formula1='"' + ",".join(reasons.values()) + '"',
        allow_blank=True,
        showErrorMessage=True,
        error=" / ".join(reasons.values()),
    )
    received.add(f"H2:H{last}")
    reason.add(f"I2:I{last}")
    sheet.add_data_validation(received)
    sheet.add_data_validation(reason)
    for row in range(2, count + 2):
        sheet[f"M{row}"].number_format = "yyyy-mm-dd"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(labels))}{count + 1}"
    notes = workbook.create_sheet(_("Instructions"))
    notes.column_dimensions["A"].width = 110
    for line in INSTRUCTIONS:
        notes.append([str(line)])
    notes["A1"].font = Font(bold=True, size=13)
    workbook.save(path)
    return count
