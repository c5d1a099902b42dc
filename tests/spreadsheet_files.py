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
