"""The papers of a delivery, as PDF (fpdf2): the delivery note that travels with the box,
and the receipt (proof of delivery) after the hand-over.

Both go to a school, so both speak French and Arabic, whatever the language of the person
printing them; Arabic is joined and ordered by `tracker.pdf_text`.
"""

import io
from datetime import datetime

from flask import current_app
from flask_babel import force_locale

from tracker.deliveries import receipts
from tracker.deliveries.codes import CONFIRMATIONS
from tracker.deliveries.models import Delivery
from tracker.deliveries.words import DELIVERY_STATUS_LABELS, ITEM_STATUS_LABELS
from tracker.devices.depots import CENTRAL, CENTRAL_LABEL, depot_label
from tracker.i18n import lazy_gettext as _l
from tracker.i18n import ngettext
from tracker.pdf import NEXT_LINE, TrackerPdf
from tracker.qr import draw_qr
from tracker.timezone import format_moment

SCHOOL_LANGUAGES = ("fr", "ar")

PROOF_UNEXPECTED = 12  # codes scanned that were not on the delivery, shown on its proof


def as_file(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def delivery_url(delivery: Delivery) -> str:
    """What the QR on a delivery's papers opens: built from the configured base URL."""
    return f"{current_app.config['BASE_URL']}/deliveries/{delivery.id}"


def in_language(message, language: str) -> str:
    with force_locale(language):
        return str(message)


def both_counted(singular: str, plural: str, num: int, **variables) -> str:
    """A counted message in French, then in Arabic, each in its own plural form."""
    forms = []
    for language in SCHOOL_LANGUAGES:
        with force_locale(language):
            forms.append(ngettext(singular, plural, num, **variables))
    return " · ".join(forms)


def _depot(depot) -> str:
    """The depot a box left from, as the paper names it: the central warehouse in both its
    languages, any other by its name and place."""
    if depot is not None and depot.code == CENTRAL:
        return both(CENTRAL_LABEL)
    return depot_label(depot)


def both(message) -> str:
    """A lazy message in French, then in Arabic: "Bon de livraison · وصل التسليم"."""
    return " · ".join(in_language(message, language) for language in SCHOOL_LANGUAGES)


class DeliveryPdf(TrackerPdf):
    def __init__(self, title, delivery: Delivery):
        super().__init__()
        self.heading, self.delivery = title, delivery
        self.title_text = both(title)
        self.set_title(f"{self.title_text} {delivery.reference}")

    def header(self):
        # The title on a line per language: each reads whole in its own direction.
        self.write_cell(125, 8, in_language(self.heading, "fr"), "B", 15, **NEXT_LINE)
        self.write_cell(125, 8, in_language(self.heading, "ar"), "B", 15, align="R", **NEXT_LINE)
        self.write_cell(125, 6, self.delivery.reference, "", 11, **NEXT_LINE)
        if self.page_no() == 1:
            draw_qr(self, delivery_url(self.delivery), self.w - 15 - 28, 10, 28)
        self.ln(2)

    def footer(self):
        self.set_y(-12)
        self.set_text_color(110)
        self.write_cell(0, 5, f"{self.delivery.reference} · {self.page_no()}/{{nb}}", "", 8)
        self.set_text_color(0)


def _school_block(pdf: DeliveryPdf, delivery: Delivery, *, contact: bool = True) -> None:
    """The school: its code, names, place and address, and (but in a donor's copy) who to
    call there."""
    school = delivery.school
    pdf.write_lines(TEXT_WIDTH, f"{school.code} · {school.name_fr}", "B", 13)
    if school.name_ar:
        pdf.write_lines(TEXT_WIDTH, school.name_ar, "B", 13, align="R")
    place = " · ".join(p for p in (school.commune, school.province, school.region) if p)
    if place:
        pdf.write_lines(TEXT_WIDTH, place, size=10)
    if school.address:
        pdf.write_lines(TEXT_WIDTH, school.address, size=10)
    reach = " · ".join(p for p in (school.contact_name, school.contact_phone) if p)
    if reach and contact:
        pdf.write_lines(TEXT_WIDTH, f"{both(_l('Contact'))} : {reach}", size=10)
    pdf.ln(2)


def _facts(pdf: DeliveryPdf, facts: list[tuple]) -> None:
    pdf.facts([(both(label), value) for label, value in facts])
    pdf.ln(2)


def _when(value: datetime | None) -> str:
    return format_moment(value)


WIDTHS = (8, 26, 34, 32, 38, 42)
TEXT_WIDTH = 140  # beside the QR code at the top right


def _device_table(pdf: DeliveryPdf, rows: list[tuple[str, ...]], last) -> None:
    heads = ("#", _l("Asset tag"), _l("Serial number"), _l("IMEI"), _l("Model"), last)
    pdf.set_fill_color(235)
    for language in SCHOOL_LANGUAGES:  # a header row per language
        texts = [head if isinstance(head, str) else in_language(head, language) for head in heads]
        pdf.table_row(WIDTHS, texts, style="B", size=8, fill=True)
    for number, row in enumerate(rows, start=1):
        pdf.table_row(WIDTHS, (str(number), *row))
    pdf.ln(3)


def delivery_note(delivery: Delivery) -> bytes:
    """The note that travels with the box: school, tablets, and boxes to sign."""
    pdf = DeliveryPdf(_l("Delivery note"), delivery)
    pdf.add_page()
    _school_block(pdf, delivery)
    _facts(
        pdf,
        [
            (_l("Plan"), delivery.plan.name if delivery.plan else ""),
            (_l("Left from"), _depot(delivery.from_depot)),
            (_l("Planned for"), delivery.planned_on.isoformat() if delivery.planned_on else ""),
            (
                _l("Field agent"),
                delivery.assigned_to.display_name if delivery.assigned_to else "",
            ),
            (_l("State"), both(DELIVERY_STATUS_LABELS[delivery.status])),
        ],
    )
    items = [item for item in delivery.items if item.status != "removed"]
    rows = [
        (i.device.asset_tag, i.device.serial, i.device.imei or "", i.device.model, "")
        for i in items
    ]
    _device_table(pdf, rows, _l("Received"))
    pdf.write_lines(0, both_counted("%(num)s tablet", "%(num)s tablets", len(rows)), "B", 10)
    pdf.ln(4)
    if pdf.get_y() > pdf.h - 70:
        pdf.add_page()
    y = pdf.get_y()
    for x, title in ((15, _l("Handed over by")), (108, _l("Received by"))):
        pdf.set_xy(x, y)
        pdf.write_cell(87, 6, both(title), "B", 9)
        pdf.rect(x, y + 7, 87, 45)
        pdf.set_text_color(110)
        for offset, hint in ((9, _l("Name")), (19, _l("Role")), (29, _l("Date"))):
            pdf.set_xy(x + 2, y + offset)
            pdf.write_cell(80, 4, both(hint), "", 7.5)
        pdf.set_xy(x + 2, y + 39)
        pdf.write_cell(80, 4, both(_l("Signature")), "", 7.5)
        pdf.set_text_color(0)
    return bytes(pdf.output())


def confirmation_text(delivery: Delivery, reason: bool = True) -> str:
    """How the hand-over was confirmed, in French and Arabic, with the agent's reason (its
    own words: not in a donor's copy)."""
    words = CONFIRMATIONS.get(delivery.handover_confirmation)
    if words is None:
        return ""
    text = both(words)
    return f"{text}: {delivery.no_code_reason}" if reason and delivery.no_code_reason else text


def proof_text(delivery: Delivery) -> str:
    """The hand-over's proof (the school's own receipt first), in French and Arabic, and
    where the school's receipt differs from it."""
    proof = receipts.proof_of(delivery)
    if not proof:
        return ""
    text = both(receipts.PROOFS[proof])
    if delivery.receipt is not None and delivery.receipt.matched == "differs":
        text += " · " + both(_l("the school's receipt differs"))
    return text


def _outcome(item) -> str:
    """A tablet's outcome, and the school's own word on it where the two differ."""
    outcome = both(ITEM_STATUS_LABELS[item.status])
    handed = item.status == "delivered"
    if item.school_said and handed != (item.school_said in receipts.RECEIVED):
        said = receipts.SCHOOL_SAID_LABELS[item.school_said]
        outcome += "\n" + both(_l("the school: %(word)s", word=said))
    return outcome


def receipt(delivery: Delivery, *, donation_id: int | None = None) -> bytes:
    """Proof of delivery: who received which tablet, when and where, signed.

    A donor's copy (`donation_id`: the donation's tablets only) says when, to which school,
    how it was confirmed and what the school itself said, and names no one: not who
    received or handed over, not where, no note, no signature and no photo."""
    people = donation_id is None
    pdf = DeliveryPdf(_l("Proof of delivery"), delivery)
    pdf.add_page()
    _school_block(pdf, delivery, contact=people)
    place = ""
    if delivery.latitude is not None:
        place = f"{delivery.latitude:.5f}, {delivery.longitude:.5f}"
        if delivery.location_accuracy:
            place += f" (± {delivery.location_accuracy:.0f} m)"
    paper = both(_l("a paper manifest")) if delivery.handover_via == "manifest" else ""
    named = [
        (_l("Received by"), f"{delivery.recipient_name} ({delivery.recipient_role})"),
        (_l("Handed over by"), delivery.delivered_by.display_name if delivery.delivered_by else ""),
        (_l("Place (GPS)"), place),
    ]
    _facts(
        pdf,
        [
            (_l("State"), both(DELIVERY_STATUS_LABELS[delivery.status])),
            (_l("Handed over on"), _when(delivery.delivered_at)),
            *(named if people else []),
            (_l("Recorded from"), paper),
            (_l("Confirmation"), confirmation_text(delivery, reason=people)),
            (_l("School's proof"), proof_text(delivery)),
            *([(_l("Notes"), " ".join(delivery.notes.split()))] if people else []),
        ],
    )
    items = [
        item
        for item in delivery.items
        if item.status != "removed" and (people or item.device.donation_id == donation_id)
    ]
    rows = [
        (
            i.device.asset_tag,
            i.device.serial,
            i.device.imei or "",
            i.device.model,
            _outcome(i),
        )
        for i in items
    ]
    _device_table(pdf, rows, _l("Outcome"))
    delivered = sum(1 for item in items if item.status == "delivered")
    for language in SCHOOL_LANGUAGES:
        with force_locale(language):
            summary = ngettext(
                "%(n)s of %(num)s tablet delivered",
                "%(n)s of %(num)s tablets delivered",
                len(items),
                n=delivered,
            )
        pdf.write_lines(0, summary, "B", 10)
    pdf.ln(2)
    if delivery.unexpected and people:
        # A proof stays one page to read: the first codes, and how many more (the delivery's
        # page and the alerts list them all).
        shown = [entry.get("code", "")[:30] for entry in delivery.unexpected[:PROOF_UNEXPECTED]]
        more = len(delivery.unexpected) - len(shown)
        codes = ", ".join(shown) + (f", … (+{more})" if more > 0 else "")
        message = _l("Also scanned, not on this delivery: %(codes)s", codes=codes)
        pdf.write_lines(0, in_language(message, "fr"), "", 8.5)
        pdf.ln(2)
    if not people:
        return bytes(pdf.output())
    if pdf.get_y() > pdf.h - 75:
        pdf.add_page()
    y = pdf.get_y()
    if delivery.signature_png:
        pdf.write_cell(85, 6, both(_l("Signature")), "B", 9)
        signature = io.BytesIO(delivery.signature_png)
        pdf.image(signature, x=15, y=y + 7, w=80, h=40, keep_aspect_ratio=True)
    if delivery.photo_jpeg:
        pdf.set_xy(108, y)
        pdf.write_cell(85, 6, both(_l("Photo")), "B", 9)
        photo = io.BytesIO(delivery.photo_jpeg)
        pdf.image(photo, x=108, y=y + 7, w=80, h=55, keep_aspect_ratio=True)
    return bytes(pdf.output())
