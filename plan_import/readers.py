"""Reading a plan document into lines of text, behind the upload guard.

``read_document(name, data)`` returns a list of ``Line`` (text, where it came from). Every
format comes out the same way the seed texts in fixtures/sources/ look: one paragraph per
line and, for tables, one cell per line in reading order (row by row), with an empty line
between rows; merged cells (vertically) carry the value of the cell above down.

The guard runs before any parser touches the bytes (cheapest checks first):
- name and size, then the magic bytes (a .docx must be a zip, a .pdf must start ``%PDF``,
  a .txt must decode as UTF-8 or GB18030 text);
- .docx / .xlsx: the zip's central directory without inflating anything (entries, total
  uncompressed size, ratio of a zip bomb, encryption), macros refused, then each XML part
  streamed once looking for ``<!DOCTYPE`` / ``<!ENTITY`` (XML entities, billion laughs) —
  the .xlsx path reuses ``reports.excel.upload_guard`` in full;
- .pdf: the page count read from the page tree's ``/Count`` entries and ``/Type /Page``
  objects (no parsing), refused over the limit; after parsing, a PDF whose pages carry no
  text (a scan) is refused.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from django.utils.translation import gettext as _

from reports.excel.upload_guard import (
    DANGEROUS_MARKUP,
    ImportRefused,
    Limits,
    MiB,
    check_workbook_upload,
)

ZIP_MAGIC = b"PK\x03\x04"
PDF_MAGIC = b"%PDF"
SUFFIXES = (".txt", ".docx", ".pdf", ".xlsx")
_PDF_COUNT = re.compile(
    rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)|/Count\s+(\d+)[^>]*?/Type\s*/Pages\b"
)
_PDF_PAGE = re.compile(rb"/Type\s*/Page\b(?!s)")
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
DOCX_MACRO = re.compile(r"vbaProject\.bin$|(^|/)activeX/", re.IGNORECASE)


@dataclass(frozen=True)
class DocumentLimits:
    max_bytes: int = 20 * MiB
    max_uncompressed_bytes: int = 100 * MiB
    max_entries: int = 2000
    max_ratio: int = 200
    max_pages: int = 300
    max_chars: int = 2_000_000


@dataclass(frozen=True)
class Line:
    text: str
    where: str  # "第12段", "表2 第3行", "第4页" — shown next to the source on review
    cell: bool = False  # a table cell (never joined with the lines around it)


def read_document(name: str, data: bytes, limits: DocumentLimits | None = None) -> list[Line]:
    limits = limits or DocumentLimits()
    suffix = PurePath(name or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise ImportRefused(
            "unsupported_type",
            _(
                "“%(name)s”的格式不能导入；"
                "请上传 Word（.docx）、PDF、纯文本（.txt）或 Excel（.xlsx）文件"
            )
            % {"name": name},
        )
    if not data:
        raise ImportRefused("empty_file", _("文件是空的（0 字节），请重新保存后上传"))
    if len(data) > limits.max_bytes:
        raise ImportRefused(
            "too_large",
            _("文件大小 %(size)s MB，超过上限 %(limit)s MB")
            % {"size": f"{len(data) / MiB:.1f}", "limit": f"{limits.max_bytes / MiB:.0f}"},
        )
    if suffix == ".txt":
        return _read_text(data, limits)
    if suffix == ".docx":
        _check_docx(data, limits)
        return _read_docx(data)
    if suffix == ".pdf":
        _check_pdf(data, limits)
        return _read_pdf(data, limits)
    check_workbook_upload(
        name,
        data,
        Limits(
            max_bytes=limits.max_bytes,
            max_uncompressed_bytes=limits.max_uncompressed_bytes,
            max_entries=limits.max_entries,
            max_ratio=limits.max_ratio,
        ),
    )
    return _read_xlsx(data)


# ------------------------------------------------------------------------------ text


def _read_text(data: bytes, limits: DocumentLimits) -> list[Line]:
    if data.startswith((ZIP_MAGIC, PDF_MAGIC)) or b"\x00" in data[:4096]:
        raise ImportRefused(
            "not_text", _("文件内容不是纯文本（可能是改了扩展名的 Word、PDF 或其他文件）")
        )
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise ImportRefused("not_text", _("文本文件的编码无法识别，请另存为 UTF-8 编码后上传"))
    if len(text) > limits.max_chars:
        raise ImportRefused(
            "too_long", _("文本超过 %(limit)s 个字符，请拆分后导入") % {"limit": limits.max_chars}
        )
    return text_lines(text)


def text_lines(text: str) -> list[Line]:
    return [
        Line(raw, _("第%(number)s行") % {"number": number})
        for number, raw in enumerate(text.splitlines(), start=1)
    ]


# ------------------------------------------------------------------------------ zip parts


def _check_zip(data: bytes, limits: DocumentLimits, required: str, what: str) -> zipfile.ZipFile:
    if not data.startswith(ZIP_MAGIC):
        raise ImportRefused(
            "wrong_type",
            _("文件内容不是 %(what)s 格式（可能是旧版 .doc 或改了扩展名的文件），请另存后上传")
            % {"what": what},
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise ImportRefused(
            "corrupt", _("文件已损坏或不完整，无法读取；请重新保存后上传")
        ) from None
    if len(entries) > limits.max_entries:
        raise ImportRefused(
            "too_many_parts",
            _("文件包含 %(count)s 个部件（上限 %(limit)s），已拒绝")
            % {"count": len(entries), "limit": limits.max_entries},
        )
    total = 0
    for entry in entries:
        if entry.flag_bits & 0x1:
            raise ImportRefused("encrypted", _("文件已加密，请取消密码保护后上传"))
        total += entry.file_size
        if entry.file_size > 1024 * 1024 and entry.file_size > limits.max_ratio * max(
            entry.compress_size, 1
        ):
            raise ImportRefused(
                "zip_bomb",
                _("文件中的“%(part)s”压缩比异常（疑似压缩炸弹），已拒绝")
                % {"part": entry.filename},
            )
        if DOCX_MACRO.search(entry.filename):
            raise ImportRefused(
                "macros", _("文件包含宏或 ActiveX 控件，不能导入；请另存为 .docx 后上传")
            )
    if total > limits.max_uncompressed_bytes:
        raise ImportRefused(
            "zip_bomb",
            _("文件解压后超过 %(limit)s MB（疑似压缩炸弹），已拒绝")
            % {"limit": f"{limits.max_uncompressed_bytes / MiB:.0f}"},
        )
    names = {entry.filename for entry in entries}
    if required not in names:
        raise ImportRefused(
            "wrong_type", _("文件不是有效的 %(what)s 文档（缺少正文部件）") % {"what": what}
        )
    for entry in entries:
        if entry.filename.lower().endswith((".xml", ".rels")):
            _scan_xml(archive, entry)
    return archive


def _scan_xml(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> None:
    tail = b""
    try:
        with archive.open(entry) as stream:
            head = stream.read(200)
            declared = _ENCODING.match(head)
            if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00<", b"<\x00")) or (
                declared
                and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8")
            ):
                raise ImportRefused(
                    "xml_encoding",
                    _("文件中的“%(part)s”不是 UTF-8 编码的 XML，已拒绝") % {"part": entry.filename},
                )
            chunk = head
            while chunk:
                window = (tail + chunk).upper()
                if any(markup in window for markup in DANGEROUS_MARKUP):
                    raise ImportRefused(
                        "xml_entities",
                        _("文件中的“%(part)s”含有 XML 实体声明（DOCTYPE/ENTITY），已拒绝")
                        % {"part": entry.filename},
                    )
                tail = chunk[-16:]
                chunk = stream.read(MiB)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError):
        raise ImportRefused(
            "corrupt", _("文件已损坏或不完整，无法读取；请重新保存后上传")
        ) from None


def _check_docx(data: bytes, limits: DocumentLimits) -> None:
    _check_zip(data, limits, "word/document.xml", "Word（.docx）")


def _read_docx(data: bytes) -> list[Line]:
    import docx  # python-docx: imported here so the guard runs before the parser is loaded
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:
        raise ImportRefused(
            "corrupt", _("Word 文档无法读取，请在 Word 或 WPS 中另存为 .docx 后上传")
        ) from None
    lines: list[Line] = []
    paragraph_no = table_no = 0
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            paragraph_no += 1
            lines.append(Line(block.text, _("第%(number)s段") % {"number": paragraph_no}))
        elif isinstance(block, Table):
            table_no += 1
            lines.extend(_table_lines(_docx_rows(block), table_no))
    return lines


def _docx_rows(table) -> list[list[str]]:
    """Cell texts row by row; a vertically merged cell repeats the text above (python-docx
    returns the same cell object for a merged range, so the text carries down)."""
    rows: list[list[str]] = []
    for row in table.rows:
        cells: list[str] = []
        seen = set()
        for cell in row.cells:
            key = id(cell._tc)
            if key in seen:  # horizontally merged: one cell, not repeated
                continue
            seen.add(key)
            cells.append(cell.text.strip())
        rows.append(cells)
    return rows


def _table_lines(rows: list[list[str]], table_no: int) -> list[Line]:
    lines: list[Line] = []
    above: list[str] = []
    for row_no, cells in enumerate(rows, start=1):
        where = _("表%(table)s 第%(row)s行") % {"table": table_no, "row": row_no}
        filled = [
            cell or (above[index] if index < len(above) and index == 0 else "")
            for index, cell in enumerate(cells)
        ]
        for cell in filled:
            for part in cell.splitlines() or [""]:
                lines.append(Line(part, where, cell=True))
        lines.append(Line("", where, cell=True))
        above = filled
    return lines


# ------------------------------------------------------------------------------ pdf


def _check_pdf(data: bytes, limits: DocumentLimits) -> None:
    if not data.startswith(PDF_MAGIC):
        raise ImportRefused(
            "wrong_type", _("文件内容不是 PDF 格式（可能改了扩展名），请另存为 PDF 后上传")
        )
    counts = [int(a or b) for a, b in _PDF_COUNT.findall(data)]
    pages = max(counts) if counts else len(_PDF_PAGE.findall(data))
    pages = max(pages, len(_PDF_PAGE.findall(data)))
    if pages > limits.max_pages:
        raise ImportRefused(
            "too_many_pages",
            _("PDF 共 %(pages)s 页，超过上限 %(limit)s 页，请只上传规划正文")
            % {"pages": pages, "limit": limits.max_pages},
        )


def _read_pdf(data: bytes, limits: DocumentLimits) -> list[Line]:
    """Paragraphs and tables rebuilt from the printed page (``plan_import.pdf_layout``):
    the same lines a .docx of the same document gives."""
    import pdfplumber

    from plan_import.pdf_layout import Paragraph, read_layout

    lines: list[Line] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) > limits.max_pages:
                raise ImportRefused(
                    "too_many_pages",
                    _("PDF 共 %(pages)s 页，超过上限 %(limit)s 页，请只上传规划正文")
                    % {"pages": len(pdf.pages), "limit": limits.max_pages},
                )
            table_no = 0
            for item in read_layout(pdf):
                if isinstance(item, Paragraph):
                    lines.append(Line(item.text, _("第%(page)s页") % {"page": item.page}))
                else:
                    table_no += 1
                    lines.extend(_table_lines(item.rows, table_no))
    except ImportRefused:
        raise
    except Exception:
        raise ImportRefused(
            "corrupt", _("PDF 文件无法读取（可能已损坏或加密），请重新导出后上传")
        ) from None
    if not any(line.text.strip() for line in lines):
        raise ImportRefused(
            "no_text_layer",
            _("PDF 中没有可提取的文字（可能是扫描件或图片），请上传带文字层的 PDF 或 Word 原件"),
        )
    return lines


# ------------------------------------------------------------------------------ xlsx


def _read_xlsx(data: bytes) -> list[Line]:
    """Each sheet's rows as table lines; the extractor finds the columns by header name."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise ImportRefused("corrupt", _("Excel 文件无法读取，请重新保存后上传")) from None
    lines: list[Line] = []
    for sheet_no, sheet in enumerate(workbook.worksheets, start=1):
        lines.append(Line(f"@sheet {sheet.title}", _("第%(n)s个工作表") % {"n": sheet_no}))
        for row_no, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = ["" if value is None else str(value).strip() for value in row]
            while cells and not cells[-1]:
                cells.pop()
            if not cells:
                continue
            lines.append(
                Line(
                    "@row " + "\t".join(cell.replace("\t", " ") for cell in cells),
                    _("%(sheet)s 第%(row)s行") % {"sheet": sheet.title, "row": row_no},
                )
            )
    workbook.close()
    return lines
