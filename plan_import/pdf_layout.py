"""A PDF's paragraphs and tables rebuilt from where its characters are printed.

A PDF knows glyphs and their places, not paragraphs: Word, WPS and LibreOffice break each
paragraph at the line width, print headers, footers and page numbers on every page and
cut tables — and table rows — at page ends. ``read_layout(pdf)`` gives back what the .docx
reader sees: paragraphs and tables in reading order. The rules are the genre's typesetting,
not any one document's:

- **lines**: characters grouped by height, in x order. A space only where the PDF prints
  one, between two Latin letters or digits set apart, or across a gap wider than a
  character (a tab); never between Chinese characters — a justified line spreads them, and
  Word and LibreOffice set Latin text apart from Chinese without a space.
- **headers, footers, page numbers**: lines in the top or bottom sixth of a page whose
  text, digits aside (``- 3 -``, ``第 3 页 共 20 页``), is at the same height on at least a
  third of the pages (two for a document of up to six pages).
- **paragraphs**: a line continues the line before when that one reached the right margin
  (the room left there is narrower than what this line starts with up to its first
  line-break opportunity — ``_breaks``: not inside a number or Latin word, not before a
  closing mark, not after an opening one, not beside a quotation mark — plus half a
  character; margins measured over the pages of one size and parity), this one is not
  indented further than the line before (a first-line indent starts a paragraph), the
  font size is the same, and it is one line step below (paragraph spacing starts a
  paragraph; across a page break the distance is not looked at). Where
  that cannot tell — across a page break, or in a document with neither paragraph spacing
  nor first-line indents, where a paragraph that fills its last line looks wrapped — a
  sentence end followed by a numbered heading (第四节, 三、, （二）, 2.) breaks too. An
  empty paragraph comes back as an empty line from the room it left.
  Wrapped lines are joined without a space between Chinese characters, with one between
  Latin words, and without one after a hyphen or slash.
- **tables**: pdfplumber's table finder (ruled cells; a single ruled box is a table too, as
  a 1×1 Word table is); each cell's lines made into paragraphs like the body's, within the
  cell's width; a merged cell's text in every row it spans (python-docx does the same); a
  table cut by a page break continues as the same table, a row cut by it as the same row
  (when a cell of the row ends the page with a full line and goes on), and a header row
  repeated on the next page is dropped; the characters of a table are not read again as
  body text.

Not handled: more than one column of text on a page, hanging indents (the wrapped lines of
a numbered item indented under its text start new paragraphs), rotated text (skipped), an
empty paragraph at the foot of a page (it leaves no trace), a row cut by a page break where
every cut cell breaks between two paragraphs (read as a new row), tables without rules.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

HEADER_BAND = 1 / 6  # of the page height, at the top and at the bottom
# what may not begin a line, so it is carried down with the character before it
_SENTENCE_MARKS = set("，。、；：？！,.;:?!%％‰℃・·")


def _opening(char: str) -> bool:
    return unicodedata.category(char) == "Ps"  # （《「〈【〔([ …


def _closing(char: str) -> bool:
    """What may not begin a line: closing brackets and the marks that end a clause."""
    return unicodedata.category(char) == "Pe" or char in _SENTENCE_MARKS


def _quote(char: str) -> bool:
    return unicodedata.category(char) in ("Pi", "Pf") or char in "\"'"


_SENTENCE_END = ("。", "；", "：", "！", "？", ":", ";")
_NUMBERED = re.compile(
    r"^\s*(第[一二三四五六七八九十百]+[章节条]|[一二三四五六七八九十]+、|"
    r"[（(][一二三四五六七八九十\d]+[）)]|\d+[．.、]|专栏|附件|附表)"
)


def is_wide(char: str) -> bool:
    """A Chinese character or full-width punctuation (no space is ever put next to one)."""
    return unicodedata.east_asian_width(char) in ("W", "F") or char in "“”‘’—…·"


@dataclass
class PrintedLine:
    page: int
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    text: str
    lead: float  # the width of what this line starts with that cannot be split off


@dataclass
class Cell:
    bbox: tuple[float, float, float, float]
    lines: list[PrintedLine] = field(default_factory=list)


@dataclass
class TablePart:
    """The part of a table on one page: its rows (a merged cell in each row it spans)."""

    page: int
    bbox: tuple[float, float, float, float]
    rows: list[list[Cell]]


@dataclass
class Paragraph:
    text: str
    page: int


@dataclass
class Table:
    rows: list[list[str]]
    page: int


# ------------------------------------------------------------------------------ lines


def _size(chars: list[dict]) -> float:
    return Counter(round(char["size"], 1) for char in chars).most_common(1)[0][0]


def _breaks(before: str, after: str) -> bool:
    """Whether a line may break between two characters — Unicode line breaking (UAX #14)
    as far as CJK typesetting needs it: not inside a Latin word or number, not before a
    closing or after an opening mark, not on either side of a quotation mark, not between a
    closing mark and a number (LibreOffice keeps “，2016” together), after a space or hyphen."""
    if after.isspace():
        return False
    if before.isspace() or before in "-/":
        return True
    if _opening(before) or _quote(before) or _quote(after) or _closing(after):
        return False
    if not is_wide(before) and not is_wide(after):
        return False
    return not (_closing(before) and not is_wide(after))


def _lead(chars: list[dict]) -> float:
    """The width of what a line starts with up to its first break opportunity: if the line
    before had had room for it, the line would not have been broken there."""
    end = 0
    while end + 1 < len(chars) and not _breaks(chars[end]["text"], chars[end + 1]["text"]):
        end += 1
    return chars[end]["x1"] - chars[0]["x0"]


def _assemble(chars: list[dict]) -> str:
    out: list[str] = []
    previous = None
    for char in chars:
        text = char["text"]
        if text.isspace():
            if out and out[-1] != " ":
                out.append(" ")
            previous = None
            continue
        if previous is not None and out[-1] != " ":
            gap = char["x0"] - previous["x1"]
            latin = not is_wide(previous["text"][-1]) and not is_wide(text[0])
            if gap > char["size"] or (latin and gap > 0.25 * char["size"]):
                out.append(" ")
        out.append(text)
        previous = char
    return "".join(out).strip()


def printed_lines(chars: list[dict], page: int) -> list[PrintedLine]:
    """Characters grouped into lines: a character belongs to the line its middle height
    falls in (characters of another font or size on the same line included)."""
    groups: list[list[dict]] = []
    band = (0.0, -1.0)
    for char in sorted(chars, key=lambda c: (c["top"] + c["bottom"]) / 2):
        middle = (char["top"] + char["bottom"]) / 2
        if groups and band[0] <= middle <= band[1]:
            groups[-1].append(char)
            band = (min(band[0], char["top"]), max(band[1], char["bottom"]))
        else:
            groups.append([char])
            band = (char["top"], char["bottom"])
    lines = []
    for group in groups:
        group.sort(key=lambda c: c["x0"])
        printed = [c for c in group if not c["text"].isspace()]
        text = _assemble(group)
        if not printed or not text:
            continue
        lines.append(
            PrintedLine(
                page=page,
                x0=printed[0]["x0"],
                x1=max(c["x1"] for c in printed),
                top=min(c["top"] for c in printed),
                bottom=max(c["bottom"] for c in printed),
                size=_size(printed),
                text=text,
                lead=_lead(printed),
            )
        )
    return lines


# ------------------------------------------------------------------------------ tables


def _inside(char: dict, box: tuple[float, float, float, float]) -> bool:
    x = (char["x0"] + char["x1"]) / 2
    y = (char["top"] + char["bottom"]) / 2
    return box[0] <= x < box[2] and box[1] <= y < box[3]


def table_parts(page, chars: list[dict], page_no: int) -> tuple[list[TablePart], list[dict]]:
    """The page's ruled tables and the characters outside them."""
    from pdfplumber.table import TableFinder

    finder = TableFinder(page)
    groups = [table.cells for table in finder.tables]
    grouped = {cell for group in groups for cell in group}
    groups += [[cell] for cell in finder.cells if cell not in grouped]  # a single ruled box
    parts = []
    rest = chars
    for group in groups:
        bbox = (
            min(c[0] for c in group),
            min(c[1] for c in group),
            max(c[2] for c in group),
            max(c[3] for c in group),
        )
        inside = [char for char in rest if _inside(char, bbox)]
        if not any(not char["text"].isspace() for char in inside):
            continue  # an empty frame is no table
        rest = [char for char in rest if not _inside(char, bbox)]
        cells = [Cell(box) for box in sorted(group, key=lambda b: (b[1], b[0]))]
        for cell in cells:
            cell.lines = printed_lines([c for c in inside if _inside(c, cell.bbox)], page_no)
        tops = sorted({round(cell.bbox[1], 1) for cell in cells})
        bands: list[float] = []
        for top in tops:
            if not bands or top - bands[-1] > 1:
                bands.append(top)
        rows = [
            sorted(
                (c for c in cells if c.bbox[1] <= top + 1 and c.bbox[3] > top + 1),
                key=lambda c: c.bbox[0],
            )
            for top in bands
        ]
        parts.append(TablePart(page_no, bbox, [row for row in rows if row]))
    return parts, rest


# ------------------------------------------------------------------------------ paragraphs


@dataclass
class _Metrics:
    """The document's typesetting, measured on its body lines (as ratios to font size)."""

    line_step: float = 1.3  # from a line to the next of the same paragraph
    paragraph_step: float = 1.3  # from a paragraph's last line to the next paragraph
    indented: bool = False  # paragraphs start with a first-line indent

    @property
    def spaced(self) -> bool:
        return self.paragraph_step > self.line_step + 0.25

    def blank_lines(self, step: float) -> int:
        """How many empty paragraphs fit in the room between two paragraphs."""
        if step <= self.paragraph_step:
            return 0
        return int((step - self.paragraph_step) / self.paragraph_step + 0.35)


def _mode(values: list[float]) -> float | None:
    if not values:
        return None
    return Counter(round(value * 20) / 20 for value in values).most_common(1)[0][0]


def _margins(lines: list[PrintedLine]) -> tuple[float, float] | None:
    """(left, right) text edges: the outermost x shared by at least two lines."""
    if not lines:
        return None

    def shared(values: list[float], pick) -> float:
        counts = Counter(round(value) for value in values)
        common = [value for value, count in counts.items() if count >= 2]
        return pick(common) if common else pick(values)

    return shared([line.x0 for line in lines], min), shared([line.x1 for line in lines], max)


class _Body:
    """The body text's margins (per page size and parity) and its typesetting metrics."""

    def __init__(self, pages: dict[int, list[PrintedLine]], shapes: dict[int, tuple]):
        # the margins of the pages of one size and parity (mirrored margins), measured
        # together: a page of short lines (a contents page) has the same margins
        groups: dict[tuple, list[PrintedLine]] = {}
        for page, lines in pages.items():
            groups.setdefault(shapes[page], []).extend(lines)
        everything = [line for lines in pages.values() for line in lines]
        whole = _margins(everything) or (0.0, 0.0)
        self.margins = {page: _margins(groups[shapes[page]]) or whole for page in pages}
        steps, full_steps, starts = [], [], []
        for lines in pages.values():
            for before, line in itertools.pairwise(lines):
                if abs(before.size - line.size) > 1:
                    continue
                step = (line.top - before.top) / before.size
                steps.append(step)
                if self.full(before, line):
                    full_steps.append(step)
                elif self.margins[line.page][0] + 1.5 * line.size < line.x1:
                    starts.append(line.x0 - self.margins[line.page][0] > 0.5 * line.size)
        line_step = _mode(full_steps) or _mode(steps) or 1.3
        between = [s for s in steps if line_step + 0.25 < s < 2 * line_step - 0.25]
        self.metrics = _Metrics(
            line_step=line_step,
            paragraph_step=_mode(between) or line_step,
            indented=bool(starts) and sum(starts) >= 0.3 * len(starts),
        )

    def full(self, before: PrintedLine, line: PrintedLine, right: float | None = None) -> bool:
        right = self.margins[before.page][1] if right is None else right
        return right - before.x1 <= line.lead + 0.5 * before.size

    def continues(
        self,
        before: PrintedLine,
        line: PrintedLine,
        *,
        first: bool,
        edges: tuple[float, float] | None = None,
    ) -> bool:
        """Whether ``line`` goes on with the paragraph whose last line is ``before``
        (``first``: ``before`` is that paragraph's first line)."""
        left, right = edges or self.margins[line.page]
        if abs(before.size - line.size) > 1 or not self.full(before, line, right):
            return False
        tolerance = 0.5 * line.size
        if first and before.x0 > left + tolerance:
            if line.x0 > before.x0 - tolerance:
                return False  # both indented: two paragraphs (a first-line indent each)
        elif line.x0 > before.x0 + tolerance:
            return False  # indented further: a new paragraph
        if line.page == before.page and edges is None:
            step = (line.top - before.top) / before.size
            if step > self.metrics.line_step + 0.25:
                return False
        elif line.page == before.page:
            if line.top - before.bottom > 0.8 * line.size:
                return False
        ambiguous = line.page != before.page or not (self.metrics.spaced or self.metrics.indented)
        if ambiguous and before.text.endswith(_SENTENCE_END) and _NUMBERED.match(line.text):
            return False
        return True


def join_text(before: str, after: str) -> str:
    """A wrapped line joined to the line before: no space next to a Chinese character or
    after a hyphen or slash (a soft hyphen goes), one between two Latin words."""
    if not before or not after:
        return before + after
    if before.endswith("\u00ad"):
        return before[:-1] + after
    if is_wide(before[-1]) or is_wide(after[0]) or before[-1] in "-/":
        return before + after
    return before + " " + after


def _paragraphs(body: _Body, lines: list[PrintedLine], edges=None) -> list[list[PrintedLine]]:
    paragraphs: list[list[PrintedLine]] = []
    for line in lines:
        if paragraphs and body.continues(
            paragraphs[-1][-1], line, first=len(paragraphs[-1]) == 1, edges=edges
        ):
            paragraphs[-1].append(line)
        else:
            paragraphs.append([line])
    return paragraphs


def _text(paragraph: list[PrintedLine]) -> str:
    text = ""
    for line in paragraph:
        text = join_text(text, line.text)
    return text


def _cell_edges(cell: Cell) -> tuple[float, float]:
    """Where a cell's text may go: its box less the padding, taken as the room before its
    leftmost line (at most a character: centred text is further in) on both sides."""
    size = max(line.size for line in cell.lines)
    pad = min(max(min(line.x0 for line in cell.lines) - cell.bbox[0], 0), 0.8 * size + 2)
    return cell.bbox[0] + pad, cell.bbox[2] - pad


def _cell_text(body: _Body, cell: Cell) -> str:
    if not cell.lines:
        return ""
    return "\n".join(_text(p) for p in _paragraphs(body, cell.lines, _cell_edges(cell)))


# ------------------------------------------------------------------------------ pages


def _normal(text: str) -> str:
    return re.sub(r"\d+", "0", re.sub(r"\s+", "", text))


def running_lines(pages: list[tuple[float, list[PrintedLine]]]) -> set[int]:
    """ids of the lines that are headers, footers or page numbers: in the top or bottom
    band of the page, and the same text (digits aside) at the same height on enough pages
    — a line of the body does not come back at the same place page after page."""
    bands: list[list[PrintedLine]] = []
    for height, lines in pages:
        ordered = sorted(lines, key=lambda line: line.top)
        top = [line for line in ordered[:3] if line.bottom <= height * HEADER_BAND]
        bottom = [line for line in ordered[-3:] if line.top >= height * (1 - HEADER_BAND)]
        bands.append(top + [line for line in bottom if line not in top])

    def key(line: PrintedLine) -> tuple[str, int]:
        return _normal(line.text), round(line.top / 3)

    counts = Counter(key(line) for band in bands for line in band)
    enough = 2 if len(pages) <= 6 else max(3, len(pages) // 3)
    return {id(line) for band in bands for line in band if counts[key(line)] >= enough}


def _same_columns(before: TablePart, after: TablePart) -> bool:
    return abs(before.bbox[0] - after.bbox[0]) < 3 and abs(before.bbox[2] - after.bbox[2]) < 3


def _texts(body: _Body, row: list[Cell]) -> list[str]:
    return [_cell_text(body, cell) for cell in row]


def _row_goes_on(body: _Body, above: list[Cell], row: list[Cell]) -> bool:
    """Whether the first row of a table's part on the next page is the rest of the row that
    ended the page: each of its cells with text goes on from a cell that ended the page with
    a full line. A narrow cell of a few characters looks full too, so unless some cell of
    the row is empty (its text ended on the page before), each cell it goes on from has
    wrapped or is filled to within a quarter of a character."""
    tight = []
    for cell in row:
        if not cell.lines:
            continue
        match = _match(above, cell)
        if match is None or not match.lines:
            return False
        last = match.lines[-1]
        right = _cell_edges(match)[1]
        if not body.full(last, cell.lines[0], right):
            return False
        tight.append(len(match.lines) > 1 or right - last.x1 <= 0.25 * last.size)
    if not tight:
        return False
    return len(tight) < len(row) or all(tight)


def _match(row: list[Cell], cell: Cell) -> Cell | None:
    best, overlap = None, 0.0
    for other in row:
        width = min(other.bbox[2], cell.bbox[2]) - max(other.bbox[0], cell.bbox[0])
        if width > overlap:
            best, overlap = other, width
    return best


def _continue_table(body: _Body, table: list[list[Cell]], part: TablePart) -> None:
    rows = list(part.rows)
    if len(table) > 1 and rows and _texts(body, rows[0]) == _texts(body, table[0]):
        rows = rows[1:]  # the header row repeated on the new page
    if rows and table and _row_goes_on(body, table[-1], rows[0]):
        for cell in rows[0]:
            match = _match(table[-1], cell)
            if match is not None:
                match.lines.extend(cell.lines)
        rows = rows[1:]
    table.extend(rows)


def read_layout(pdf) -> list[Paragraph | Table]:
    """The document's paragraphs (with the empty ones as empty paragraphs) and tables, in
    reading order; each with the page it starts on."""
    pages: list[tuple[float, list[PrintedLine], list[TablePart]]] = []
    for page_no, page in enumerate(pdf.pages, start=1):
        # rotated text (a watermark, a seal) and zero-size glyphs are not the document's text
        chars = [
            char
            for char in page.dedupe_chars().chars
            if char.get("upright", True) and char["size"] > 0
        ]
        parts, rest = table_parts(page, chars, page_no)
        pages.append((page.height, printed_lines(rest, page_no), parts))
    running = running_lines([(height, lines) for height, lines, _parts in pages])
    body_lines = {
        page_no: [line for line in lines if id(line) not in running]
        for page_no, (_height, lines, _parts) in enumerate(pages, start=1)
    }
    shapes = {
        page_no: (round(page.width), round(page.height), page_no % 2)
        for page_no, page in enumerate(pdf.pages, start=1)
    }
    body = _Body(body_lines, shapes)
    page_tops = [min(line.top for line in lines) for lines in body_lines.values() if lines]
    body_top = min(page_tops) if page_tops else 0.0

    items: list[Paragraph | Table] = []
    open_lines: list[PrintedLine] = []  # the paragraph being read
    table: list[list[Cell]] | None = None  # the table being read (it may go on next page)
    table_page = 0
    last_part: TablePart | None = None

    def close_paragraph():
        if open_lines:
            items.append(Paragraph(_text(open_lines), open_lines[0].page))
            open_lines.clear()

    def close_table():
        nonlocal table
        if table is not None:
            items.append(Table([_texts(body, row) for row in table], table_page))
            table = None

    for page_no, (_height, _lines, parts) in enumerate(pages, start=1):
        flow: list[tuple[float, PrintedLine | TablePart]] = [
            (line.top, line) for line in body_lines[page_no]
        ] + [(part.bbox[1], part) for part in parts]
        flow.sort(key=lambda item: item[0])
        last_line: PrintedLine | None = None  # the line above on this page
        for position, (_top, item) in enumerate(flow):
            if isinstance(item, TablePart):
                close_paragraph()
                if (
                    table is not None
                    and last_part is not None
                    and position == 0
                    and _same_columns(last_part, item)
                ):
                    _continue_table(body, table, item)
                else:
                    close_table()
                    table, table_page = list(item.rows), page_no
                last_part, last_line = item, None
                continue
            close_table()
            line = item
            if open_lines and body.continues(open_lines[-1], line, first=len(open_lines) == 1):
                open_lines.append(line)
                last_line = line
                continue
            close_paragraph()
            if last_line is not None:
                step = (line.top - last_line.top) / last_line.size
            elif position == 0 and items:
                # empty paragraphs at the top of a page push its first line down
                step = body.metrics.paragraph_step + (line.top - body_top) / line.size
            else:
                step = 0.0
            items.extend(Paragraph("", page_no) for _ in range(body.metrics.blank_lines(step)))
            open_lines.append(line)
            last_line = line
        if not (flow and isinstance(flow[-1][1], TablePart)):
            close_table()  # only a table that ends its page may go on at the next one
    close_paragraph()
    close_table()
    return items
