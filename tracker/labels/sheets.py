"""Printable QR label sheets as PDF (fpdf2).

Each layout is a few numbers (see LAYOUTS); adding a label stock is adding one line. QR codes
are drawn as vector rectangles, never as a scaled bitmap, so they stay sharp at any size.

Arabic (a donor's name on a label) is joined and ordered by `tracker.pdf_text`.
"""

from dataclasses import dataclass

from fpdf import FPDF

from tracker.i18n import lazy_gettext as _l
from tracker.jobs.services import advance
from tracker.pdf import add_fonts, fit_lines, font_for
from tracker.pdf_text import for_page, has_arabic
from tracker.qr import draw_qr


@dataclass(frozen=True)
class Layout:
    """A label stock: page size, label size, grid, and where the first label starts (mm)."""

    name: str
    title: str
    page_width: float
    page_height: float
    label_width: float
    label_height: float
    columns: int
    rows: int
    left: float = 0.0
    top: float = 0.0
    pitch_x: float = 0.0  # from one label's left edge to the next one's (label + gap)
    pitch_y: float = 0.0
    padding: float = 2.0

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def origin(self, slot: int) -> tuple[float, float]:
        """Top-left corner of label `slot` (0-based, across then down) on its page."""
        row, column = divmod(slot % self.per_page, self.columns)
        return self.left + column * (self.pitch_x or self.label_width), self.top + row * (
            self.pitch_y or self.label_height
        )


LABEL_LINE = 2.8  # mm per line of the text under the asset tag

LAYOUTS = {
    layout.name: layout
    for layout in (
        Layout(
            "a4-3x7",
            _l("A4, 3 × 7 labels of 63.5 × 38.1 mm (like Avery L7160)"),
            210,
            297,
            63.5,
            38.1,
            3,
            7,
            left=7.25,
            top=15.15,
            pitch_x=66.04,
            pitch_y=38.1,
        ),
        Layout(
            "a4-2x7",
            _l("A4, 2 × 7 labels of 99.1 × 38.1 mm (like Avery L7163)"),
            210,
            297,
            99.1,
            38.1,
            2,
            7,
            left=4.65,
            top=15.15,
            pitch_x=101.6,
            pitch_y=38.1,
        ),
        Layout(
            "thermal-50x25",
            _l("One 50 × 25 mm label per page (thermal label printers)"),
            50,
            25,
            50,
            25,
            1,
            1,
            padding=1.5,
        ),
    )
}
DEFAULT_LAYOUT = "a4-3x7"


@dataclass(frozen=True)
class Label:
    """What one label shows: the QR payload (the device URL), the tag, and a short line."""

    payload: str
    asset_tag: str
    line: str


class LabelPdf(FPDF):
    def __init__(self, layout: Layout):
        super().__init__(unit="mm", format=(layout.page_width, layout.page_height))
        self.set_auto_page_break(False)
        self.set_margin(0)
        self.set_creator("tracker")
        add_fonts(self)


def _slots(layout: Layout, count: int, start: int):
    """Yield (page index, slot on page) for `count` labels, skipping `start - 1` used ones."""
    for index in range(start - 1, start - 1 + count):
        yield divmod(index, layout.per_page)


def render_labels(
    labels: list[Label],
    layout: Layout,
    *,
    start: int = 1,
    offset_x: float = 0.0,
    offset_y: float = 0.0,
    outlines: bool = False,
) -> bytes:
    """A PDF with one label per device, from position `start` of the first sheet.

    `offset_x`/`offset_y` (mm) shift everything to correct a printer that prints off-centre.
    """
    pdf = LabelPdf(layout)
    current_page = -1
    for label, (page, slot) in zip(labels, _slots(layout, len(labels), start), strict=True):
        while current_page < page:
            pdf.add_page()
            current_page += 1
        x, y = layout.origin(slot)
        x, y = x + offset_x, y + offset_y
        if outlines:
            _outline(pdf, layout, x, y)
        _draw_label(pdf, layout, label, x, y)
        advance(1)
    if not labels:
        pdf.add_page()
    return bytes(pdf.output())


def render_test_page(layout: Layout, *, offset_x: float = 0.0, offset_y: float = 0.0) -> bytes:
    """One page with every label's outline and number, to check alignment on plain paper."""
    pdf = LabelPdf(layout)
    pdf.add_page()
    for slot in range(layout.per_page):
        x, y = layout.origin(slot)
        x, y = x + offset_x, y + offset_y
        _outline(pdf, layout, x, y)
        pdf.set_font("Noto", "B", 9)
        pdf.set_xy(x, y + layout.label_height / 2 - 2)
        pdf.cell(layout.label_width, 4, str(slot + 1), align="C")
    return bytes(pdf.output())


def _outline(pdf: FPDF, layout: Layout, x: float, y: float) -> None:
    pdf.set_draw_color(170)
    pdf.set_line_width(0.1)
    pdf.rect(x, y, layout.label_width, layout.label_height)


def _draw_label(pdf: FPDF, layout: Layout, label: Label, x: float, y: float) -> None:
    pad = layout.padding
    qr_size = layout.label_height - 2 * pad
    draw_qr(pdf, label.payload, x + pad, y + pad, qr_size)
    # The quiet zone is white space inside the square, so text may start right after it.
    text_x = x + pad + qr_size + 0.5
    text_width = layout.label_width - (text_x - x) - pad
    pdf.set_text_color(0)
    size = 16.0
    pdf.set_font("Noto", "B", size)
    while size > 7 and pdf.get_string_width(label.asset_tag) > text_width - 2 * pdf.c_margin:
        size -= 0.5
        pdf.set_font_size(size)
    pdf.set_xy(text_x, y + pad + 1)
    pdf.cell(text_width, size * 0.45, label.asset_tag)
    arabic = has_arabic(label.line)
    pdf.set_font(font_for(label.line), "", 6.5)
    top = y + pad + 2 + size * 0.45
    # Lines cut in reading order, then shaped; as many as the label has room for.
    room = int((y + layout.label_height - pad - top) // LABEL_LINE)
    lines = fit_lines(pdf, label.line, text_width - 2 * pdf.c_margin)
    if len(lines) > room:
        lines = lines[: max(room, 0)]
        if lines:
            lines[-1] = lines[-1].rstrip()[:-1] + "…"
    for number, line in enumerate(lines):
        pdf.set_xy(text_x, top + number * LABEL_LINE)
        pdf.cell(text_width, LABEL_LINE, for_page(line), align="R" if arabic else "L")
