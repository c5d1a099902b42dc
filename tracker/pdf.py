"""Our PDFs' pages (fpdf2): the fonts, and text that stays inside its box.

Every cell of a table wraps inside its column and a row is as tall as its tallest cell, so
a long model name or school name takes two lines instead of printing over its neighbour.
Lines are cut in logical order (the order the words are read), then each is shaped for the
page by `pdf_text.for_page`: an Arabic cell cut after reordering would put its lines in
the wrong order.
"""

import re

from flask_babel import get_locale
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from tracker.i18n import RTL
from tracker.paths import resource_dir
from tracker.pdf_text import ARABIC_FONT, for_page, has_arabic

LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
NEXT_LINE = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}
# A line's height as a share of the font size: Arabic letters reach further above and below
# the line than Latin ones (Noto Sans Arabic's lam and yeh), so its lines are further apart.
LINE = {"Noto": 1.2, ARABIC_FONT: 1.55}
PAD = 0.8  # mm above and below a table cell's text


def add_fonts(pdf: FPDF) -> None:
    fonts = resource_dir("static") / "vendor" / "fonts"
    pdf.add_font("Noto", "", fonts / "NotoSans_400Regular.ttf")
    pdf.add_font("Noto", "B", fonts / "NotoSans_700Bold.ttf")
    pdf.add_font(ARABIC_FONT, "", fonts / "NotoSansArabic_400Regular.ttf")
    pdf.add_font(ARABIC_FONT, "B", fonts / "NotoSansArabic_700Bold.ttf")


def line_height(size: float, font: str = "Noto") -> float:
    """In mm, for a font `size` in points."""
    return size * 0.3528 * LINE[font]


def font_for(text: str) -> str:
    """Noto Sans Arabic (which also holds Latin) when Arabic is in the text, else Noto."""
    return ARABIC_FONT if has_arabic(text) else "Noto"


def fit_lines(pdf: FPDF, text: str, room: float) -> list[str]:
    """`text` cut into lines no wider than `room` mm in the current font, at spaces, and
    inside a word only when the word alone is wider (a serial number, a long code)."""
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if pdf.get_string_width(for_page(candidate)) <= room:
                line = candidate
                continue
            if line:
                lines.append(line)
            while len(word) > 1 and pdf.get_string_width(for_page(word)) > room:
                cut = len(word) - 1
                while cut > 1 and pdf.get_string_width(for_page(word[:cut])) > room:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines or [""]


class TrackerPdf(FPDF):
    """An A4 page with our fonts; `write_cell` picks Noto Sans Arabic for Arabic text."""

    def __init__(self):
        super().__init__(unit="mm", format="A4")
        self.set_creator("tracker")
        add_fonts(self)
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, 18)
        # A paper asked in Arabic is laid out right to left: lines start at the right, a
        # table's first column is its rightmost, a label stands right of its value.
        self.rtl = str(get_locale() or "") in RTL

    def align_of(self, line: str) -> str:
        """Where a line starts: at the right on an Arabic paper, and for Arabic alone."""
        return "R" if self.rtl else _align(line)

    def write_cell(self, width, height, text, style="", size=10, **options):
        """One line in a cell (the caller knows it fits: a title, a page number)."""
        text = str(text)
        self.set_font(font_for(text), style, size)
        if self.rtl and not options.get("align"):
            options["align"] = "R"
        self.cell(width, height, for_page(text), **options)

    def room(self, width: float) -> float:
        """What text may fill of a cell `width` wide (0: to the right margin)."""
        width = width or (self.w - self.r_margin - self.get_x())
        return width - 2 * self.c_margin

    def write_lines(self, width, text, style="", size=10, *, align="", gap=0.0) -> float:
        """Text wrapped inside `width` (0: to the right margin) from the current position,
        Arabic lines to the right; the cursor ends below it, at the left margin. Returns
        the height it took."""
        text = str(text)
        width = width or (self.w - self.r_margin - self.get_x())
        font = font_for(text)
        self.set_font(font, style, size)
        lines = fit_lines(self, text, self.room(width))
        x, height = self.get_x(), line_height(size, font)
        for line in lines:
            if self.get_y() + height > self.page_break_trigger:
                self.add_page()
            self.set_x(x)
            self.cell(
                width, height, for_page(line), align=align or self.align_of(line), **NEXT_LINE
            )
        self.ln(gap)
        return len(lines) * height + gap

    def table_row(self, widths, values, *, style="", size=8.5, fill=False, border=True) -> None:
        """One row of a table: each value wraps inside its column, the row is as tall as its
        tallest cell, and goes whole to the next page when it does not fit."""
        cells = []
        for width, value in zip(widths, values, strict=True):
            text = str(value)
            font = font_for(text)
            self.set_font(font, style, size)
            cells.append((width, font, fit_lines(self, text, width - 2 * self.c_margin)))
        row = max(len(lines) * line_height(size, font) for _w, font, lines in cells) + 2 * PAD
        if self.get_y() + row > self.page_break_trigger:
            self.add_page()
        x, y = self.l_margin, self.get_y()
        if self.rtl:  # the first column at the right
            x = self.w - self.r_margin
        for width, font, lines in cells:
            if self.rtl:
                x -= width
            if fill or border:
                self.rect(x, y, width, row, style=("DF" if border else "F") if fill else "D")
            self.set_font(font, style, size)
            height = line_height(size, font)
            for number, line in enumerate(lines):
                self.set_xy(x, y + PAD + number * height)
                self.cell(width, height, for_page(line), align=self.align_of(line))
            if not self.rtl:
                x += width
        self.set_xy(self.l_margin, y + row)

    def facts(self, rows, *, label_width=70, size=10) -> None:
        """Label and value pairs, the label bold on the left, the value wrapped beside it."""
        for label, value in rows:
            if not value:
                continue
            y = self.get_y()
            if y + line_height(size) * 2 > self.page_break_trigger:
                self.add_page()
                y = self.get_y()
            if self.rtl:  # the label at the right, its value left of it
                self.set_x(self.w - self.r_margin - label_width)
            self.write_lines(label_width, label, "B", size - 1)
            left = self.get_y()
            self.set_xy(self.l_margin + (0 if self.rtl else label_width), y)
            self.write_lines(self.epw - label_width, value, "", size)
            self.set_y(max(left, self.get_y()))


def _align(line: str) -> str:
    """Arabic alone reads from the right; a line that mixes scripts starts at the left."""
    return "R" if has_arabic(line) and not LATIN.search(line) else "L"
