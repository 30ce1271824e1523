"""Reading an uploaded workbook once the upload guard has passed it: one streaming pass over
a sheet's XML (the standard library's expat parser, fed from the zip member in chunks) gives
the cells' values one row at a time, and one more, a regular expression over the bytes, finds
what a value does not say.

Values come out as python-calamine gave them (the import read with it until issue 19's
"stream, don't hold"): numbers as floats, text, booleans, dates and times as Python objects
(a number in a date, time or duration format; 1900 or 1904 date system), "" for an empty
cell and for an error value or a formula without a cached result. The shared-strings table
is read once per workbook (bounded by the distinct texts); everything else is per row: each
row's element is dropped once its values are out, so memory stays flat whatever the number
of rows. The upload guard has already refused DTDs, entity declarations, non-UTF-8 parts and
oversized sheets, so expat sees only plain XML.

The ``facts`` pass reads formulas, error values and percentage formats (0.95 shown as 95 %)
for the few columns asked, from the sheet's XML part streamed in 1 MiB chunks, and keeps only
the cells that have one.
"""

from __future__ import annotations

import datetime
import io
import math
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError as XMLParseError
from xml.etree.ElementTree import XMLPullParser
from xml.parsers.expat import ExpatError, ParserCreate

from defusedxml import ElementTree

CHUNK = 1 << 20
READ = 1 << 18  # bytes of a sheet read at a time for its rows
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
PACKAGE = "{http://schemas.openxmlformats.org/package/2006/relationships}"
PERCENT_BUILTINS = {9: "0%", 10: "0.00%"}  # ECMA-376 built-in number formats
# Built-in number formats that show a date or time (as calamine reads them), and durations.
DATE_BUILTINS = {*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)}
DURATION_BUILTINS = {46}
MARGIN = 64  # bytes at a chunk's end where a cell's tag may continue in the next chunk
_STYLE = re.compile(rb'\bs="(\d+)"')
_ERROR = re.compile(rb'\bt="e"')
_VALUE = re.compile(rb"\s*<(?:\w+:)?v>([^<]{0,40})<")
_MERGE = re.compile(
    rb'<(?:\w+:)?mergeCell\s[^>]*?\bref="\$?[A-Z]{1,3}\$?(\d{1,7})(?::\$?[A-Z]{1,3}\$?(\d{1,7}))?"'
)
_REFERENCE = re.compile(r"([A-Z]{1,3})(\d{1,7})$")
_QUOTED = re.compile(r'"[^"]*"|\\.|_.|\*.')
_BRACKET = re.compile(r"\[([^\]]*)\]")
_EPOCH = datetime.datetime(1899, 12, 30)  # noqa: DTZ001 (a cell's date is naive)
_EPOCH_1904 = datetime.datetime(1904, 1, 1)  # noqa: DTZ001
DATE, DURATION = 1, 2
# a cell whose first attribute is not its reference (r="B12"): Excel, WPS, LibreOffice,
# openpyxl and XlsxWriter write it first, but any order is allowed
_ANONYMOUS_CELL = re.compile(rb'<(?:\w+:)?c(?:/?>|\s+(?!r="))')
_ROW_END = re.compile(rb"</(?:\w+:)?row>")
_TYPE = re.compile(rb'\bt="(\w+)"')
_V = re.compile(rb"<(?:\w+:)?v(?:\s[^>]*)?>(.*?)</(?:\w+:)?v>", re.DOTALL)
_TEXT = re.compile(rb"<(?:\w+:)?t(?:\s[^>]*)?>(.*?)</(?:\w+:)?t>", re.DOTALL)
_PHONETIC = re.compile(rb"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", re.DOTALL)
_CDATA = re.compile(rb"<!\[CDATA\[(.*?)\]\]>", re.DOTALL)
_REFERENCE_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


class _Anonymous(Exception):
    """A cell without its ``r`` reference: the sheet is read element by element."""


def _entity(match: re.Match) -> str:
    name = match.group(1)
    if name[0] != "#":
        return _NAMED[name]
    return chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:]))


def _xml_text(raw: bytes) -> str:
    """The text of an element's content (well-formed, no markup but CDATA sections)."""
    if b"<![CDATA[" in raw:
        parts = []
        position = 0
        for match in _CDATA.finditer(raw):
            parts.append(_xml_text(raw[position : match.start()]))
            parts.append(match.group(1).decode())
            position = match.end()
        parts.append(_xml_text(raw[position:]))
        return "".join(parts)
    text = raw.decode()
    if "&" in text:
        text = _REFERENCE_ENTITY.sub(_entity, text)
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _number(text: str) -> float | None:
    """A number cell's text as a float, as Rust reads one (no spaces or underscores)."""
    if "_" in text or text != text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _last_row_end(window: bytes) -> int:
    """Where the last complete row of ``window`` ends (-1: none)."""
    found = window.rfind(b"row>")
    while found >= 0:
        match = _ROW_END.search(window, max(0, found - 40), found + 4)
        if match and match.end() == found + 4:
            return match.end()
        found = window.rfind(b"row>", 0, found)
    return -1


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


def _text_of(element) -> str:
    """The text of a rich-text or inline string: its ``t`` elements joined, the phonetic
    runs (``rPh``) left out."""
    if _local(element.tag) == "t":
        return element.text or ""
    parts = []
    for child in element:
        local = _local(child.tag)
        if local == "t":
            parts.append(child.text or "")
        elif local == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return "".join(parts)


def column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _format_kind(code: str) -> int:
    """DATE when a custom number format shows a date or time, DURATION for elapsed time
    ([h]:mm), else 0 — quoted text, escaped characters and [colours] aside, as calamine."""
    code = _QUOTED.sub("", code)
    if any(inner.lower().strip() in ("h", "hh", "m", "mm", "s", "ss") for inner in
           _BRACKET.findall(code)):  # fmt: skip
        return DURATION
    code = _BRACKET.sub("", code).split(";")[0].lower()
    if code == "general":
        return 0
    return DATE if any(letter in code for letter in "dmyhs") else 0


class Workbook:
    """An uploaded .xlsx, read one row at a time from its XML."""

    def __init__(self, data: bytes):
        self.data = data
        self._archive: zipfile.ZipFile | None = None
        self._parts: dict[str, str] | None = None
        self._strings: list[str] | None = None
        self._kinds: dict[str, int] | None = None
        self._epoch = _EPOCH
        try:
            self._part("")
        except (zipfile.BadZipFile, ElementTree.ParseError, KeyError, ValueError) as error:
            raise Unreadable(str(error)) from None
        self.sheet_names = list(self._names)

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()
        self._strings = None

    # ------------------------------------------------------------------ values

    def _shared_strings(self) -> list[str]:
        """The workbook's shared-strings table: one text per ``<si>`` (its runs joined,
        phonetic hints left out)."""
        if self._strings is None:
            self._strings = []
            path = self._parts.get("sharedStrings", "xl/sharedStrings.xml")
            if path in self._names_in_zip:
                for element in self._iterate(path, "si"):
                    self._strings.append(_text_of(element))
                    element.clear()
        return self._strings

    def _styles(self) -> dict[str, int]:
        """Cell style ids (the ``s`` attribute) whose format shows a date, time or duration."""
        if self._kinds is None:
            self._kinds = {}
            path = self._parts["styles"]
            if path in self._names_in_zip:
                root = ElementTree.fromstring(self._archive.read(path))
                custom = {
                    int(item.get("numFmtId") or -1): _format_kind(item.get("formatCode") or "")
                    for item in root.iter(f"{MAIN}numFmt")
                }
                cell_xfs = root.find(f"{MAIN}cellXfs")
                for index, xf in enumerate(cell_xfs if cell_xfs is not None else ()):
                    number = int(xf.get("numFmtId") or 0)
                    if number in custom:
                        kind = custom[number]
                    elif number in DATE_BUILTINS:
                        kind = DURATION if number in DURATION_BUILTINS else DATE
                    else:
                        kind = 0
                    if kind:
                        self._kinds[str(index)] = kind
        return self._kinds

    def _iterate(self, path: str, name: str) -> Iterator:
        """The elements called ``name`` (local name) of a part, each as it ends, its earlier
        siblings dropped; the part is fed to expat ``READ`` bytes at a time."""
        parser = XMLPullParser(events=("start", "end"))
        parents = []
        with self._archive.open(path) as source:
            while chunk := source.read(READ):
                parser.feed(chunk)
                for event, element in parser.read_events():
                    if event == "start":
                        parents.append(element)
                        continue
                    parents.pop()
                    if _local(element.tag) == name:
                        yield element
                        if parents:
                            parents[-1].remove(element)
            parser.close()
            for event, element in parser.read_events():
                if event == "end" and _local(element.tag) == name:
                    yield element

    def _value(self, cell, kinds: dict[str, int]):
        kind = cell.get("t")
        if kind == "inlineStr":
            for child in cell:
                if _local(child.tag) == "is":
                    return _text_of(child)
            return ""
        text = None
        for child in cell:
            if _local(child.tag) == "v":
                text = child.text or ""
                break
        if not text or kind == "e":
            return ""
        if kind == "s":
            return self._shared_strings()[int(text)]
        if kind == "b":
            return text.strip() not in ("0", "false", "")
        if kind in ("str", "d"):
            return text
        number = _number(text)
        if number is None:
            return text  # not a number: calamine gives the text (a row error, not the file's)
        style = kinds.get(cell.get("s") or "0") if kinds else None
        if style is None or number != number or number in (float("inf"), float("-inf")):
            return number
        return self._moment(number, style)

    def _moment(self, number: float, style: int):
        """A serial number in a date, time or duration format, as calamine gives it."""
        if style == DURATION:
            return datetime.timedelta(days=number)
        if 1 <= number < 60 and self._epoch is _EPOCH:
            number += 1  # before Excel's 1900-02-29, which did not exist
        milliseconds = math.floor(number * 86_400_000 + 0.5)  # rounded half up, as calamine
        moment = self._epoch + datetime.timedelta(milliseconds=milliseconds)
        if number < 1:
            return moment.time()
        if moment.time() == datetime.time():
            return moment.date()
        return moment

    def rows(
        self,
        name: str,
        *,
        first_row: int,
        first_column: int,
        last_column: int,
        skip: Iterable[int] = (),
    ) -> Iterator[tuple[int, list]]:
        """(row number, values of columns ``first_column``…``last_column``) for each row from
        ``first_row`` on, numbers from 1 as Excel counts; an empty cell is None. Rows the
        sheet leaves out, or whose cells are all outside the columns, are given too, empty,
        up to the last row that has a cell in the columns. Columns in ``skip`` are not read
        (always None).

        The sheet's XML is streamed once: expat (without handlers: C only) checks that it is
        well-formed while a regular expression picks out the cells of the columns asked by
        their ``r`` reference. A sheet with a cell without ``r`` (allowed, though Excel, WPS
        and LibreOffice always write it) is read again element by element."""
        path = self._parts.get(name) if name else None
        if path is None:
            raise Unreadable(f"no sheet {name!r}")
        try:
            kinds = self._styles()
            try:
                yield from self._scan_rows(path, kinds, first_row, first_column, last_column, skip)
            except _Anonymous:
                yield from self._parse_rows(path, kinds, first_row, first_column, last_column, skip)
        except (
            XMLParseError,
            ExpatError,
            ElementTree.ParseError,
            zipfile.BadZipFile,
            zlib.error,
            KeyError,
            ValueError,
            IndexError,
            OverflowError,
            EOFError,
        ) as error:
            raise Unreadable(str(error)) from None

    def _scan_rows(self, path, kinds, first_row, first_column, last_column, skip):
        width = last_column - first_column + 1
        letters = {
            column_letter(c).encode(): c - first_column
            for c in range(first_column, last_column + 1)
            if c not in skip
        }
        cell = re.compile(
            rb'<((?:\w+:)?)c r="(' + b"|".join(letters) + rb')(\d{1,7})"([^>]*?)(/?)>'
        )
        checker = ParserCreate()
        number = 0  # the last row given
        current, cells = 0, None  # the row being filled
        tail = b""
        with self._archive.open(path) as source:
            while True:
                chunk = source.read(READ)
                checker.Parse(chunk, not chunk)
                window = tail + chunk
                if chunk:
                    cut = _last_row_end(window)
                    if cut < 0:
                        tail = window
                        continue
                    window, tail = window[:cut], window[cut:]
                if _ANONYMOUS_CELL.search(window):
                    raise _Anonymous
                for match in cell.finditer(window):
                    prefix, letter, row, attributes, closed = match.groups()
                    row = int(row)
                    if row != current:
                        if cells is not None and current >= first_row:
                            while number + 1 < current:
                                number += 1
                                if number >= first_row:
                                    yield number, [None] * width
                            number = current
                            yield current, cells
                        current, cells = row, [None] * width
                    content = b""
                    if not closed:
                        close = window.find(b"</" + prefix + b"c>", match.end())
                        content = window[match.end() : close if close >= 0 else len(window)]
                    value = self._scanned_value(attributes, content, kinds)
                    cells[letters[letter]] = None if value == "" else value
                if not chunk:
                    break
        if cells is not None and current >= first_row:
            while number + 1 < current:
                number += 1
                if number >= first_row:
                    yield number, [None] * width
            yield current, cells

    def _scanned_value(self, attributes: bytes, content: bytes, kinds: dict[str, int]):
        """A cell's value from its tag's attributes and its content (bytes of well-formed
        XML), as ``_value`` reads an element."""
        kind = _TYPE.search(attributes)
        kind = kind.group(1) if kind else b"n"
        if kind == b"inlineStr":
            if b"<" not in content:
                return ""
            content = _PHONETIC.sub(b"", content)
            return "".join(_xml_text(t) for t in _TEXT.findall(content))
        value = _V.search(content)
        text = _xml_text(value.group(1)) if value else ""
        if not text or kind == b"e":
            return ""
        if kind == b"s":
            return self._shared_strings()[int(text)]
        if kind == b"b":
            return text.strip() not in ("0", "false", "")
        if kind in (b"str", b"d"):
            return text
        number = _number(text)
        if number is None:
            return text  # not a number: calamine gives the text (a row error, not the file's)
        style = _STYLE.search(attributes)
        style = kinds.get(style.group(1).decode()) if style and kinds else None
        if style is None or number != number or number in (float("inf"), float("-inf")):
            return number
        return self._moment(number, style)

    def _parse_rows(self, path, kinds, first_row, first_column, last_column, skip):
        """``rows`` element by element (expat building each row's elements, dropped once
        read): for a sheet whose cells do not all say where they are."""
        width = last_column - first_column + 1
        self._shared_strings()
        number = 0
        for row in self._iterate(path, "row"):
            reference = row.get("r")
            current = int(reference) if reference else number + 1
            cells = [None] * width
            column = 0
            for cell in row:
                if _local(cell.tag) != "c":
                    continue
                found = _REFERENCE.match(cell.get("r") or "")
                column = column_number(found.group(1)) if found else column + 1
                if first_column <= column <= last_column and column not in skip:
                    value = self._value(cell, kinds)
                    cells[column - first_column] = None if value == "" else value
            row.clear()
            while number + 1 < current:
                number += 1
                if number >= first_row:
                    yield number, [None] * width
            number = current
            if number >= first_row:
                yield number, cells

    def merged_rows(self, name: str, first_row: int) -> list[int]:
        """First rows of merged ranges that reach ``first_row`` or below (a regular
        expression over the sheet's bytes, streamed)."""
        found = set()
        path = self._parts.get(name)
        if path is None:
            return []
        try:
            with self._archive.open(path) as source:
                tail = b""
                while chunk := source.read(CHUNK):
                    window = tail + chunk
                    for match in _MERGE.finditer(window):
                        top = int(match.group(1))
                        bottom = int(match.group(2) or top)
                        if bottom >= first_row:
                            found.add(top)
                    tail = window[-1024:]
        except (zipfile.BadZipFile, EOFError, ValueError) as error:
            raise Unreadable(str(error)) from None
        return sorted(found)

    # ------------------------------------------------------------------ the XML

    def _part(self, name: str) -> str | None:
        """The zip path of the sheet called ``name`` (xl/workbook.xml and its relationships)."""
        if self._parts is None:
            self._archive = zipfile.ZipFile(io.BytesIO(self.data))
            names = self._names_in_zip = set(self._archive.namelist())
            targets = {}
            rels = "xl/_rels/workbook.xml.rels"
            if rels in names:
                for item in ElementTree.fromstring(self._archive.read(rels)):
                    target = item.get("Target") or ""
                    path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                    targets[item.get("Id")] = posixpath.normpath(path)
                    kind = item.get("Type") or ""
                    if kind.endswith("/styles"):
                        targets["styles"] = posixpath.normpath(path)
                    elif kind.endswith("/sharedStrings"):
                        targets["sharedStrings"] = posixpath.normpath(path)
            self._parts = {"styles": targets.get("styles", "xl/styles.xml")}
            if "sharedStrings" in targets:
                self._parts["sharedStrings"] = targets["sharedStrings"]
            root = ElementTree.fromstring(self._archive.read("xl/workbook.xml"))
            properties = root.find(f"{MAIN}workbookPr")
            if properties is not None and properties.get("date1904") in ("1", "true"):
                self._epoch = _EPOCH_1904
            self._names = []
            for sheet in root.iter(f"{MAIN}sheet"):
                path = targets.get(sheet.get(RELATIONSHIP))
                self._names.append(sheet.get("name"))
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
