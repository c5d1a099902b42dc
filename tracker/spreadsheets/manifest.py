"""The field manifest workbook: for teams that deliver on paper or in Excel.

Exported with one row per tablet on the delivery, a Received yes/no dropdown, a reason
dropdown, a remark, and the hand-over columns. Imported back through the spreadsheet
engine (all or nothing), each filled delivery is confirmed by `handover.confirm_handover`,
the same service as the scan screen.
"""

from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from flask_babel import get_locale
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from tracker.auth.models import User
from tracker.deliveries.handover import ON_BOARD, confirm_handover, handover_problems
from tracker.deliveries.models import HANDED_OVER, UNDER_WAY, Delivery
from tracker.deliveries.services import DELIVERY_STATES, why_not_here
from tracker.devices.models import Device
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.spreadsheets.headers import Column
from tracker.spreadsheets.importers import Problem, RowImporter, as_text, cell
from tracker.spreadsheets.writer import HEADER_FILL, HEADER_FONT, is_formula_like
from tracker.text import xml_safe
from tracker.timezone import at_local

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
    return int(text) if text.isdigit() else None


def manifest_deliveries(*, delivery_id: int | None = None, agent: User | None = None):
    query = sa.select(Delivery).order_by(Delivery.planned_on, Delivery.id)
    if delivery_id is not None:
        query = query.where(Delivery.id == delivery_id)
    if agent is not None:
        query = query.where(
            Delivery.assigned_to_id == agent.id,
            Delivery.status.in_(UNDER_WAY),
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


def _reason(value) -> str | None:
    word = as_text(value).strip().casefold()
    for reason, words in REASON_WORDS.items():
        if word in words:
            return reason
    return None


def _moment(value) -> datetime | None:
    """The hand-over time from a date cell: noon that day where the programme is."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(as_text(value)[:10])
        except ValueError:
            return None
    return at_local(day, 12)


class ManifestImporter(RowImporter):
    """Rows of filled manifests, grouped per delivery; written once every row was read."""

    kind = "manifest"
    columns = MANIFEST_COLUMNS

    def __init__(self, actor: User | None):
        super().__init__()
        self.actor = actor
        self.deliveries: dict[int, dict] = {}
        self.header = None

    def _problem(self, report, row, key, value, reason):
        report.add_problem(
            Problem(
                row.number,
                self.header.headers.get(key, ""),
                as_text(value),
                reason,
                self.header.positions.get(key),
            )
        )

    def process(self, rows, header, report, write):
        self.header = header
        for row in rows:
            values = {column.key: cell(row, header, column.key) for column in MANIFEST_COLUMNS}
            before = report.problem_count
            delivery_id = parse_reference(values["delivery"])
            delivery = db.session.get(Delivery, delivery_id) if delivery_id else None
            if delivery is None:
                self._problem(report, row, "delivery", values["delivery"], _("no such delivery"))
                report.rejected_rows += 1
                continue
            answer = as_text(values["received"]).strip().casefold()
            group = self.deliveries.setdefault(
                delivery.id,
                {
                    "first_row": row.number,
                    "received": set(),
                    "reasons": {},
                    "rows": {},
                    "name": "",
                    "role": "",
                    "when": None,
                    "filled": False,
                    "remarks": [],
                },
            )
            if answer:
                group["filled"] = True
            for key in ("recipient_name", "recipient_role"):
                text = as_text(values[key]).strip()
                slot = "name" if key == "recipient_name" else "role"
                if text and not group[slot]:
                    group[slot] = text
            group["when"] = group["when"] or _moment(values["received_on"])
            if as_text(values["remark"]).strip():
                group["remarks"].append(
                    f"{as_text(values['asset_tag'])}: {as_text(values['remark'])}"
                )
            tag = as_text(values["asset_tag"]).strip()
            device = db.session.scalar(sa.select(Device).where(Device.asset_tag == tag))
            if device is None:
                self._problem(report, row, "asset_tag", tag, _("no tablet has this asset tag"))
            else:
                item = next((i for i in delivery.items if i.device_id == device.id), None)
                if answer and delivery.status in HANDED_OVER:
                    self._problem(
                        report,
                        row,
                        "delivery",
                        values["delivery"],
                        _(
                            "%(ref)s was already handed over (%(how)s)",
                            ref=delivery.reference,
                            how=_("scanned")
                            if delivery.handover_via == "screen"
                            else _("imported"),
                        ),
                    )
                elif answer and delivery.status not in DELIVERY_STATES["hand_over"]:
                    self._problem(
                        report,
                        row,
                        "delivery",
                        values["delivery"],
                        _("%(ref)s has not been dispatched", ref=delivery.reference),
                    )
                elif item is None or (answer and item.status not in ON_BOARD):
                    self._problem(report, row, "asset_tag", tag, why_not_here(delivery, device))
                elif answer in YES:
                    group["received"].add(device.id)
                elif answer in NO:
                    reason = _reason(values["reason"])
                    if reason is None:
                        self._problem(
                            report,
                            row,
                            "reason",
                            values["reason"],
                            _("say missing, damaged or refused"),
                        )
                    else:
                        group["reasons"][device.id] = reason
                elif answer:
                    self._problem(report, row, "received", values["received"], _("write yes or no"))
                if device is not None:
                    group["rows"][device.id] = row.number
            if report.problem_count > before:
                report.rejected_rows += 1

    def finish(self, report, write):
        """Check each filled delivery as a whole, then confirm it (when writing)."""
        for delivery_id, group in self.deliveries.items():
            if not group["filled"]:
                report.unchanged += len(group["rows"])
                continue
            delivery = db.session.get(Delivery, delivery_id)
            if delivery.status not in DELIVERY_STATES["hand_over"]:
                continue  # already reported row by row
            first = group["first_row"]
            on_board = {i.device_id: i for i in delivery.items if i.status in ON_BOARD}
            problems = handover_problems(
                list(on_board),
                tag_of=lambda device_id, on_board=on_board: on_board[device_id].device.asset_tag,
                received=group["received"],
                reasons=group["reasons"],
                name=group["name"],
                role=group["role"],
                signed=True,  # on paper
            )
            for problem in problems:
                key = problem.field if problem.field.startswith("recipient") else "received"
                report.add_problem(
                    Problem(
                        group["rows"].get(problem.device_id, first),
                        self.header.headers.get(key, ""),
                        "",
                        f"{delivery.reference}: {problem.message}",
                        self.header.positions.get(key),
                    )
                )
                report.rejected_rows += 1
            report.updated += len(group["received"]) + len(group["reasons"])
        if not (write and report.ok):
            return
        for delivery_id, group in self.deliveries.items():
            if not group["filled"]:
                continue
            confirm_handover(
                delivery_id,
                actor=self.actor,
                recipient_name=group["name"],
                recipient_role=group["role"],
                received=group["received"],
                reasons=group["reasons"],
                notes="\n".join(group["remarks"]),
                via="manifest",
                handed_over_at=group["when"],
            )
