"""The donor report: what a donation became — received, where each tablet went, who signed
for it and when (the proof of delivery's reference), and what is still to deliver.

One workbook (Summary, Devices, Deliveries) and a PDF summary, both from `report_data`.
The donor's own copy (`people=False`: what a donor's reader downloads and the monthly
letter attaches) names no one: not who received, their role, where the hand-over was, nor
the agent's note of why a code was missing.
"""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from flask_babel import format_date

from tracker.counts.models import Count, CountLine
from tracker.counts.words import COUNT_STATE_LABELS
from tracker.deliveries import receipts
from tracker.deliveries.codes import CONFIRMATIONS, CONFIRMATIONS_SHORT
from tracker.deliveries.models import Delivery, DeliveryItem
from tracker.deliveries.receipts import PROOFS, SCHOOL_PROOFS
from tracker.devices.models import STATUSES, Device
from tracker.devices.states import HANDED_OVER, STATUS_LABELS
from tracker.donations.models import Donation
from tracker.extensions import db
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.loans.models import Loan
from tracker.pdf import TrackerPdf
from tracker.schools.models import School
from tracker.schools.services import name_as_read
from tracker.spreadsheets.writer import ExportColumn, columns, new_workbook, save, write_sheet
from tracker.timezone import format_moment

DEVICE_COLUMNS = columns(
    "asset_tag",
    "serial",
    "imei",
    "model",
    "state",
    "school_code",
    "school",
    "region",
    "delivered_on",
    "received_by",
    "role",
    "proof",
)
DELIVERY_COLUMNS = [
    ExportColumn(_l("Proof of delivery"), 14),
    ExportColumn(_l("School code"), 12),
    ExportColumn(_l("School"), 34),
    ExportColumn(_l("State"), 16),
    ExportColumn(_l("Handed over on"), 18, "datetime"),
    ExportColumn(_l("Received by"), 24),
    ExportColumn(_l("Role"), 20),
    ExportColumn(_l("Tablets delivered"), 10, "number"),
    ExportColumn(_l("Signed"), 8),
    ExportColumn(_l("Latitude"), 11, "number"),
    ExportColumn(_l("Longitude"), 11, "number"),
    ExportColumn(_l("Confirmation"), 30),
    ExportColumn(_l("School's proof"), 30),
]
# What names people or places them, left out of the donor's own copy (`people=False`).
PERSONAL_DEVICE_COLUMNS = (9, 10)  # received by, their role
PERSONAL_DELIVERY_COLUMNS = (5, 6, 9, 10)  # received by, role, latitude, longitude


def _without(values, drop: tuple[int, ...]) -> list:
    return [value for index, value in enumerate(values) if index not in drop]


SUMMARY_COLUMNS = [ExportColumn(_l("Figure"), 36), ExportColumn(_l("Value"), 30, "value")]
# After the hand-over: counts only, never a borrower's name.
LOAN_COLUMNS = [
    *columns("school_code", "school", "region"),
    ExportColumn(_l("On loan now"), 12, "number"),
    ExportColumn(_l("Loans made"), 12, "number"),
    ExportColumn(_l("Brought back"), 12, "number"),
    ExportColumn(_l("Pupils and teachers reached"), 16, "number"),
]
COUNT_COLUMNS = [
    ExportColumn(_l("Count"), 30),
    ExportColumn(_l("First day"), 12, "date"),
    ExportColumn(_l("Last day"), 12, "date"),
    ExportColumn(_l("State"), 16),
    ExportColumn(_l("Expected"), 10, "number"),
    ExportColumn(_l("Found"), 10, "number"),
    ExportColumn(_l("Not yet seen"), 10, "number"),
    ExportColumn(_l("Missing"), 10, "number"),
]


def loan_rows(donation_id: int) -> list[tuple]:
    """The donation's tablets lent, by school: on loan now, loans made, brought back, and
    the pupils and teachers reached (one query)."""
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(
                School.code,
                name_as_read(),
                School.region,
                sa.func.count().filter(Loan.ended_at.is_(None)),
                sa.func.count(),
                sa.func.count().filter(Loan.ended_as == "returned"),
                sa.func.count(sa.distinct(Loan.borrower_id)),
            )
            .join(Device, Device.id == Loan.device_id)
            .join(School, School.id == Loan.school_id)
            .where(Device.donation_id == donation_id)
            .group_by(School.code, name_as_read(), School.region)
            .order_by(School.code)
        )
    ]


def count_rows(donation_id: int) -> list[tuple]:
    """Each count that listed the donation's tablets, with what became of them there."""
    words = {code: str(label) for code, label in COUNT_STATE_LABELS.items()}
    rows = db.session.execute(
        sa.select(
            Count.name,
            Count.starts_on,
            Count.ends_on,
            Count.status,
            sa.func.count(),
            sa.func.count().filter(CountLine.status == "found"),
            sa.func.count().filter(CountLine.status == "expected"),
            sa.func.count().filter(CountLine.status == "missing"),
        )
        .join(CountLine, CountLine.count_id == Count.id)
        .join(Device, Device.id == CountLine.device_id)
        .where(Device.donation_id == donation_id)
        .group_by(Count.id, Count.name, Count.starts_on, Count.ends_on, Count.status)
        .order_by(Count.id)
    )
    return [
        (name, start, end, words.get(status, status), *figures)
        for name, start, end, status, *figures in rows
    ]


def reached(donation_id: int) -> int:
    """Distinct pupils and teachers lent one of the donation's tablets."""
    return db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Loan.borrower_id)))
        .join(Device, Device.id == Loan.device_id)
        .where(Device.donation_id == donation_id)
    )


@dataclass
class ReportData:
    donation: Donation
    states: dict
    devices: list  # rows for the Devices sheet
    deliveries: list  # rows for the Deliveries sheet
    schools_reached: int
    confirmations: list  # how each of those hand-overs was confirmed (deliveries/codes.py)
    school_confirmed: int = 0  # tablets whose receipt the school itself confirmed

    @property
    def registered(self) -> int:
        return sum(self.states.values())

    @property
    def delivered(self) -> int:
        return sum(self.states.get(state, 0) for state in HANDED_OVER)

    @property
    def outstanding(self) -> int:
        return self.registered - self.delivered - self.states.get("returned", 0)


def _confirmation(delivery, people: bool = True) -> str:
    words = CONFIRMATIONS.get(delivery.handover_confirmation)
    if words is None:
        return ""
    if people and delivery.no_code_reason:
        return f"{words}: {delivery.no_code_reason}"
    return str(words)


def report_data(donation_id: int, *, people: bool = True) -> ReportData:
    donation = db.session.get(Donation, donation_id)
    states = dict(
        db.session.execute(
            sa.select(Device.status, sa.func.count())
            .where(Device.donation_id == donation_id)
            .group_by(Device.status)
        ).all()
    )
    latest = (
        sa.select(
            DeliveryItem.device_id, sa.func.max(DeliveryItem.delivery_id).label("delivery_id")
        )
        .where(DeliveryItem.status == "delivered")
        .group_by(DeliveryItem.device_id)
        .subquery()
    )
    devices = db.session.execute(
        sa.select(
            Device.asset_tag,
            Device.serial,
            Device.imei,
            Device.model,
            Device.status,
            School.code,
            name_as_read(),
            School.region,
            Delivery.delivered_at,
            Delivery.recipient_name,
            Delivery.recipient_role,
            Delivery.id,
        )
        .outerjoin(School, School.id == Device.school_id)
        .outerjoin(latest, latest.c.device_id == Device.id)
        .outerjoin(Delivery, Delivery.id == latest.c.delivery_id)
        .where(Device.donation_id == donation_id)
        .order_by(Device.asset_tag)
    ).all()
    labels = {key: str(label) for key, label in STATUS_LABELS.items()}
    device_rows = [
        (
            tag,
            serial,
            imei or "",
            model,
            labels.get(status, status),
            code or "",
            school or "",
            region or "",
            delivered_at if status in HANDED_OVER else None,
            name if status in HANDED_OVER else "",
            role if status in HANDED_OVER else "",
            f"DEL-{delivery_id:05d}" if delivery_id and status in HANDED_OVER else "",
        )
        for tag, serial, imei, model, status, code, school, region, delivered_at, name, role, delivery_id in devices  # noqa: E501
    ]
    handed = (
        sa.select(DeliveryItem.delivery_id, sa.func.count().label("tablets"))
        .join(Device, Device.id == DeliveryItem.device_id)
        .where(DeliveryItem.status == "delivered", Device.donation_id == donation_id)
        .group_by(DeliveryItem.delivery_id)
        .subquery()
    )
    deliveries = db.session.execute(
        sa.select(Delivery, School.code, name_as_read(), handed.c.tablets)
        .options(sa.orm.selectinload(Delivery.receipt))
        .join(handed, handed.c.delivery_id == Delivery.id)
        .join(School, School.id == Delivery.school_id)
        .order_by(Delivery.delivered_at, Delivery.id)
    ).all()
    delivery_rows = [
        (
            d.reference,
            code,
            name,
            str(_l("Delivered") if d.status == "delivered" else _l("Partly delivered")),
            d.delivered_at,
            d.recipient_name,
            d.recipient_role,
            tablets,
            _("yes") if d.handover_via == "screen" else _("on paper"),
            d.latitude,
            d.longitude,
            _confirmation(d, people),
            str(PROOFS[receipts.proof_of(d)]),
        )
        for d, code, name, tablets in deliveries
    ]
    if not people:
        device_rows = [_without(row, PERSONAL_DEVICE_COLUMNS) for row in device_rows]
        delivery_rows = [_without(row, PERSONAL_DELIVERY_COLUMNS) for row in delivery_rows]
    # Tablets whose hand-over the school itself confirmed (signed or from its account).
    school_confirmed = sum(
        tablets for d, _c, _n, tablets in deliveries if receipts.proof_of(d) in SCHOOL_PROOFS
    )
    reached = len({row[5] for row in device_rows if row[8] is not None})  # (school, delivered)
    confirmations = [d.handover_confirmation for d, _code, _name, _tablets in deliveries]
    return ReportData(
        donation, states, device_rows, delivery_rows, reached, confirmations, school_confirmed
    )


def summary_rows(data: ReportData) -> list[tuple]:
    donation = data.donation
    rows = [
        (_("Donation"), donation.reference),
        (_("Donor"), donation.donor.name),
        (_("Date of the agreement"), donation.received_on),  # a date in the workbook
        (_("Tablets promised"), donation.quantity_promised),
        (_("Tablets registered"), data.registered),
    ]
    rows += [(str(STATUS_LABELS[state]), data.states.get(state, 0)) for state in STATUSES]
    rows += [
        (_("Schools reached"), data.schools_reached),
        (_("Tablets whose receipt the school confirmed"), data.school_confirmed),
        (_("Pupils and teachers reached"), reached(donation.id)),
        (_("Still to deliver"), data.outstanding),
    ]
    return rows


def donor_workbook(path: Path, donation_id: int, *, people: bool = True) -> ReportData:
    data = report_data(donation_id, people=people)
    workbook = new_workbook()
    devices, deliveries = DEVICE_COLUMNS, DELIVERY_COLUMNS
    if not people:
        devices = _without(devices, PERSONAL_DEVICE_COLUMNS)
        deliveries = _without(deliveries, PERSONAL_DELIVERY_COLUMNS)
    write_sheet(workbook, _("Summary"), SUMMARY_COLUMNS, summary_rows(data))
    write_sheet(workbook, _("Devices"), devices, data.devices)
    write_sheet(workbook, _("Deliveries"), deliveries, data.deliveries)
    write_sheet(workbook, _("Loans"), LOAN_COLUMNS, loan_rows(donation_id))
    write_sheet(workbook, _("Counts"), COUNT_COLUMNS, count_rows(donation_id))
    save(workbook, path)
    return data


def donor_pdf(donation_id: int, *, people: bool = True) -> bytes:
    """A few pages a donor can read: the figures, then every hand-over with its proof (who
    received it only in the office's copy)."""
    data = report_data(donation_id, people=people)
    pdf = ReportPdf(data.donation)
    pdf.add_page()
    pdf.facts(
        [
            (label, format_date(value) if isinstance(value, date) else str(value))
            for label, value in summary_rows(data)
        ],
        label_width=80,
    )
    pdf.ln(4)
    pdf.write_lines(0, _("Hand-overs"), "B", 12, gap=1)
    widths = (24, 56, 30, 36, 12, 22) if people else (24, 76, 34, 12, 34)
    heads = (
        _("Proof of delivery"),
        _("School"),
        _("Handed over on"),
        *([_("Received by")] if people else []),
        "#",
        _("Confirmation"),
    )
    pdf.set_fill_color(235)
    pdf.table_row(widths, heads, style="B", size=8, fill=True)
    short = {key: str(words) for key, words in CONFIRMATIONS_SHORT.items()}
    for row, confirmation in zip(data.deliveries, data.confirmations, strict=True):
        reference, code, name, _state, when, *rest = row
        recipient, tablets = (rest[0], rest[2]) if people else ("", rest[0])
        confirmed = short.get(confirmation, "")
        values = (
            reference,
            f"{code} {name}",
            format_moment(when, "short"),
            *([recipient] if people else []),
            tablets,
            confirmed,
        )
        pdf.table_row(widths, values, size=8)
    return bytes(pdf.output())


class ReportPdf(TrackerPdf):
    """The donor report's pages: the donation on top, page numbers below."""

    def __init__(self, donation: Donation):
        super().__init__()
        self.donation = donation
        self.heading = _("Donor report — %(ref)s", ref=donation.reference)
        self.set_title(self.heading)

    def header(self):
        self.write_lines(0, self.heading, "B", 15, gap=1)
        self.write_lines(0, self.donation.donor.name, "", 11)
        self.ln(3)

    def footer(self):
        self.set_y(-12)
        self.write_cell(0, 5, f"{self.donation.reference} · {self.page_no()}/{{nb}}", "", 8)
