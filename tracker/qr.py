"""QR codes as pure functions: a payload in, a module matrix, SVG or PNG bytes out, or
vector rectangles drawn on a PDF page (labels, delivery notes).

Error correction M (15% of the code may be damaged or dirty and still read) and the
standard quiet zone of 4 modules, which phone cameras need to find the code.
"""

import io

import qrcode
from fpdf import FPDF
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M

QUIET_ZONE = 4


def qr_matrix(payload: str) -> list[list[bool]]:
    """The QR modules for `payload`, quiet zone included (True is dark)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE)
    code.add_data(payload)
    code.make(fit=True)
    return code.get_matrix()


def dark_runs(matrix: list[list[bool]]):
    """Yield (row, first column, length) for each horizontal run of dark modules.

    Drawing runs instead of single modules makes SVG and PDF codes several times smaller.
    """
    for y, row in enumerate(matrix):
        x, width = 0, len(row)
        while x < width:
            if row[x]:
                start = x
                while x < width and row[x]:
                    x += 1
                yield y, start, x - start
            else:
                x += 1


def qr_svg(payload: str) -> bytes:
    """A vector QR code: one path on a white square, scalable to any print size."""
    matrix = qr_matrix(payload)
    size = len(matrix)
    path = "".join(f"M{x} {y}h{n}v1h-{n}z" for y, x, n in dark_runs(matrix))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges"><rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{path}"/></svg>'
    ).encode()


def qr_png(payload: str, module_px: int = 8) -> bytes:
    """A PNG of the QR code, `module_px` pixels per module (sharp edges, no smoothing)."""
    matrix = qr_matrix(payload)
    size = len(matrix)
    pixels = bytes(0 if dark else 255 for row in matrix for dark in row)
    image = Image.frombytes("L", (size, size), pixels)
    image = image.resize((size * module_px, size * module_px), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def draw_qr(pdf: FPDF, payload: str, x: float, y: float, size: float) -> None:
    """Draw the QR code as vector rectangles in a `size` mm square (quiet zone inside).

    All the code's rectangles go into one filled path, written as raw PDF operators: 300
    calls of `FPDF.rect` per code cost more than making the code itself.
    """
    matrix = qr_matrix(payload)
    k = pdf.k  # points per mm
    module = size / len(matrix) * k
    left, top = x * k, (pdf.h - y) * k  # PDF space: origin bottom-left, in points
    ops = "".join(
        f"{left + column * module:.2f} {top - (row + 1) * module:.2f} "
        f"{length * module:.2f} {module:.2f} re\n"
        for row, column, length in dark_runs(matrix)
    )
    pdf._out(f"q 0 g\n{ops}f Q")  # noqa: SLF001  (fpdf2 has no public raw-path call)
