"""Hostile uploads, built in memory with zipfile (and openpyxl for a valid base): zip bombs,
XML bombs, external entities, too many entries, truncated archives, encrypted and old .xls
files, CSV / HTML / .xlsm renamed .xlsx, a sheet of more than a million rows, and cells an
attacker or a careless user can put where a figure belongs.

The expensive ones are built once per test session (``functools.cache``).
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Callable
from functools import cache

import openpyxl

MiB = 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLSM_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
SHEET = "xl/worksheets/sheet1.xml"


@cache
def minimal_workbook() -> bytes:
    """A valid one-sheet workbook, written by openpyxl: the base the others alter."""
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "指标"
    workbook.active["B1"] = 3
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def rewrite(data: bytes, changes: dict[str, Callable[[bytes], bytes] | bytes | None]) -> bytes:
    """The archive with parts changed (a function of the old content), replaced (bytes),
    removed (None) or added (a name it did not have)."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename in changes:
                change = changes[item.filename]
                if change is None:
                    continue
                content = change(content) if callable(change) else change
            target.writestr(item.filename, content)
        for name, change in changes.items():
            if name not in source.namelist() and isinstance(change, bytes):
                target.writestr(name, change)
    return out.getvalue()


# ------------------------------------------------------------------------------ archives


class _RepeatedZeros:
    """A deflate compressor for a stream of identical 1 MiB blocks of zeros: the block is
    deflated once and its bytes reused. A full flush after the block resets the compressor's
    history, so each copy is a valid continuation of the stream; ``flush`` ends it with an
    empty final block. (Deflating 1 GiB for real takes 15 s; this takes well under one.)"""

    def __init__(self):
        deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
        self.block = deflate.compress(bytes(MiB)) + deflate.flush(zlib.Z_FULL_FLUSH)

    def compress(self, data) -> bytes:
        assert len(data) == MiB and not any(data[:64])
        return self.block

    def flush(self) -> bytes:
        return zlib.compressobj(9, zlib.DEFLATED, -15).flush()


@cache
def zip_bomb() -> bytes:
    """A 1 GiB worksheet of zeros that deflates to about 1 MB, in an otherwise normal
    workbook; zipfile writes the headers and the CRC (of the real gigabyte), the compressed
    bytes come from ``_RepeatedZeros``."""
    out = io.BytesIO()
    base = zipfile.ZipFile(io.BytesIO(minimal_workbook()))
    zeros = bytes(MiB)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in base.infolist():
            if item.filename != SHEET:
                archive.writestr(item.filename, base.read(item.filename))
        with archive.open(SHEET, "w", force_zip64=True) as part:
            part._compressor = _RepeatedZeros()  # zipfile's private writer: see above
            for _ in range(1024):
                part.write(zeros)
    return out.getvalue()


def many_entries(count: int = 100_000) -> bytes:
    """A workbook with ``count`` extra empty parts (stored, short names)."""
    out = io.BytesIO()
    base = zipfile.ZipFile(io.BytesIO(minimal_workbook()))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for item in base.infolist():
            archive.writestr(item.filename, base.read(item.filename))
        for number in range(count):
            archive.writestr(f"x/{number}", b"")
    return out.getvalue()


def truncated(data: bytes | None = None) -> bytes:
    """The first half of a workbook (an interrupted download or upload)."""
    data = data or minimal_workbook()
    return data[: len(data) // 2]


# ------------------------------------------------------------------------------ XML


BILLION_LAUGHS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<!DOCTYPE workbook [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">'.encode()
        for n in range(1, 10)
    )
    + b"]>\n"
)


def _with_prolog(prolog: bytes, entity: bytes, where: bytes) -> Callable[[bytes], bytes]:
    def change(content: bytes) -> bytes:
        body = content.split(b"?>", 1)[-1].lstrip()
        return prolog + body.replace(where, where + entity, 1)

    return change


def billion_laughs(data: bytes | None = None) -> bytes:
    """Nine levels of ten-fold entities (10^9 “lol”s) referenced from the workbook part."""
    return rewrite(
        data or minimal_workbook(),
        {"xl/workbook.xml": _with_prolog(BILLION_LAUGHS, b"&lol9;", b"<sheets>")},
    )


def billion_laughs_after_padding(data: bytes | None = None) -> bytes:
    """The same bomb after 64 KB of comments, past any check that reads only a part's head."""
    prolog = BILLION_LAUGHS.replace(b"\n<!DOCTYPE", b"\n" + b"<!-- pad -->" * 6000 + b"<!DOCTYPE")
    return rewrite(
        data or minimal_workbook(),
        {"xl/workbook.xml": _with_prolog(prolog, b"&lol9;", b"<sheets>")},
    )


def bomb_in_a_part_named_otherwise(data: bytes | None = None, *, utf16: bool = False) -> bytes:
    """The bomb in a part not named .xml (the package's relationships, not names, decide
    what is parsed as XML); optionally in UTF-16 big-endian without a byte-order mark."""
    bomb = BILLION_LAUGHS + b"<workbook>&lol9;</workbook>"
    if utf16:
        bomb = bomb.decode().replace("UTF-8", "UTF-16").encode("utf-16-be")
    return rewrite(data or minimal_workbook(), {"xl/theme/extra.dat": bomb})


XXE = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
)


def external_entity(data: bytes | None = None) -> bytes:
    """A cell whose text is an external entity pointing at /etc/passwd."""

    def change(content: bytes) -> bytes:
        body = content.split(b"?>", 1)[-1].lstrip()
        cell = b'<c r="C1" t="inlineStr"><is><t>&xxe;</t></is></c>'
        return XXE + re.sub(rb'(<row r="1"[^>]*>)', rb"\1" + cell, body, count=1)

    return rewrite(data or minimal_workbook(), {SHEET: change})


def utf16_part(data: bytes | None = None) -> bytes:
    """The workbook part re-encoded as UTF-16, where a byte scan for <!DOCTYPE sees nothing."""

    def change(content: bytes) -> bytes:
        text = content.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
        return text.encode("utf-16")

    return rewrite(data or minimal_workbook(), {"xl/workbook.xml": change})


# ------------------------------------------------------------------------------ not xlsx


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def encrypted_workbook() -> bytes:
    """What Excel writes for a password-protected workbook: an OLE compound file whose
    directory names the EncryptionInfo and EncryptedPackage streams (UTF-16LE)."""
    header = OLE_MAGIC + bytes(504)
    directory = "EncryptionInfo".encode("utf-16-le").ljust(128, b"\0")
    directory += "EncryptedPackage".encode("utf-16-le").ljust(128, b"\0")
    return header + directory + bytes(4096)


def legacy_xls() -> bytes:
    """An Excel 97–2003 file: OLE with a Workbook stream."""
    return OLE_MAGIC + bytes(504) + "Workbook".encode("utf-16-le").ljust(128, b"\0") + bytes(4096)


def csv_renamed() -> bytes:
    return "指标,本期填报值\n新建消防站,3\n乡镇消防站,1\n".encode("utf-8-sig")


def csv_gbk_renamed() -> bytes:
    return "指标,本期填报值\r\n新建消防站,3\r\n".encode("gbk")


def html_renamed() -> bytes:
    """The “Excel” many web systems export: an HTML table named .xls/.xlsx."""
    return (
        '\ufeff\r\n<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head>'
        '<meta charset="utf-8"></head><body><table><tr><td>新建消防站</td><td>3</td></tr>'
        "</table></body></html>"
    ).encode()


def xlsm_renamed(*, with_vba: bool = True) -> bytes:
    """A macro-enabled workbook renamed .xlsx: the macro content type, and the VBA project
    unless ``with_vba`` is false (the content type alone must be enough)."""
    changes: dict = {
        "[Content_Types].xml": lambda c: c.replace(XLSX_TYPE.encode(), XLSM_TYPE.encode()),
    }
    if with_vba:
        changes["xl/vbaProject.bin"] = OLE_MAGIC + b"\0" * 1024
    return rewrite(minimal_workbook(), changes)


def word_document_renamed() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return out.getvalue()


# ------------------------------------------------------------------------------ rows


def _rows_sheet(rows: int, dimension_rows: int) -> bytes:
    """Sheet XML with ``rows`` numbered rows of one number each, built as bytes directly."""
    head = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + f'<dimension ref="A1:A{dimension_rows}"/><sheetData>'.encode()
    )
    body = b"".join(b'<row r="%d"><c><v>1</v></c></row>' % n for n in range(1, rows + 1))
    return head + body + b"</sheetData></worksheet>"


@cache
def million_rows(*, lying_dimension: bool = False) -> bytes:
    """A workbook whose sheet has 1 000 001 rows: about 45 MB of XML that deflates to a few
    MB (under the 5 MB upload limit and the zip-bomb ratio, so only the row limit can stop
    it). With ``lying_dimension`` the sheet claims to be one cell (A1:A1)."""
    rows = 1_000_001
    sheet = _rows_sheet(rows, 1 if lying_dimension else rows)
    return rewrite(minimal_workbook(), {SHEET: sheet})


# ------------------------------------------------------------------------------ cells


def set_cells(data: bytes, cells: dict[str, bytes], *, part: str = SHEET) -> bytes:
    """Replace cells (``{"H4": b'<c r="H4"><v>NaN</v></c>'}``) in a sheet part's XML, the
    way a hand-edited or generated file may hold them (openpyxl would refuse to write some)."""

    def change(content: bytes) -> bytes:
        for ref, xml in cells.items():
            pattern = rb'<c r="' + ref.encode() + rb'"(?:[^>]*/>|[^>]*>.*?</c>)'
            content, count = re.subn(pattern, xml.replace(b"\\", b"\\\\"), content, count=1)
            assert count == 1, f"cell {ref} not found"
        return content

    return rewrite(data, {part: change})


def crc_ok(data: bytes) -> bool:
    """Whether every part of an archive inflates with a good CRC (a sanity check on the
    factories themselves)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        try:
            return archive.testzip() is None
        except (zipfile.BadZipFile, zlib.error):
            return False
