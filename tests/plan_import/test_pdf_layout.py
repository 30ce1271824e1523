"""The typesetting rules of plan_import/pdf_layout.py on their own (the seed PDFs test them
together, in tests/plan_import/test_seed_documents.py)."""

from __future__ import annotations

from plan_import.pdf_layout import PrintedLine, _lead, join_text, running_lines


def _chars(text: str, widths: dict[str, float] | None = None) -> list[dict]:
    """Characters set one after the other: Chinese 11 pt wide, the rest 6 pt."""
    chars, x = [], 90.0
    for char in text:
        width = (widths or {}).get(char) or (11.0 if ord(char) > 0x2000 else 6.0)
        chars.append({"text": char, "x0": x, "x1": x + width})
        x += width
    return chars


def test_wrapped_lines_join_without_a_space_between_chinese_characters():
    assert join_text("推动街（镇）", "综合行政执法队伍") == "推动街（镇）综合行政执法队伍"
    assert join_text("建设5G", "网络") == "建设5G网络"


def test_wrapped_latin_words_get_one_space_but_not_after_a_hyphen():
    assert join_text("GB", "50016") == "GB 50016"
    assert join_text("2021-", "2025年") == "2021-2025年"
    assert join_text("soft\u00ad", "ware") == "software"


def test_a_line_starts_with_what_cannot_be_split_off():
    # LibreOffice keeps a clause mark with the number after it: “间，2016” moved down whole
    assert _lead(_chars("间，2016年新建")) == 11 + 11 + 4 * 6
    # an opening bracket stays with the character after it
    assert _lead(_chars("〈辽宁省")) == 22
    # no break beside a quotation mark
    assert _lead(_chars("令“三停”")) == 33
    # a Chinese character alone, with the punctuation that may not begin a line
    assert _lead(_chars("患。下一句")) == 22
    assert _lead(_chars("消防站")) == 11


def _line(page: int, top: float, text: str) -> PrintedLine:
    return PrintedLine(page, 90, 300, top, top + 11, 11, text, 11)


def test_headers_and_page_numbers_repeat_at_the_same_height_body_lines_do_not():
    pages = []  # page 3 is a contents page ending in a line “9”, in the bottom band too
    for page in range(1, 8):
        lines = [
            _line(page, 30, "某市消防救援事业发展规划"),
            _line(page, 80, "甲乙丙丁戊己庚"[page - 1] + "项任务的正文"),
            _line(page, 700, "9" if page == 3 else "子丑寅卯辰巳午"[page - 1] + "项的最后一行"),
            _line(page, 760, f"— {page} —"),
        ]
        pages.append((792.0, lines))
    running = running_lines(pages)
    texts = {line.text for _height, lines in pages for line in lines if id(line) in running}
    assert texts == {"某市消防救援事业发展规划", *(f"— {page} —" for page in range(1, 8))}
