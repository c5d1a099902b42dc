"""The papers of a delivery, as PDF (fpdf2): the delivery note that travels with the box,
and the receipt (proof of delivery) after the hand-over.

Arabic school names are shaped by HarfBuzz (uharfbuzz) so their letters join right to left.
"""

import io
from datetime import datetime

from flask import current_app
from flask_babel import format_datetime
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from tracker.deliveries.labels import DELIVERY_STATUS_LABELS, ITEM_STATUS_LABELS
from tracker.deliveries.models import Delivery
from tracker.labels.sheets import draw_qr
from tracker.paths import resource_dir

NEXT_LINE = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}


def as_file(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def delivery_url(delivery: Delivery) -> str:
    """What the QR on a delivery's papers opens: built from the configured base URL."""
    return f"{current_app.config['BASE_URL']}/deliveries/{delivery.id}"


class DeliveryPdf(FPDF):
    def __init__(self, title: str, delivery: Delivery):
        super().__init__(unit="mm", format="A4")
        self.title_text, self.delivery = title, delivery
        self.set_creator("tracker")
        self.set_title(f"{title} {delivery.reference}")
        fonts = resource_dir("static") / "vendor" / "fonts"
        self.add_font("Noto", "", fonts / "NotoSans_400Regular.ttf")
        self.add_font("Noto", "B", fonts / "NotoSans_700Bold.ttf")
        self.add_font("NotoArabic", "", fonts / "NotoSansArabic_400Regular.ttf")
        self.add_font("NotoArabic", "B", fonts / "NotoSansArabic_700Bold.ttf")
        self.set_fallback_fonts(["NotoArabic"])
        self.set_text_shaping(True)
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, 18)

    def header(self):
        self.set_font("Noto", "B", 16)
        self.cell(120, 8, self.title_text, **NEXT_LINE)
        self.set_font("Noto", "", 11)
        self.cell(120, 6, self.delivery.reference, **NEXT_LINE)
        if self.page_no() == 1:
            draw_qr(self, delivery_url(self.delivery), self.w - 15 - 28, 10, 28)
        self.ln(2)

    def footer(self):
        self.set_y(-12)
        self.set_font("Noto", "", 8)
        self.set_text_color(110)
        self.cell(0, 5, f"{self.delivery.reference} · {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0)


def _school_block(pdf: DeliveryPdf, delivery: Delivery) -> None:
    school = delivery.school
    pdf.set_font("Noto", "B", 13)
    pdf.cell(125, 7, f"{school.code} · {school.name_fr}", **NEXT_LINE)
    if school.name_ar:
        pdf.set_font("NotoArabic", "B", 13)
        pdf.cell(125, 8, school.name_ar, align="R", **NEXT_LINE)
    pdf.set_font("Noto", "", 10)
    place = " · ".join(p for p in (school.commune, school.province, school.region) if p)
    if place:
        pdf.cell(125, 5, place, **NEXT_LINE)
    if school.address:
        pdf.multi_cell(125, 5, school.address, **NEXT_LINE)
    if school.contact_name or school.contact_phone:
        contact = " · ".join(p for p in (school.contact_name, school.contact_phone) if p)
        pdf.cell(125, 5, _("Contact: %(who)s", who=contact), **NEXT_LINE)
    pdf.ln(2)


def _facts(pdf: DeliveryPdf, facts: list[tuple[str, str]]) -> None:
    for label, value in facts:
        if not value:
            continue
        pdf.set_font("Noto", "B", 10)
        pdf.cell(45, 6, label)
        pdf.set_font("Noto", "", 10)
        pdf.multi_cell(0, 6, value, **NEXT_LINE)
    pdf.ln(2)


def _when(value: datetime | None) -> str:
    return format_datetime(value, "medium") if value else ""


def _device_table(pdf: DeliveryPdf, rows: list[tuple[str, ...]], last: str) -> None:
    widths = (10, 32, 42, 40, 30, 26)
    heads = ("#", _("Asset tag"), _("Serial number"), _("IMEI"), _("Model"), last)
    pdf.set_font("Noto", "B", 9)
    pdf.set_fill_color(235)
    for width, head in zip(widths, heads, strict=True):
        pdf.cell(width, 7, head, border=1, fill=True)
    pdf.ln()
    pdf.set_font("Noto", "", 9)
    for number, row in enumerate(rows, start=1):
        for width, value in zip(widths, (str(number), *row), strict=True):
            pdf.cell(width, 6.5, value, border=1)
        pdf.ln()
    pdf.ln(3)


def delivery_note(delivery: Delivery) -> bytes:
    """The note that travels with the box: school, tablets, and boxes to sign."""
    pdf = DeliveryPdf(_("Delivery note"), delivery)
    pdf.add_page()
    _school_block(pdf, delivery)
    _facts(
        pdf,
        [
            (_("Plan"), delivery.plan.name if delivery.plan else ""),
            (_("Planned for"), delivery.planned_on.isoformat() if delivery.planned_on else ""),
            (_("Field agent"), delivery.assigned_to.display_name if delivery.assigned_to else ""),
            (_("State"), str(DELIVERY_STATUS_LABELS[delivery.status])),
        ],
    )
    items = [item for item in delivery.items if item.status != "removed"]
    rows = [
        (i.device.asset_tag, i.device.serial, i.device.imei or "", i.device.model, "☐")
        for i in items
    ]
    _device_table(pdf, rows, _("Received"))
    pdf.set_font("Noto", "B", 10)
    pdf.cell(0, 6, _("%(n)s tablets", n=len(rows)), **NEXT_LINE)
    pdf.ln(4)
    if pdf.get_y() > pdf.h - 70:
        pdf.add_page()
    y = pdf.get_y()
    for x, title in ((15, _("Handed over by")), (108, _("Received by"))):
        pdf.set_xy(x, y)
        pdf.set_font("Noto", "B", 10)
        pdf.cell(87, 6, title)
        pdf.rect(x, y + 7, 87, 45)
        pdf.set_font("Noto", "", 8)
        pdf.set_text_color(110)
        for offset, hint in (
            (9, _("Name")),
            (19, _("Role")),
            (29, _("Date")),
            (39, _("Signature")),
        ):
            pdf.set_xy(x + 2, y + offset)
            pdf.cell(80, 4, hint)
        pdf.set_text_color(0)
    return bytes(pdf.output())


def receipt(delivery: Delivery) -> bytes:
    """Proof of delivery: who received which tablet, when and where, signed."""
    pdf = DeliveryPdf(_("Proof of delivery"), delivery)
    pdf.add_page()
    _school_block(pdf, delivery)
    place = ""
    if delivery.latitude is not None:
        place = f"{delivery.latitude:.5f}, {delivery.longitude:.5f}"
        if delivery.location_accuracy:
            place += f" (± {delivery.location_accuracy:.0f} m)"
    _facts(
        pdf,
        [
            (_("State"), str(DELIVERY_STATUS_LABELS[delivery.status])),
            (_("Handed over on"), _when(delivery.delivered_at)),
            (_("Received by"), f"{delivery.recipient_name} ({delivery.recipient_role})"),
            (
                _("Handed over by"),
                delivery.delivered_by.display_name if delivery.delivered_by else "",
            ),
            (_("Place (GPS)"), place),
            (
                _("Recorded from"),
                _("a paper manifest") if delivery.handover_via == "manifest" else "",
            ),
            (_("Notes"), delivery.notes),
        ],
    )
    items = [item for item in delivery.items if item.status != "removed"]
    rows = [
        (
            i.device.asset_tag,
            i.device.serial,
            i.device.imei or "",
            i.device.model,
            str(ITEM_STATUS_LABELS[i.status]),
        )
        for i in items
    ]
    _device_table(pdf, rows, _("Outcome"))
    delivered = sum(1 for item in items if item.status == "delivered")
    pdf.set_font("Noto", "B", 10)
    pdf.cell(0, 6, _("%(n)s of %(total)s tablets delivered", n=delivered, total=len(items)))
    pdf.ln(8)
    if delivery.unexpected:
        pdf.set_font("Noto", "", 9)
        codes = ", ".join(entry.get("code", "") for entry in delivery.unexpected)
        pdf.multi_cell(0, 5, _("Also scanned, not on this delivery: %(codes)s", codes=codes))
        pdf.ln(3)
    if pdf.get_y() > pdf.h - 75:
        pdf.add_page()
    y = pdf.get_y()
    if delivery.signature_png:
        pdf.set_font("Noto", "B", 10)
        pdf.cell(85, 6, _("Signature"))
        pdf.image(
            io.BytesIO(delivery.signature_png), x=15, y=y + 7, w=80, h=40, keep_aspect_ratio=True
        )
    if delivery.photo_jpeg:
        pdf.set_xy(108, y)
        pdf.set_font("Noto", "B", 10)
        pdf.cell(85, 6, _("Photo"))
        pdf.image(
            io.BytesIO(delivery.photo_jpeg), x=108, y=y + 7, w=80, h=55, keep_aspect_ratio=True
        )
    return bytes(pdf.output())
