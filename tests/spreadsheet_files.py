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


ODS_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def ods(
    path: Path, rows: list[list] | None = None, *, encrypted=False, mimetype="spreadsheet"
) -> Path:
    """An OpenDocument spreadsheet as LibreOffice writes it: text and float cells, and the
    trailing empty rows and columns it repeats up to the sheet's last row (1,048,576)."""
    from xml.sax.saxutils import escape

    def cell(value) -> str:
        if value is None:
            return "<table:table-cell/>"
        if isinstance(value, int | float):
            return (
                f'<table:table-cell office:value-type="float" office:value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>"
            )
        return (
            f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}'
            "</text:p></table:table-cell>"
        )

    body = "".join(
        "<table:table-row>"
        + "".join(cell(v) for v in row)
        + '<table:table-cell table:number-columns-repeated="1000"/></table:table-row>'
        for row in rows or []
    )
    body += (
        f'<table:table-row table:number-rows-repeated="{1_048_576 - len(rows or [])}">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NAMESPACES} '
        'office:version="1.2"><office:body><office:spreadsheet><table:table table:name="S">'
        f"{body}</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
        'opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">'
        + ("<manifest:encryption-data/>" if encrypted else "")
        + "</manifest:file-entry></manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "mimetype",
            f"application/vnd.oasis.opendocument.{mimetype}",
            compress_type=zipfile.ZIP_STORED,
        )
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", manifest)
    return path


def xls(path: Path, rows: list[list]) -> Path:
    """An Excel 97-2003 workbook (BIFF8), written by xlwt."""
    import xlwt

    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("Sheet1")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    workbook.save(str(path))
    return path


def far_cell(path: Path, kind: str) -> Path:
    """A tiny workbook with one more cell in the format's last row and column: calamine
    would hold the whole rectangle (1 GB for .xls, 100 GB for .xlsx)."""
    rows = [["Serial"], ["FAR001"]]
    if kind == "xls":
        import xlwt

        workbook = xlwt.Workbook()
        sheet = workbook.add_sheet("Sheet1")
        sheet.write(0, 0, "Serial")
        sheet.write(1, 0, "FAR001")
        sheet.write(65535, 255, "x")
        workbook.save(str(path))
        return path

    def far(text: str) -> str:
        end = text.index("</sheetData>")
        far_row = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
        return text[:end] + far_row + text[end:]

    return rewrite_member(xlsx(path, rows), "xl/worksheets/sheet1.xml", far)


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
