"""Opening uploaded spreadsheets safely and reading their rows as a stream.

What a file really is comes from its bytes, not its name: a renamed PDF, an old .xls, an
.ods, an encrypted or macro workbook, a truncated zip each get one sentence saying what the
file is and what to send instead. Zip bombs and absurd sizes are refused before parsing.
openpyxl parses the XML through defusedxml (installed as a dependency), so entity tricks
(billion laughs, external entities) are refused by the parser.
"""

import codecs
import csv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer
import openpyxl

from tracker.i18n import gettext as _

MAX_UNCOMPRESSED = 400 * 1024 * 1024  # what a workbook may unpack to
MAX_RATIO = 200  # unpacked / packed size of one member; real workbooks stay far below


class UnusableFile(Exception):
    """The file cannot be read as a table at all (exit code 2 on the command line)."""


@dataclass
class SheetRow:
    number: int  # the row number Excel shows
    values: tuple


def sniff(path: Path, filename: str = "") -> str:
    """'xlsx' or 'csv', or raise UnusableFile saying what the file is."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    size = path.stat().st_size
    if size == 0:
        raise UnusableFile(_("The file is empty."))
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        with open(path, "rb") as handle:
            start = handle.read(1 << 20)
        if "EncryptionInfo".encode("utf-16-le") in start:
            raise UnusableFile(
                _(
                    "The workbook is protected by a password. Remove the "
                    "password in Excel (File > Info > Protect), save, and send "
                    "it again."
                )
            )
        raise UnusableFile(
            _(
                "This is an old Excel 97-2003 file (.xls). Open it in Excel or "
                "LibreOffice and save it as .xlsx, then send that."
            )
        )
    if head.startswith(b"%PDF"):
        raise UnusableFile(
            _(
                "This is a PDF document, not a spreadsheet. Send the .xlsx or "
                ".csv file the table was made from."
            )
        )
    if head.startswith(b"PK"):
        return _check_zip(path)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "csv"  # "Unicode text" from Excel: UTF-16, its NUL bytes are text
    if b"\x00" in head:
        raise UnusableFile(
            _(
                "This file is not a spreadsheet (it holds binary data). Send an "
                ".xlsx or a .csv file."
            )
        )
    return "csv"


def _check_zip(path: Path) -> str:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise UnusableFile(
            _(
                "The file is damaged (an incomplete or broken .xlsx). Save it "
                "again from Excel and send it again."
            )
        ) from None
    with archive:
        names = set(archive.namelist())
        if "mimetype" in names and b"opendocument" in archive.read("mimetype"):
            raise UnusableFile(
                _(
                    "This is an OpenDocument spreadsheet (.ods). Save it as "
                    ".xlsx (File > Save as > Excel 2007-365) and send that."
                )
            )
        if "xl/workbook.xml" not in names:
            raise UnusableFile(
                _("This zip file is not an Excel workbook. Send an .xlsx or a .csv file.")
            )
        if "xl/vbaProject.bin" in names:
            raise UnusableFile(
                _(
                    "This workbook contains macros (.xlsm). Save it as a plain "
                    ".xlsx workbook and send that."
                )
            )
        total = 0
        for member in archive.infolist():
            total += member.file_size
            packed = max(member.compress_size, 1)
            if total > MAX_UNCOMPRESSED or (
                member.file_size > (1 << 20) and member.file_size / packed > MAX_RATIO
            ):
                raise UnusableFile(
                    _(
                        "The workbook unpacks to an implausible size (a "
                        '"zip bomb"); it was not opened.'
                    )
                )
        bad = None
        try:
            bad = archive.testzip()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            bad = "?"
        if bad:
            raise UnusableFile(
                _(
                    "The file is damaged (an incomplete or broken .xlsx). Save "
                    "it again from Excel and send it again."
                )
            )
    return "xlsx"


def iter_rows(path: Path, kind: str, max_rows: int) -> Iterator[SheetRow]:
    """Yield the rows of the first sheet (xlsx) or of the file (csv), with Excel row numbers."""
    rows = _xlsx_rows(path) if kind == "xlsx" else _csv_rows(path)
    for row in rows:
        if row.number > max_rows + 50:
            raise UnusableFile(
                _(
                    "The file has more than %(n)s rows. Split it into smaller files.",
                    n=f"{max_rows:,}",
                )
            )
        yield row


def estimate_rows(path: Path, kind: str) -> int | None:
    """The row count the workbook claims (may be wrong), for a progress bar."""
    if kind != "xlsx":
        return None
    try:
        with open(path, "rb") as handle:
            workbook = _open_workbook(handle)
            count = workbook.worksheets[0].max_row
            workbook.close()
            return count
    except Exception:  # noqa: BLE001  (only an estimate; reading reports real problems)
        return None


def _open_workbook(handle):
    # A file object, not a path: openpyxl judges paths by their extension, and uploads are
    # stored under names of our own. What the file is was checked by sniff().
    return openpyxl.load_workbook(handle, read_only=True, data_only=True)


def _xlsx_rows(path: Path) -> Iterator[SheetRow]:
    with open(path, "rb") as handle:
        yield from _workbook_rows(handle)


def _workbook_rows(handle) -> Iterator[SheetRow]:
    try:
        workbook = _open_workbook(handle)
    except Exception as error:  # noqa: BLE001  (openpyxl raises many kinds on bad input)
        raise UnusableFile(
            _(
                "The workbook could not be read (%(reason)s). Save it again "
                "from Excel as .xlsx and send it again.",
                reason=type(error).__name__,
            )
        ) from error
    try:
        if not workbook.worksheets:
            raise UnusableFile(_("The workbook has no sheet."))
        sheet = workbook.worksheets[0]
        # Stored dimensions can lie (files written by other tools); read what is there.
        sheet.reset_dimensions()
        number = 0
        try:
            for cells in sheet.iter_rows():
                number = next((c.row for c in cells if hasattr(c, "row")), number + 1)
                yield SheetRow(number, tuple(cell.value for cell in cells))
        except UnusableFile:
            raise
        except Exception as error:  # noqa: BLE001
            raise UnusableFile(
                _(
                    "The workbook could not be read past row %(row)s (%(reason)s)."
                    " Save it again from Excel as .xlsx and send it again.",
                    row=number,
                    reason=type(error).__name__,
                )
            ) from error
    finally:
        workbook.close()


# What Windows offices save a "CSV" in, besides UTF-8: Arabic Excel writes Windows-1256,
# French Excel Windows-1252; "Unicode text" is UTF-16.
WINDOWS_ENCODINGS = ["cp1256", "cp1252"]


def csv_encoding(sample: bytes) -> str:
    """The encoding of a text file from its first bytes: a byte-order mark, else UTF-8 when
    it decodes, else the likelier of the Windows code pages (charset-normalizer's guess)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    guess = charset_normalizer.from_bytes(sample, cp_isolation=WINDOWS_ENCODINGS).best()
    return guess.encoding if guess is not None else "cp1252"


def _csv_rows(path: Path) -> Iterator[SheetRow]:
    with open(path, "rb") as handle:
        sample = handle.read(64 * 1024)
    encoding = csv_encoding(sample)
    text = sample.decode(encoding, errors="replace")
    first_lines = "\n".join(text.splitlines()[:20])
    delimiter = ";" if first_lines.count(";") > first_lines.count(",") else ","
    if "\t" in first_lines and first_lines.count("\t") > first_lines.count(delimiter):
        delimiter = "\t"
    with open(path, encoding=encoding, errors="strict", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            for number, values in enumerate(reader, start=1):
                yield SheetRow(number, tuple(values))
        except UnicodeDecodeError as error:
            raise UnusableFile(
                _(
                    "The text file mixes character encodings; save it as "
                    '"CSV UTF-8" and send it again.'
                )
            ) from error
        except csv.Error as error:
            raise UnusableFile(
                _(
                    "The CSV file is malformed near line %(n)s (%(reason)s).",
                    n=reader.line_num,
                    reason=error,
                )
            ) from error


__all__ = ["SheetRow", "UnusableFile", "estimate_rows", "iter_rows", "sniff"]
