"""Reading an uploaded workbook once the upload guard has passed it: python-calamine (Rust)
parses the cells' values, one streaming pass over a sheet's XML finds what calamine does not
say, and rows come out one at a time.

calamine gives every cell's value (numbers as floats, text, booleans, dates and times as
Python objects, "" for an empty cell) but neither its formula, nor its error value (an error
cell reads as ""), nor its number format (a percentage format means 0.95 is 95 %). The
``facts`` pass reads those for the few columns asked, from the sheet's XML part streamed in
1 MiB chunks (a regular expression over the bytes: the guard has already refused DTDs,
entities, non-UTF-8 parts and oversized sheets), and keeps only the cells that have one.

calamine itself holds one sheet's cells at a time (a compact Rust array; ``iter_rows`` turns
one row at a time into Python values), so a caller that keeps only what it needs of each row
holds little more than that.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from defusedxml import ElementTree
from python_calamine import CalamineWorkbook

CHUNK = 1 << 20
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
PACKAGE = "{http://schemas.openxmlformats.org/package/2006/relationships}"
PERCENT_BUILTINS = {9: "0%", 10: "0.00%"}  # ECMA-376 built-in number formats
MARGIN = 64  # bytes at a chunk's end where a cell's tag may continue in the next chunk
_STYLE = re.compile(rb'\bs="(\d+)"')
_ERROR = re.compile(rb'\bt="e"')
_VALUE = re.compile(rb"\s*<(?:\w+:)?v>([^<]{0,40})<")


class Unreadable(Exception):
    """The workbook cannot be read (broken XML or zip inside, a cell calamine refuses)."""


def column_letter(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass
class CellFacts:
    """What a sheet's XML says of some cells beyond their values: (row, column) → text."""

    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    formats: dict[tuple[int, int], str] = field(default_factory=dict)  # percentage formats


class Workbook:
    """An uploaded .xlsx, read with python-calamine."""

    def __init__(self, data: bytes):
        self.data = data
        try:
            self.book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        except Exception as error:  # CalamineError, ZipError, XmlError …
            raise Unreadable(str(error)) from None
        self.sheet_names = list(self.book.sheet_names)
        self._archive: zipfile.ZipFile | None = None
        self._parts: dict[str, str] | None = None

    def close(self) -> None:
        self.book.close()
        if self._archive is not None:
            self._archive.close()

    # ------------------------------------------------------------------ values

    def rows(
        self, name: str, *, first_row: int, first_column: int, last_column: int
    ) -> Iterator[tuple[int, list]]:
        """(row number, values of columns ``first_column``…``last_column``) for each row from
        ``first_row`` on, numbers from 1 as Excel counts; an empty cell is None."""
        try:
            sheet = self.book.get_sheet_by_name(name)
            start = sheet.start
            rows = sheet.iter_rows()
        except Exception as error:
            raise Unreadable(str(error)) from None
        if start is None:
            return
        # iter_rows counts rows from the first (row 1), columns from the first one used.
        offset = start[1] + 1
        low, high = first_column - offset, last_column - offset + 1
        pad = max(0, -low)
        low = max(low, 0)
        number = 0
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except Exception as error:
                raise Unreadable(str(error)) from None
            number += 1
            if number < first_row:
                continue
            cells = [None] * pad + [None if v == "" else v for v in values[low:high]]
            cells += [None] * (last_column - first_column + 1 - len(cells))
            yield number, cells

    def merged_rows(self, name: str, first_row: int) -> list[int]:
        """First rows of merged ranges that reach ``first_row`` or below."""
        ranges = self.book.get_sheet_by_name(name).merged_cell_ranges or []
        return sorted({top + 1 for (top, _), (bottom, _) in ranges if bottom + 1 >= first_row})

    # ------------------------------------------------------------------ the XML

    def _part(self, name: str) -> str | None:
        """The zip path of the sheet called ``name`` (xl/workbook.xml and its relationships)."""
        if self._parts is None:
            self._archive = zipfile.ZipFile(io.BytesIO(self.data))
            names = set(self._archive.namelist())
            targets = {}
            rels = "xl/_rels/workbook.xml.rels"
            if rels in names:
                for item in ElementTree.fromstring(self._archive.read(rels)):
                    target = item.get("Target") or ""
                    path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                    targets[item.get("Id")] = posixpath.normpath(path)
                    if (item.get("Type") or "").endswith("/styles"):
                        targets["styles"] = posixpath.normpath(path)
            self._parts = {"styles": targets.get("styles", "xl/styles.xml")}
            root = ElementTree.fromstring(self._archive.read("xl/workbook.xml"))
            for sheet in root.iter(f"{MAIN}sheet"):
                path = targets.get(sheet.get(RELATIONSHIP))
                if path in names:
                    self._parts[sheet.get("name")] = path
        return self._parts.get(name)

    def _percent_styles(self) -> dict[bytes, str]:
        """Cell style ids (as the ``s`` attribute writes them) whose format is a percentage."""
        path = self._part("styles")
        if path not in set(self._archive.namelist()):
            return {}
        root = ElementTree.fromstring(self._archive.read(path))
        formats = dict(PERCENT_BUILTINS)
        for item in root.iter(f"{MAIN}numFmt"):
            code = item.get("formatCode") or ""
            if "%" in code:
                formats[int(item.get("numFmtId") or -1)] = code
        found = {}
        cell_xfs = root.find(f"{MAIN}cellXfs")
        for index, xf in enumerate(cell_xfs if cell_xfs is not None else ()):
            code = formats.get(int(xf.get("numFmtId") or 0))
            if code:
                found[str(index).encode()] = code
        return found

    def facts(self, name: str, columns: list[int], *, formats_of: int | None = None) -> CellFacts:
        """Formulas and error values in ``columns`` of the sheet, and percentage formats of
        the cells of column ``formats_of``, from one pass over its XML."""
        facts = CellFacts()
        try:
            path = self._part(name)
            if path is None:
                return facts
            percent = self._percent_styles() if formats_of is not None else {}
            letters = {column_letter(c).encode(): c for c in columns}
            cell = re.compile(
                rb'<(?:\w+:)?c\s([^>]*?\br="('
                + b"|".join(letters)
                + rb')(\d{1,7})"[^>]*?)(/?)>(\s*<(?:\w+:)?f[\s>/])?'
            )
            with self._archive.open(path) as source:
                self._scan(source, cell, letters, percent, formats_of, facts)
        except (zipfile.BadZipFile, ElementTree.ParseError, KeyError, ValueError) as error:
            raise Unreadable(str(error)) from None
        return facts

    @staticmethod
    def _scan(source, cell, letters, percent, formats_of, facts: CellFacts) -> None:
        tail = b""
        done = 0  # absolute offset of the end of the last cell tag handled
        base = 0  # absolute offset of the window's first byte
        chunk = source.read(CHUNK)
        while chunk:
            following = source.read(CHUNK)
            window = tail + chunk
            limit = len(window) if not following else len(window) - MARGIN
            for match in cell.finditer(window):
                end = match.end()
                if base + end <= done or end > limit:
                    continue
                done = base + end
                attributes, letter, row, closed, formula = match.groups()
                where = (int(row), letters[letter])
                if formula:
                    text = window[match.start(5) : match.start(5) + 80]
                    inner = re.search(rb">([^<]{0,40})", text)
                    facts.formulas[where] = (
                        "=" + inner.group(1).decode(errors="replace") if inner else "="
                    )
                elif _ERROR.search(attributes):
                    value = _VALUE.match(window, end) if not closed else None
                    facts.errors[where] = (
                        value.group(1).decode(errors="replace") if value else "#N/A"
                    )
                elif where[1] == formats_of and percent:
                    style = _STYLE.search(attributes)
                    if style and style.group(1) in percent:
                        facts.formats[where] = percent[style.group(1)]
            base += len(window) - min(len(window), 1024)
            tail = window[-1024:]
            chunk = following
