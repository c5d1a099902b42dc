"""Builders for the awkward files the import tests feed in (made here, not stored)."""

import io
import zipfile
from pathlib import Path

import openpyxl


def xlsx(path: Path, rows: list[list], *, merge: str | None = None) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    workbook.save(path)
    return path


def rewrite_member(path: Path, member: str, change) -> Path:
    """Rewrite one file inside the workbook's zip with `change(text) -> text`."""
    data = path.read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == member:
                content = change(content.decode()).encode()
            target.writestr(item, content)
    path.write_bytes(out.getvalue())
    return path


def lying_dimensions(path: Path, rows: list[list]) -> Path:
    """A workbook whose stored <dimension> claims A1:A1 although it holds more."""

    def claim_a1(text: str) -> str:
        start = text.index('<dimension ref="')
        return text[:start] + '<dimension ref="A1:A1"' + text[text.index("/>", start) :]

    return rewrite_member(xlsx(path, rows), "xl/worksheets/sheet1.xml", claim_a1)


def zip_bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    return path


def with_member(path: Path, name: str, content: bytes = b"x") -> Path:
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(name, content)
    return path


def ods(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    return path


def ole(path: Path, encrypted: bool) -> Path:
    body = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512
    if encrypted:
        body += "EncryptionInfo".encode("utf-16-le")
    path.write_bytes(body + b"\0" * 512)
    return path


def billion_laughs(path: Path, rows: list[list]) -> Path:
    """A workbook whose sheet declares nested entities (expanded: gigabytes of "lol")."""
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )

    def declare(text: str) -> str:
        body = text[text.index("<worksheet") :]
        text = f'<?xml version="1.0"?><!DOCTYPE worksheet [{entities}]>' + body
        return text.replace(">LOL001<", ">&lol9;<")

    return rewrite_member(xlsx(path, rows), "xl/worksheets/sheet1.xml", declare)


def shared_strings_xlsx(path: Path, strings: list[str], rows: list[list[int]]) -> Path:
    """A minimal workbook whose cells all point into one shared-strings table (as Excel
    writes it), so one long string can fill every row of a small file."""
    from xml.sax.saxutils import escape

    def column(index: int) -> str:
        return chr(ord("A") + index)

    sheet_rows = "".join(
        f'<row r="{r}">'
        + "".join(f'<c r="{column(c)}{r}" t="s"><v>{i}</v></c>' for c, i in enumerate(row))
        + "</row>"
        for r, row in enumerate(rows, start=1)
    )
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    members = {
        "[Content_Types].xml": (
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxml'
            'formats-package.relationships+xml"/><Default Extension="xml" ContentType='
            '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application'
            '/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
            'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings'
            '.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
            'sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target='
            '"xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0"?><workbook xmlns="{main}" xmlns:r="{rel}"><sheets><sheet '
            'name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets'
            '/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0"?><worksheet xmlns="{main}"><sheetData>{sheet_rows}'
            "</sheetData></worksheet>"
        ),
        "xl/sharedStrings.xml": (
            f'<?xml version="1.0"?><sst xmlns="{main}" count="{len(strings)}">'
            + "".join(f"<si><t>{escape(text)}</t></si>" for text in strings)
            + "</sst>"
        ),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as workbook:
        for name, content in members.items():
            workbook.writestr(name, content)
    return path
