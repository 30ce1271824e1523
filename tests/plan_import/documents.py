"""Documents made in the test from the seed texts: a .docx (paragraphs; the tab-indented
cell lines of the texts' tables as real Word tables, one row per group of cells) and a
.pdf converted from it by LibreOffice; and hostile files."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest


def docx_from_text(text: str, layout: str = "plain") -> bytes:
    """The text as a .docx: ``plain`` is python-docx's template (Letter, no indents, 10 pt
    after each paragraph, left-aligned); ``official`` is set like a government document
    (公文: A4, 16 pt, a first-line indent of two characters, 28 pt line step and no
    paragraph spacing, justified, a running header and a page number 「— 3 —」 in the
    footer) — the two ways a PDF's paragraphs must be told apart."""
    import docx

    document = docx.Document()
    if layout == "official":
        _official(document)
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("\t"):
            # a table: tab-indented cell lines, rows separated by empty lines
            rows: list[list[str]] = [[]]
            while index < len(lines) and (
                lines[index].startswith(("\t", " ", "\xa0")) or not lines[index].strip()
            ):
                if lines[index].strip():
                    rows[-1].append(lines[index].strip())
                elif rows[-1]:
                    rows.append([])
                index += 1
            rows = [row for row in rows if row]
            width = max(len(row) for row in rows)
            table = document.add_table(rows=len(rows), cols=width)
            table.style = "Table Grid"  # ruled, as annex tables are
            for r, row in enumerate(rows):
                for c in range(width):
                    cell = table.cell(r, c)
                    cell.text = row[c] if c < len(row) else ""
                    if layout == "official":
                        cell.paragraphs[0].paragraph_format.first_line_indent = 0
            continue
        document.add_paragraph(line)
        index += 1
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _official(document) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    normal = document.styles["Normal"]
    normal.font.size = Pt(16)
    paragraph = normal.paragraph_format
    paragraph.first_line_indent = Pt(32)
    paragraph.space_before = paragraph.space_after = Pt(0)
    paragraph.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    paragraph.line_spacing = Pt(28)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    header = section.header.paragraphs[0]
    header.text = "某市消防救援事业发展规划（征求意见稿）"
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    header.paragraph_format.first_line_indent = 0
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.paragraph_format.first_line_indent = 0
    footer.add_run("— ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    footer._p.append(field)
    footer.add_run(" —")


def skip_or_fail(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(f"注意 NOTICE: skipped — {reason}")


def pdfs_from_docx(documents: dict[str, bytes]) -> dict[str, bytes]:
    """Convert all the documents in one soffice run."""
    soffice = shutil.which("soffice")
    if not soffice:
        skip_or_fail("soffice (LibreOffice) is not installed")
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        for name, data in documents.items():
            (folder / f"{name}.docx").write_bytes(data)
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{folder}/profile",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(folder),
                *[str(folder / f"{name}.docx") for name in documents],
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
        return {name: (folder / f"{name}.pdf").read_bytes() for name in documents}


def rezip(data: bytes, changes: dict[str, bytes], *, level: int = zipfile.ZIP_DEFLATED) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", level) as target:
        for item in source.infolist():
            if item.filename in changes:
                continue
            target.writestr(item.filename, source.read(item.filename))
        for name, content in changes.items():
            target.writestr(name, content)
    return out.getvalue()


def minimal_docx(text: str = "某市“十四五”消防救援事业发展规划") -> bytes:
    return docx_from_text(text)


def zip_bomb_docx() -> bytes:
    """A .docx whose document.xml inflates from a few KB to 200 MB of spaces."""
    return rezip(minimal_docx(), {"word/document.xml": b" " * (200 * 1024 * 1024)})


def entity_docx() -> bytes:
    bomb = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>"
    )
    return rezip(minimal_docx(), {"word/document.xml": bomb})


def image_only_pdf() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (600, 800), "white").save(buffer, "PDF")
    return buffer.getvalue()


def many_pages_pdf(pages: int = 2000) -> bytes:
    """A hand-written PDF declaring 2 000 pages (the page tree's /Count)."""
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    objects = [
        b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj",
        f"2 0 obj << /Type /Pages /Kids [{kids}] /Count {pages} >> endobj".encode(),
    ]
    objects += [
        f"{3 + i} 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >> endobj".encode()
        for i in range(pages)
    ]
    return b"%PDF-1.4\n" + b"\n".join(objects) + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"
