"""A count's report: a workbook (by school, then every tablet not found, then the unexpected
ones) and a PDF in French and Arabic with each school's figures. A depot's count: every
tablet of its list and each found there unexpectedly, and its figures."""

from pathlib import Path

import sqlalchemy as sa

from tracker.counts.models import Count, CountExtra, CountLine, CountStockLine
from tracker.counts.services import depot_of, school_figures, schools_in, totals
from tracker.deliveries.documents import SCHOOL_LANGUAGES, both, in_language
from tracker.devices.depots import depot_label
from tracker.devices.models import Device
from tracker.extensions import db
from tracker.figures import figure
from tracker.i18n import gettext as _
from tracker.i18n import lazy_gettext as _l
from tracker.i18n import school_name
from tracker.pdf import NEXT_LINE, TrackerPdf
from tracker.schools.models import School
from tracker.schools.services import name_as_read
from tracker.spreadsheets.writer import ExportColumn, columns, new_workbook, save, write_sheet
from tracker.timezone import format_moment

BATCH = 500  # schools whose figures are asked at once
FIGURES = (_l("Expected"), _l("Found"), _l("Not yet seen"), _l("Missing"), _l("Unexpected"))


def _by_school(count: Count):
    """(school, figures) for every school the count covers, by code, a batch at a time."""
    last = ""
    while True:
        schools = db.session.scalars(schools_in(count).where(School.code > last).limit(BATCH)).all()
        if not schools:
            return
        figures = school_figures(count.id, [school.id for school in schools])
        for school in schools:
            yield school, figures[school.id]
        last = schools[-1].code


def _depot_sheet(workbook, count: Count) -> None:
    """Every tablet of a depot's count: its line's state, when it was found; of a tablet
    scanned there that the reader does not reach, only its code."""
    reached = figure("reader_reach").devices_clause(Device.school_id, Device.depot_id)
    words = {
        "expected": _("Not yet seen"),
        "found": _("Found"),
        "missing": _("Missing"),
        "unexpected": _("Unexpected"),
    }
    lines = db.session.execute(
        sa.select(
            Device.asset_tag,
            sa.case((reached, Device.serial), else_=""),
            sa.case((reached, Device.model), else_=""),
            CountStockLine.status,
            CountStockLine.found_at,
        )
        .join(CountStockLine, CountStockLine.device_id == Device.id)
        .where(CountStockLine.count_id == count.id)
        .order_by(CountStockLine.status, Device.asset_tag)
        .execution_options(yield_per=2000)
    )
    write_sheet(
        workbook,
        _("At the depot"),
        [
            *columns("asset_tag", "serial", "model"),
            ExportColumn(_l("State"), 16),
            ExportColumn(_l("Found on"), 18, "datetime"),
        ],
        ((tag, serial, model, words[status], found) for tag, serial, model, status, found in lines),
    )


def count_workbook(path: Path, count_id: int) -> None:
    count = db.session.get(Count, count_id)
    workbook = new_workbook()
    if depot_of(count) is not None:
        _depot_sheet(workbook, count)
        save(workbook, path)
        return
    school_columns = [
        *columns("school_code", "school", "region"),
        *(ExportColumn(label, 12, "number") for label in FIGURES),
    ]
    write_sheet(
        workbook,
        _("By school"),
        school_columns,
        (
            (
                s.code,
                school_name(s),
                s.region,
                f.expected,
                f.found,
                f.not_seen,
                f.missing,
                f.unexpected,
            )
            for s, f in _by_school(count)
            if f.expected or f.unexpected
        ),
    )
    status_words = {"expected": _("Not yet seen"), "missing": _("Missing")}
    not_found = db.session.execute(
        sa.select(
            Device.asset_tag,
            Device.serial,
            Device.model,
            School.code,
            name_as_read(),
            CountLine.status,
        )
        .join(CountLine, CountLine.device_id == Device.id)
        .join(School, School.id == CountLine.school_id)
        .where(CountLine.count_id == count.id, CountLine.status != "found")
        .order_by(School.code, Device.asset_tag)
        .execution_options(yield_per=2000)
    )
    write_sheet(
        workbook,
        _("Not found"),
        [
            *columns("asset_tag", "serial", "model", "school_code", "school"),
            ExportColumn(_l("State"), 14),
        ],
        ((*row[:5], status_words[row[5]]) for row in not_found),
    )
    listed = sa.orm.aliased(School)
    elsewhere = db.session.execute(
        sa.select(
            Device.asset_tag,
            Device.serial,
            School.code,
            name_as_read(),
            listed.code,
            CountLine.found_at,
        )
        .join(CountLine, CountLine.device_id == Device.id)
        .join(School, School.id == CountLine.found_school_id)
        .join(listed, listed.id == CountLine.school_id)
        .where(CountLine.count_id == count.id, CountLine.found_school_id != CountLine.school_id)
        .order_by(School.code, Device.asset_tag)
    ).all()
    extras = db.session.execute(
        sa.select(
            CountExtra.code,
            Device.serial,
            School.code,
            name_as_read(),
            sa.literal(""),
            CountExtra.found_at,
        )
        .outerjoin(Device, Device.id == CountExtra.device_id)
        .join(School, School.id == CountExtra.school_id)
        .where(CountExtra.count_id == count.id)
        .order_by(School.code, CountExtra.code)
    ).all()
    write_sheet(
        workbook,
        _("Unexpected"),
        [
            *columns("asset_tag", "serial", "school_code", "school"),
            ExportColumn(_l("Listed at"), 14),
            ExportColumn(_l("Found on"), 18, "datetime"),
        ],
        [*elsewhere, *extras],
    )
    save(workbook, path)


PDF_LINES = 1000  # tablets not found a depot's PDF names; the workbook names every one


def _depot_not_found(pdf, count: Count, how_many: int) -> None:
    """The tablets of a depot's list not found (the first PDF_LINES; the workbook has all)."""
    if not how_many:
        return
    pdf.ln(3)
    widths = (40, 60, 50)
    pdf.set_fill_color(235)
    for language in SCHOOL_LANGUAGES:
        heads = [
            in_language(label, language) for label in (_l("Asset tag"), _l("Serial"), _l("State"))
        ]
        pdf.table_row(widths, heads, style="B", size=8, fill=True)
    words = {"expected": both(_l("Not yet seen")), "missing": both(_l("Missing"))}
    for tag, serial, status in db.session.execute(
        sa.select(Device.asset_tag, Device.serial, CountStockLine.status)
        .join(CountStockLine, CountStockLine.device_id == Device.id)
        .where(
            CountStockLine.count_id == count.id,
            CountStockLine.status.in_(("expected", "missing")),
        )
        .order_by(Device.asset_tag)
        .limit(PDF_LINES)
    ):
        pdf.table_row(widths, (tag, serial, words[status]))
    if how_many > PDF_LINES:
        pdf.ln(2)
        pdf.write_cell(0, 5, both(_l("The workbook names every tablet.")), "", 8, **NEXT_LINE)


class CountPdf(TrackerPdf):
    def __init__(self, count: Count):
        super().__init__()
        self.count = count
        self.set_title(f"{both(_l('Count report'))} {count.name}")

    def header(self):
        for language in SCHOOL_LANGUAGES:
            align = "R" if language == "ar" else ""
            self.write_cell(
                0, 8, in_language(_l("Count report"), language), "B", 15, align=align, **NEXT_LINE
            )
        self.write_cell(0, 6, self.count.name, "", 11, **NEXT_LINE)
        self.ln(2)

    def footer(self):
        self.set_y(-12)
        self.set_text_color(110)
        self.write_cell(0, 5, f"{self.count.name} · {self.page_no()}/{{nb}}", "", 8)
        self.set_text_color(0)


def count_pdf(count_id: int) -> bytes:
    """The count's figures in French and Arabic: the whole, then each school."""
    count = db.session.get(Count, count_id)
    pdf = CountPdf(count)
    pdf.add_page()
    whole = totals(count)
    depot = depot_of(count)
    pdf.facts(
        [
            *([(both(_l("Depot")), f"{depot.code} {depot_label(depot)}")] if depot else []),
            (both(_l("Days")), f"{count.starts_on:%d/%m/%Y} – {count.ends_on:%d/%m/%Y}"),
            (both(_l("Closed on")), format_moment(count.closed_at) if count.closed_at else ""),
            *(
                (both(label), str(value))
                for label, value in zip(
                    FIGURES,
                    (whole.expected, whole.found, whole.not_seen, whole.missing, whole.unexpected),
                    strict=True,
                )
            ),
        ],
        label_width=80,
    )
    if depot is not None:
        _depot_not_found(pdf, count, whole.not_seen + whole.missing)
        return bytes(pdf.output())
    pdf.ln(3)
    widths = (70, 22, 22, 22, 22, 22)
    pdf.set_fill_color(235)
    for language in SCHOOL_LANGUAGES:
        heads = [in_language(_l("School"), language)] + [
            in_language(label, language) for label in FIGURES
        ]
        pdf.table_row(widths, heads, style="B", size=8, fill=True)
    for school, f in _by_school(count):
        if not (f.expected or f.unexpected):
            continue
        name = f"{school.code} {school_name(school)}"
        pdf.table_row(widths, (name, f.expected, f.found, f.not_seen, f.missing, f.unexpected))
    return bytes(pdf.output())
