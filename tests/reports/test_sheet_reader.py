"""The streaming sheet reader (issue 19, "stream, don't hold") gives the values python-calamine
gave — the reader the import used before, still installed for the benchmark's baseline — for
every kind of cell, whichever path reads the sheet, and holds no row once it is given."""

import datetime
import io
import re
import zipfile

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from reports.excel import sheet_reader

VALUES = [
    None, True, False, 3, 2.5, -0.0, 1e20, 12345678901234567890, float("inf"), "１２",
    "  x  ", "a&b<c>\"'", "=1+1", "多行\n文本", datetime.date(2024, 1, 2),
    datetime.datetime.fromisoformat("2024-01-02T03:04:05"),
    datetime.datetime.fromisoformat("2024-01-02T03:04:05.123456"),
    datetime.time(3, 4, 5), datetime.time(0, 0, 0, 500), datetime.timedelta(days=1, seconds=5),
    datetime.date(1900, 1, 5), datetime.date(1900, 3, 5),
]  # fmt: skip
FORMATS = [
    (0.5, "0%"), (44000, 'yyyy"年"m"月"'), (44000.5, "[h]:mm"), (0.25, "h:mm"),
    (44000, "m/d/yyyy"), (44000, '"d"0'), (5, "[Red]0.00"), (44000, "[$-804]yyyy/m/d"),
    (1.5, "0.00E+00"), (44000, "[mm]:ss"), (12, "General"), (7, '0"天"'),
]  # fmt: skip


def workbook(date1904: bool = False) -> bytes:
    book = openpyxl.Workbook()
    if date1904:
        book.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    sheet = book.active
    sheet.title = "数据"
    for row, value in enumerate(VALUES, start=1):
        sheet.cell(row, 2).value = value
        sheet.cell(row, 4).value = f"第{row}行"
    for row, (value, code) in enumerate(FORMATS, start=len(VALUES) + 3):
        sheet.cell(row, 3).value = value
        sheet.cell(row, 3).number_format = code
    sheet.merge_cells("E40:F41")
    sheet.merge_cells("A1:C1")
    other = book.create_sheet("其他")
    other["C7"] = "x"
    other["E9"] = 3
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def calamine_rows(data: bytes, name: str, first: int, last: int) -> list:
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(name)
    offset = sheet.start[1] + 1
    low, high = first - offset, last - offset + 1
    pad, low = max(0, -low), max(low, 0)
    rows = []
    for number, values in enumerate(sheet.iter_rows(), start=1):
        cells = [None] * pad + [None if v == "" else v for v in values[low:high]]
        rows.append((number, cells + [None] * (last - first + 1 - len(cells))))
    return rows


def trimmed(rows: list) -> list:
    rows = list(rows)
    while rows and all(value is None for value in rows[-1][1]):
        rows.pop()
    return [(n, [(type(v), v) for v in values]) for n, values in rows]


def rewrite_sheets(data: bytes, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename.startswith("xl/worksheets/"):
                content = change(content)
            target.writestr(item, content)
    return out.getvalue()


@pytest.mark.parametrize("date1904", [False, True])
@pytest.mark.parametrize("columns", [(1, 6), (2, 3), (3, 4)])
def test_the_reader_gives_what_calamine_gave(date1904, columns):
    data = workbook(date1904)
    book = sheet_reader.Workbook(data)
    for name in book.sheet_names:
        read = book.rows(name, first_row=1, first_column=columns[0], last_column=columns[1])
        assert trimmed(read) == trimmed(calamine_rows(data, name, *columns))
    assert book.merged_rows("数据", 3) == [40]
    assert book.merged_rows("数据", 1) == [1, 40]


def test_cells_that_do_not_say_where_they_are_first_are_read_element_by_element():
    data = workbook()
    # the style before the reference, and a cell without any: both allowed by the standard
    moved = rewrite_sheets(
        data, lambda xml: re.sub(rb'<c r="([A-Z]+\d+)" s="(\d+)"', rb'<c s="\2" r="\1"', xml)
    )
    book = sheet_reader.Workbook(moved)
    assert trimmed(book.rows("数据", first_row=1, first_column=1, last_column=6)) == trimmed(
        calamine_rows(data, "数据", 1, 6)
    )


def test_shared_strings_rich_text_and_escapes_are_read_as_text(tmp_path):
    data = workbook()
    book = sheet_reader.Workbook(data)
    assert dict(book.rows("数据", first_row=12, first_column=2, last_column=2))[12] == [
        "a&b<c>\"'"
    ]  # fmt: skip


def test_a_broken_sheet_is_unreadable():
    data = rewrite_sheets(workbook(), lambda xml: xml.replace(b"</row>", b"</rowx>", 1))
    book = sheet_reader.Workbook(data)
    with pytest.raises(sheet_reader.Unreadable):
        list(book.rows("数据", first_row=1, first_column=1, last_column=6))


@pytest.mark.parametrize("text", [b"NaN", b"INF", b"-inf", b"12abc", b"1e3", b"0x10"])
def test_a_number_cell_holding_text_reads_as_calamine_read_it(text):
    data = rewrite_sheets(
        workbook(),
        lambda xml: re.sub(
            rb'<c r="B4"[^>]*>.*?</c>', b'<c r="B4"><v>%s</v></c>' % text, xml, count=1
        ),
    )
    [(_, [value])] = [
        row for row in sheet_reader.Workbook(data).rows(
            "数据", first_row=4, first_column=2, last_column=2
        ) if row[0] == 4
    ]  # fmt: skip
    [(_, [expected])] = [row for row in calamine_rows(data, "数据", 2, 2) if row[0] == 4]
    assert type(value) is type(expected)
    assert value == expected or (value != value and expected != expected)
