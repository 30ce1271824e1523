"""The gate an uploaded workbook passes before any XML parser touches it.

``check_workbook_upload(name, data, limits)`` refuses, with a stable English code (for the
API) and a Chinese message (for pages), everything that is not a small, ordinary .xlsx
workbook — cheapest checks first, so a hostile file costs almost nothing:

1. the name (.xlsx) and the size, then the first bytes: ``PK\\x03\\x04`` or it is an OLE
   compound file (an encrypted workbook or an old .xls), HTML or XML text, CSV or text;
2. the zip's central directory, without decompressing anything: a truncated or corrupt
   archive, too many entries, a total uncompressed size or a per-entry compression ratio
   of a zip bomb, encrypted entries, compression methods Excel does not write. The declared
   sizes can be trusted as a bound: ``zipfile`` never inflates an entry past its declared
   size (it stops there and the CRC check fails);
3. the parts: [Content_Types].xml and xl/workbook.xml present; no macros (vbaProject.bin,
   Excel 4 macro sheets, ActiveX, a macro-enabled content type — an .xlsm renamed .xlsx);
4. every part streamed once, in 1 MiB chunks (memory stays flat): UTF-8 only, no
   ``<!DOCTYPE`` or ``<!ENTITY`` anywhere (billion laughs, XXE) — a literal ``<`` cannot
   occur in XML text, so a match is always markup — and, for worksheets, no row beyond the
   row limit, read from the ``<dimension>`` and from the rows themselves, stopping at the
   first one over the limit (a million-row sheet is never inflated, let alone loaded).

The figures import reads with the standard library's expat (``sheet_reader``, streaming)
and plan documents with openpyxl (defusedxml, lxml without entity resolution), both behind
step 4, which refuses any DTD or entity declaration before they see the file.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePath

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.services import ServiceError

MiB = 1024 * 1024
CHUNK = MiB
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# An encrypted OOXML workbook is an OLE file holding an "EncryptedPackage" stream (the
# stream names are UTF-16LE in the OLE directory).
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
REQUIRED_PARTS = ("[Content_Types].xml", "xl/workbook.xml")
XML_SUFFIXES = (".xml", ".rels", ".vml")
MACRO_PARTS = re.compile(r"(^|/)vbaProject\.bin$|^xl/macrosheets/|^xl/activeX/", re.IGNORECASE)
DANGEROUS_MARKUP = (b"<!DOCTYPE", b"<!ENTITY")
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="[A-Z]{0,3}\d*:?[A-Z]{1,3}(\d+)"')
_ROW = re.compile(rb"<(?:\w+:)?row\b([^>]*)>")
_ROW_NUMBER = re.compile(rb'\br="(\d{1,9})"')
WORKSHEET = re.compile(r"^xl/(worksheets|chartsheets|dialogsheets)/[^/]+\.xml$")


class ImportRefused(ServiceError):
    """The whole file is refused; nothing was written."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 5 * MiB
    max_uncompressed_bytes: int = 100 * MiB
    max_entries: int = 500
    # A real workbook part compresses 5–20 times; a zip bomb hundreds or thousands of times.
    max_ratio: int = 200
    max_rows: int = 20_000  # the highest row number a worksheet may use


OTHER_FORMATS = {
    b"%PDF": gettext_lazy("PDF 文档"),
    b"\x89PNG": gettext_lazy("PNG 图片"),
    b"\xff\xd8\xff": gettext_lazy("JPEG 图片"),
    b"Rar!": gettext_lazy("RAR 压缩包"),
    b"7z\xbc\xaf": gettext_lazy("7z 压缩包"),
    b"{\\rtf": gettext_lazy("RTF 文档"),
}
NOT_XLSX_HINT = gettext_lazy("请在 Excel 或 WPS 中打开后另存为 .xlsx（Excel 工作簿）再上传")
OLE_MESSAGE = gettext_lazy("文件已加密或为旧版 .xls 格式，请另存为 .xlsx")


def _size(size: float) -> str:
    return f"{size / MiB:.1f} MB"


def check_workbook_upload(name: str, data: bytes, limits: Limits) -> None:
    """Refuse (``ImportRefused``) what is not a small, ordinary .xlsx workbook."""
    _check_name(name)
    if len(data) > limits.max_bytes:
        raise ImportRefused(
            "too_large",
            _("文件大小 %(size)s，超过上限 %(limit)s MB")
            % {"size": _size(len(data)), "limit": f"{limits.max_bytes / MiB:.0f}"},
        )
    if not data:
        raise ImportRefused("empty_file", _("文件是空的（0 字节），请重新保存后上传"))
    if not data.startswith(ZIP_MAGIC):
        _refuse_by_content(data)
    archive = _open_archive(data)
    entries = archive.infolist()
    _check_entries(entries, limits)
    names = {entry.filename for entry in entries}
    _check_parts(archive, names)
    for entry in entries:
        _scan_part(archive, entry, limits)


def _check_name(name: str) -> None:
    suffix = PurePath(name or "").suffix.lower()
    if suffix == ".xlsx":
        return
    hints = {
        ".xls": _("这是旧版 .xls 文件，%(hint)s") % {"hint": NOT_XLSX_HINT},
        ".xlsm": _("启用宏的工作簿不能上传，%(hint)s") % {"hint": NOT_XLSX_HINT},
        ".csv": _("CSV 文件不能直接上传，%(hint)s") % {"hint": NOT_XLSX_HINT},
    }
    hint = hints.get(suffix) or _("请上传从本系统下载的填报模板（Excel 2007 及以上格式）")
    raise ImportRefused(
        "not_xlsx", _("“%(name)s”不是 .xlsx 文件；%(hint)s") % {"name": name, "hint": hint}
    )


def _refuse_by_content(data: bytes) -> None:
    """Name what the file really is, so the user knows how to fix it."""
    if data.startswith(OLE_MAGIC[:4]):
        if ENCRYPTED_PACKAGE in data:
            raise ImportRefused(
                "encrypted",
                _("%(message)s（该文件设置了打开密码，请先取消密码保护）")
                % {"message": OLE_MESSAGE},
            )
        raise ImportRefused(
            "legacy_xls", _("%(message)s（该文件是旧版 .xls 格式）") % {"message": OLE_MESSAGE}
        )
    for magic, what in OTHER_FORMATS.items():
        if data.startswith(magic):
            raise ImportRefused(
                "not_xlsx",
                _("文件内容是 %(what)s，不是 xlsx 格式；%(hint)s")
                % {"what": what, "hint": NOT_XLSX_HINT},
            )
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        raise ImportRefused(
            "html_file",
            _(
                "文件内容是网页（HTML）或 XML 文本，不是 xlsx 格式（常见于从网页或旧系统导出的"
                "“Excel”文件）；%(hint)s"
            )
            % {"hint": NOT_XLSX_HINT},
        )
    if _looks_like_text(head):
        raise ImportRefused(
            "text_file",
            _("文件内容是 CSV 或纯文本，不是 xlsx 格式（扩展名被改成了 .xlsx）；%(hint)s")
            % {"hint": NOT_XLSX_HINT},
        )
    raise ImportRefused(
        "not_xlsx",
        _(
            "文件内容不是 xlsx 格式（可能是 .xls、.csv 或改了扩展名的文件），"
            "请在 Excel 或 WPS 中另存为 .xlsx 后上传"
        ),
    )


def _looks_like_text(head: bytes) -> bool:
    for encoding in ("utf-8", "gb18030"):
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError:
            # The sample may end inside a multi-byte character.
            try:
                text = head[:-3].decode(encoding)
            except UnicodeDecodeError:
                continue
        return all(ch.isprintable() or ch in "\t\r\n" for ch in text)
    return False


def _open_archive(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise ImportRefused(
            "corrupt",
            _(
                "文件已损坏或不完整（可能没有完整下载、保存或上传），无法读取；"
                "请在 Excel 或 WPS 中重新保存后上传"
            ),
        ) from None


def _check_entries(entries: list[zipfile.ZipInfo], limits: Limits) -> None:
    if len(entries) > limits.max_entries:
        raise ImportRefused(
            "too_many_parts",
            _("文件包含 %(count)s 个部件（上限 %(limit)s），不是正常的 Excel 文件，已拒绝")
            % {"count": len(entries), "limit": limits.max_entries},
        )
    total = sum(entry.file_size for entry in entries)
    if total > limits.max_uncompressed_bytes:
        raise ImportRefused(
            "zip_bomb",
            _("文件解压后达 %(size)s MB，超过上限 %(limit)s MB，可能是“压缩炸弹”，已拒绝")
            % {
                "size": f"{total / MiB:.0f}",
                "limit": f"{limits.max_uncompressed_bytes / MiB:.0f}",
            },
        )
    for entry in entries:
        if entry.flag_bits & 0x1:
            raise ImportRefused("encrypted", _("文件已加密，请取消密码保护后另存为 .xlsx 再上传"))
        if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ImportRefused(
                "not_xlsx",
                _("文件使用了 Excel 不会使用的压缩方式，不是正常的 xlsx 文件；%(hint)s")
                % {"hint": NOT_XLSX_HINT},
            )
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > MiB and ratio > limits.max_ratio:
            raise ImportRefused(
                "zip_bomb",
                _(
                    "文件部件 %(part)s 的压缩比达 %(ratio)s 倍（可能是“压缩炸弹”），"
                    "不是正常的 Excel 文件，已拒绝"
                )
                % {"part": entry.filename[:60], "ratio": f"{ratio:.0f}"},
            )


def _check_parts(archive: zipfile.ZipFile, names: set[str]) -> None:
    lowered = {n.lower() for n in names}
    if "xl/workbook.bin" in lowered:
        raise ImportRefused(
            "not_xlsx", _("这是 .xlsb（二进制工作簿）文件；%(hint)s") % {"hint": NOT_XLSX_HINT}
        )
    if not all(part in names for part in REQUIRED_PARTS):
        what = _("，是 Word 文档") if "word/document.xml" in lowered else ""
        raise ImportRefused(
            "not_workbook",
            _(
                "文件不是 Excel 工作簿（缺少工作簿结构%(what)s），无法读取；"
                "请上传从本系统下载的填报模板"
            )
            % {"what": what},
        )
    macros = any(MACRO_PARTS.search(n) for n in names)
    if not macros:
        info = archive.getinfo("[Content_Types].xml")
        if info.file_size > MiB:
            raise ImportRefused(
                "not_xlsx", _("文件的内容类型清单异常，不是正常的 Excel 文件，已拒绝")
            )
        content_types = _read(archive, info)
        macros = b"macroenabled" in content_types.lower() or b"vbaproject" in content_types.lower()
    if macros:
        raise ImportRefused(
            "macros",
            _("文件包含宏（.xlsm 或含 VBA 代码），已拒绝；请另存为不含宏的 .xlsx 文件后上传"),
        )


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    try:
        with archive.open(info) as part:
            return part.read(info.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError):
        raise ImportRefused(
            "corrupt", _("文件已损坏或不完整，无法读取；请重新保存后上传")
        ) from None


def _scan_part(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, limits: Limits) -> None:
    """Stream one part: its encoding if it is XML, DTD or entity declarations, and rows if a
    sheet. Every part is scanned, whatever its name: the package's relationships, not the
    names, tell openpyxl which part is the workbook, so an XML part may be called anything."""
    worksheet = bool(WORKSHEET.match(entry.filename))
    last_row = 0
    tail = b""
    first = True
    try:
        with archive.open(entry) as part:
            while chunk := part.read(CHUNK):
                if first:
                    _check_encoding(chunk, entry.filename, _looks_like_xml(entry, chunk))
                    if worksheet:
                        _check_dimension(chunk, entry.filename, limits)
                    first = False
                window = tail + chunk
                if any(marker in window for marker in DANGEROUS_MARKUP):
                    raise ImportRefused(
                        "xml_entities",
                        _(
                            "文件包含 XML 文档类型或实体声明（可能是“XML 炸弹”或外部实体攻击），"
                            "不是正常的 Excel 文件，已拒绝"
                        ),
                    )
                if worksheet:
                    last_row = _check_rows(window, len(tail), last_row, entry.filename, limits)
                tail = window[-1024:]
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError):
        raise ImportRefused(
            "corrupt", _("文件已损坏或不完整（部件无法解压），无法读取；请重新保存后上传")
        ) from None


# “<?” in UTF-16 or UTF-32 without a byte-order mark, which XML parsers recognise.
WIDE_XML_STARTS = (b"\x00<\x00?", b"<\x00?\x00", b"\x00\x00\x00<", b"<\x00\x00\x00")


def _looks_like_xml(entry: zipfile.ZipInfo, head: bytes) -> bool:
    return (
        entry.filename.lower().endswith(XML_SUFFIXES)
        or head.lstrip()[:1] == b"<"
        or head.startswith(WIDE_XML_STARTS)
    )


def _check_encoding(head: bytes, name: str, xml: bool) -> None:
    """UTF-8 only: in UTF-16 a byte scan for “<!DOCTYPE” would find nothing. (Images and
    printer settings are binary: only a UTF-16 byte-order mark is refused there.)"""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (xml and b"\x00" in head[:64]):
        raise ImportRefused(
            "xml_encoding",
            _("文件部件 %(part)s 不是 UTF-8 编码，不是正常的 Excel 文件") % {"part": name},
        )
    match = _ENCODING.match(head.removeprefix(b"\xef\xbb\xbf"))
    if match and match.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        raise ImportRefused(
            "xml_encoding",
            _("文件部件 %(part)s 不是 UTF-8 编码，不是正常的 Excel 文件") % {"part": name},
        )


def _too_many_rows(limits: Limits, name: str, rows: int) -> ImportRefused:
    sheet = PurePath(name).stem
    return ImportRefused(
        "too_many_rows",
        _(
            "工作表（%(sheet)s）至少有 %(rows)s 行，超过上限 %(limit)s 行；"
            "请删除多余的行，或使用本系统下载的填报模板"
        )
        % {"sheet": sheet, "rows": rows, "limit": limits.max_rows},
    )


def _check_dimension(head: bytes, name: str, limits: Limits) -> None:
    match = _DIMENSION.search(head[:8192])
    if match and int(match.group(1)) > limits.max_rows:
        raise _too_many_rows(limits, name, int(match.group(1)))


def _check_rows(window: bytes, start: int, last_row: int, name: str, limits: Limits) -> int:
    """The highest row number so far; a row without ``r`` follows the one before it.

    ``window`` is the previous chunk's tail (``start`` bytes) and this chunk: a tag that ended
    inside the tail was counted with the previous chunk."""
    for match in _ROW.finditer(window):
        if match.end() <= start:
            continue
        number = _ROW_NUMBER.search(match.group(1))
        last_row = int(number.group(1)) if number else last_row + 1
        if last_row > limits.max_rows:
            raise _too_many_rows(limits, name, last_row)
    return last_row
