"""Opening uploaded spreadsheets safely and reading their rows as a stream.

What a file really is comes from its bytes, not its name: a renamed PDF, an encrypted or
macro workbook, a truncated zip, an OpenDocument text each get one sentence saying what the
file is and what to send instead. Zip bombs and absurd sizes are refused before parsing.

Workbooks (.xlsx, .xls, .ods) are read by calamine (python-calamine), about twenty times
faster than openpyxl's read-only mode, in a process of its own with its memory and time
capped (sheet_process.py says why). calamine's XML parser expands no entity, so entity
tricks (billion laughs, external entities) are refused as unreadable. CSV files are read
here, their encoding detected.
"""

import codecs
import csv
import pickle  # noqa: S403  (only to read what our own reader process wrote)
import re
import subprocess  # noqa: S404
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer

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
    """'xlsx', 'xls', 'ods' or 'csv', or raise UnusableFile saying what the file is."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    size = path.stat().st_size
    if size == 0:
        raise UnusableFile(_("The file is empty."))
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        with open(path, "rb") as handle:
            start = handle.read(1 << 20)
        if "EncryptionInfo".encode("utf-16-le") in start:
            raise UnusableFile(PASSWORD())
        return "xls"  # Excel 97-2003; what else an OLE file may be, calamine finds out
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
                ".xlsx, .ods, .xls or .csv file."
            )
        )
    return "csv"


def PASSWORD() -> str:  # noqa: N802  (a sentence, translated when said)
    return _(
        "The workbook is protected by a password. Remove the password (in Excel: File > "
        "Info > Protect; in LibreOffice: File > Properties > Security), save, and send it "
        "again."
    )


def DAMAGED() -> str:  # noqa: N802
    return _(
        "The file is damaged (an incomplete or broken workbook). Save it again and send it again."
    )


def _check_zip(path: Path) -> str:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise UnusableFile(DAMAGED()) from None
    with archive:
        names = set(archive.namelist())
        kind = "xlsx"
        if "mimetype" in names:
            mimetype = archive.read("mimetype")[:100]
            if mimetype != b"application/vnd.oasis.opendocument.spreadsheet":
                raise UnusableFile(
                    _(
                        "This OpenDocument file is not a spreadsheet (a text or a "
                        "presentation?). Send an .ods, .xlsx or .csv file."
                    )
                )
            manifest = "META-INF/manifest.xml"
            if manifest in names and b"encryption-data" in archive.read(manifest):
                raise UnusableFile(PASSWORD())
            kind = "ods"
        elif "xl/workbook.xml" not in names:
            raise UnusableFile(
                _("This zip file is not a spreadsheet. Send an .xlsx, .ods, .xls or .csv file.")
            )
        elif "xl/vbaProject.bin" in names:
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
            raise UnusableFile(DAMAGED())
    return kind


def iter_rows(path: Path, kind: str, max_rows: int) -> Iterator[SheetRow]:
    """Yield the rows of the first sheet (workbooks) or of the file (csv), with the row
    numbers a spreadsheet program shows."""
    rows = _csv_rows(path) if kind == "csv" else _workbook_rows(path, max_rows + 50)
    for row in rows:
        if row.number > max_rows + 50:
            raise _too_many_rows(max_rows)
        yield row


def _too_many_rows(max_rows: int) -> UnusableFile:
    return UnusableFile(
        _(
            "The file has more than %(n)s rows. Split it into smaller files.",
            n=f"{max_rows:,}",
        )
    )


def estimate_rows(path: Path, kind: str) -> int | None:
    """The row count an .xlsx claims in its first sheet's <dimension> (may be wrong, or
    absent), for a progress bar; None for other kinds."""
    if kind != "xlsx":
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            sheets = sorted(
                name
                for name in archive.namelist()
                if name.startswith("xl/worksheets/") and name.endswith(".xml")
            )
            if not sheets:
                return None
            with archive.open(sheets[0]) as member:
                start = member.read(4096)
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
    found = re.search(rb'<dimension ref="[A-Z]+[0-9]+:[A-Z]+([0-9]+)"', start)
    return int(found.group(1)) if found else None


# The reader process's limits: far above what a real sheet of the allowed size needs (100,000
# rows of ten columns take about 100 MB), far below what the web worker can spare.
READER_MEMORY = 768 * 1024 * 1024
READER_CPU_SECONDS = 300
SHEET_PROCESS = Path(__file__).with_name("sheet_process.py")


def _workbook_rows(path: Path, last_row: int) -> Iterator[SheetRow]:
    """Rows of an .xlsx, .xls or .ods read by calamine in a process of its own (see
    sheet_process.py for why), streamed back in batches."""
    process = subprocess.Popen(  # noqa: S603  (our own script, our own arguments)
        [
            sys.executable,
            "-I",
            str(SHEET_PROCESS),
            str(path),
            str(last_row),
            str(READER_MEMORY),
            str(READER_CPU_SECONDS),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                message = pickle.load(process.stdout)  # noqa: S301  (written by our process)
            except EOFError:
                raise UnusableFile(
                    _(
                        "The workbook could not be read: opening it needs far more memory "
                        "or time than a table of its size should (its sheet may name a "
                        "cell far below or to the right of the table). Copy the table "
                        "into a new workbook, save it, and send that."
                    )
                ) from None
            if message[0] == "rows":
                for number, values in message[1]:
                    yield SheetRow(number, values)
            elif message[0] == "error":
                raise _reader_error(message[1], message[2], last_row - 50)
            else:
                return
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdout.close()


def _reader_error(code: str, detail: str, max_rows: int) -> UnusableFile:
    if code == "too_many_rows":
        return _too_many_rows(max_rows)
    if code == "no_sheet":
        return UnusableFile(_("The workbook has no sheet."))
    if detail == "PasswordError":
        return UnusableFile(PASSWORD())
    return UnusableFile(
        _(
            "The workbook could not be read (%(reason)s). Save it again as .xlsx and send "
            "it again.",
            reason=detail or code,
        )
    )


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
