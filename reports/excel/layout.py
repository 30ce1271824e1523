"""Print layout shared by every Excel export (issue 20): page setup and row heights.

LibreOffice and WPS do not fit row heights to wrapped text when they open a workbook, so a
wrapped cell in a row of default height runs into the next row on screen and on paper. Every
export therefore writes the height of each row whose text wraps, estimated here from the
column width and the text's length — no font metrics, so it is cheap enough for a 100 000-row
ledger: a row whose texts are short enough to fit on one line costs one ``len`` per text.

Widths are in Excel's column units (about one digit of the default font). At 10 pt a CJK or
full-width character takes about two units and a Latin letter or digit a little over one
(Excel's 宋体/等线, WPS, and LibreOffice's Noto CJK and DejaVu substitutes alike); the estimate
rounds up, since a row a little too tall costs white space and one too short hides text.

``page_setup`` prints a sheet on A4 landscape fitted to the page width (as many pages down as
needed), with the header rows repeated on every page and the panes frozen under the header;
``Rows`` appends rows with their heights (``wrapped_height``). Both come in two versions: for
openpyxl's write-only sheets (the figures template, ``reports.excel.templates``; they write
their properties, views and columns with the first row, so call ``page_setup`` before the
first append) and for XlsxWriter's constant-memory sheets (``xlsx_page_setup``, ``XlsxRows``:
the exports of ``reports.excel.exporters``). Heights are on XlsxWriter's grid: it stores a
row's height in whole pixels (0.75 pt), so ``height_for`` rounds up to one.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable

from openpyxl.worksheet.properties import PageSetupProperties

PAPER_A4 = "9"  # Worksheet.PAPERSIZE_A4 (write-only sheets lack the constant)
BASE_SIZE = 10  # pt: the size the width units below are measured at
CJK_UNITS = 2.0  # column units a CJK or full-width character takes at BASE_SIZE
LATIN_UNITS = 1.2  # … a Latin letter, digit or space
CELL_PADDING = 1.0  # units lost to the cell's margins
WRAP_SLACK = 0.9  # wrapped lines break at words and before closing punctuation
LINE_HEIGHT = 1.45  # points of row height per point of font size and line (Noto CJK: 1.448)
ROW_PADDING = 3.0  # points above and below the text
PIXEL = 0.75  # points: XlsxWriter keeps row heights in whole pixels
MARGIN_SIDES = 0.4  # inches, left and right


def text_units(text: str) -> float:
    """The width of ``text`` in column units at ``BASE_SIZE``: CJK ≈ 2, Latin ≈ 1.2.

    From the UTF-8 length, which counts a CJK character as three bytes and an ASCII one as
    one (n characters, b bytes: (b − n) / 2 of them are CJK), so it runs at C speed."""
    chars, octets = len(text), len(text.encode())
    cjk = (octets - chars) / 2
    return (chars - cjk) * LATIN_UNITS + cjk * CJK_UNITS


def line_count(text: str, width: float, size: float = BASE_SIZE) -> int:
    """Lines a wrapped cell ``width`` units wide needs for ``text`` at ``size`` pt."""
    usable = max(width - CELL_PADDING, 1.0)
    scale = size / BASE_SIZE
    if len(text) * CJK_UNITS * scale <= usable:  # the common case: fits, whatever it holds
        if "\n" not in text:
            return 1
    lines = 0
    for paragraph in text.split("\n"):
        units = text_units(paragraph) * scale
        if units <= usable:
            lines += 1
        else:
            lines += math.ceil(units / (usable * WRAP_SLACK))
    return lines


def line_height(size: float = BASE_SIZE) -> float:
    return size * LINE_HEIGHT


def height_for(lines: int, size: float = BASE_SIZE) -> float:
    """The row height (points) that shows ``lines`` lines of ``size`` pt text, rounded up to
    a whole pixel (what XlsxWriter writes back exactly)."""
    points = lines * line_height(size) + ROW_PADDING
    return math.ceil(round(points / PIXEL, 6)) * PIXEL


def wrapped_height(
    cells: Iterable[tuple[object, float]], size: float = BASE_SIZE, minimum: float | None = None
) -> float | None:
    """The height a row of wrapped cells needs: ``cells`` are (value, width in units) pairs —
    a merged cell's width is the sum of its columns'; only text wraps. None when every text
    fits on one line and no ``minimum`` is asked for (the sheet's default height then)."""
    lines = 1
    for value, width in cells:
        if value.__class__ is str and value:
            count = line_count(value, width, size)
            if count > lines:
                lines = count
    if lines == 1:
        return minimum
    height = height_for(lines, size)
    return height if minimum is None else max(height, minimum)


def page_setup(
    ws,
    *,
    widths: Iterable[float] = (),
    title_rows: tuple[int, int] | None = None,
    freeze: str | None = None,
    landscape: bool = True,
) -> None:
    """A4 landscape fitted to the page width (fitToWidth 1, fitToHeight 0: as many pages
    down as the rows need), centred, narrow side margins; ``widths`` of columns A, B, …;
    ``title_rows`` (first, last) printed at the top of every page; panes frozen at
    ``freeze`` (the first cell below the header and right of the frozen columns)."""
    from openpyxl.utils import get_column_letter

    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = PAPER_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = MARGIN_SIDES
    if freeze:
        ws.freeze_panes = freeze
    if title_rows:
        ws.print_title_rows = f"{title_rows[0]}:{title_rows[1]}"


class Rows:
    """Appends rows to a sheet, counting them, each with its height when it has one.

    A write-only sheet writes each row as it is appended, reading the row's attributes from
    ``row_dimensions`` then: the height is handed over for that row only and dropped right
    after, so a sheet of any length holds no per-row state. The attributes are given as the
    row element's XML attributes (what openpyxl makes of a ``RowDimension``), one shared
    mapping per distinct height — a ``RowDimension`` per row would cost more than the text
    measuring in a 100 000-row ledger."""

    def __init__(self, ws):
        self.ws = ws
        self.count = 0
        self.write_only = ws.parent.write_only
        self._attributes: dict[float, dict[str, str]] = {}

    def append(self, cells, height: float | None = None) -> None:
        self.count += 1
        if height is None:
            self.ws.append(cells)
            return
        if not self.write_only:
            self.ws.row_dimensions[self.count].height = height
            self.ws.append(cells)
            return
        attributes = self._attributes.get(height)
        if attributes is None:
            attributes = {"ht": str(height), "customHeight": "1"}
            self._attributes[height] = attributes
        dimensions = self.ws.row_dimensions
        dimensions[self.count] = attributes
        self.ws.append(cells)
        del dimensions[self.count]


def xlsx_page_setup(
    ws,
    *,
    widths: Iterable[float] = (),
    title_rows: tuple[int, int] | None = None,
    freeze: tuple[int, int] | None = None,
    column_format=None,
    landscape: bool = True,
) -> None:
    """``page_setup`` for an XlsxWriter sheet: the same page, ``title_rows`` (first, last)
    numbered from 1 as there, ``freeze`` the (row, column) of the first cell below and right
    of the frozen panes, numbered from 0 (XlsxWriter's); ``column_format`` the format of the
    columns, which their cells written without a format take."""
    for index, width in enumerate(widths):
        ws.set_column(index, index, width, column_format)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_paper(int(PAPER_A4))
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_margins(left=MARGIN_SIDES, right=MARGIN_SIDES)
    if freeze:
        ws.freeze_panes(*freeze)
    if title_rows:
        ws.repeat_rows(title_rows[0] - 1, title_rows[1] - 1)


class XlsxRows:
    """Numbers the rows of an XlsxWriter sheet in constant-memory mode (written in order, each
    flushed to the sheet's temporary file when the next one starts) and gives a row its
    height, set any time before the next row's first cell.

    XlsxWriter keeps a row's height (``row_info``, ``row_sizes``) after the row is written;
    a row's entries are dropped once it is on disk, so a ledger of any length holds no
    per-row state."""

    __slots__ = ("_flushed", "_sized", "count", "ws")

    def __init__(self, ws):
        self.ws = ws
        self.count = 0  # rows started; the current one is ``count - 1`` (from 0)
        self._sized: deque[int] = deque()
        self._flushed = (ws.row_info, ws.row_sizes)

    def next(self) -> int:
        """Start a row: its number from 0."""
        row = self.count
        self.count = row + 1
        sized = self._sized
        if sized and sized[0] < row - 1:  # written when row − 1 started
            info, sizes = self._flushed
            while sized and sized[0] < row - 1:
                done = sized.popleft()
                info.pop(done, None)
                sizes.pop(done, None)
        return row

    def height(self, row: int, height: float | None) -> None:
        """The current row's height (points), before the next row starts."""
        if height is not None:
            self.ws.set_row(row, height)
            self._sized.append(row)
