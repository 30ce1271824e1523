"""Hostile and wrong files are refused before any parser sees them, with a clear message
and a stable code."""

from unittest import mock

import pytest

from plan_import.readers import DocumentLimits, read_document
from reports.excel.upload_guard import ImportRefused
from tests.plan_import import documents


def refused(name: str, data: bytes, **limits) -> ImportRefused:
    with (
        mock.patch("docx.Document", side_effect=AssertionError("parser reached")),
        mock.patch("pdfplumber.open", side_effect=AssertionError("parser reached")),
        pytest.raises(ImportRefused) as caught,
    ):
        read_document(name, data, DocumentLimits(**limits) if limits else None)
    return caught.value


def test_zip_bomb_docx_is_refused_before_parsing():
    error = refused("规划.docx", documents.zip_bomb_docx())
    assert error.code == "zip_bomb"
    assert "压缩炸弹" in error.message


def test_xml_entities_in_a_docx_are_refused_before_parsing():
    error = refused("规划.docx", documents.entity_docx())
    assert error.code == "xml_entities"
    assert "word/document.xml" in error.message


def test_a_2000_page_pdf_is_refused_before_parsing():
    error = refused("规划.pdf", documents.many_pages_pdf(2000))
    assert error.code == "too_many_pages"
    assert "2000" in error.message


def test_an_image_only_pdf_is_refused_as_a_scan():
    with pytest.raises(ImportRefused) as caught:
        read_document("扫描件.pdf", documents.image_only_pdf())
    assert caught.value.code == "no_text_layer"
    assert "扫描件" in caught.value.message


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("规划.doc", b"\xd0\xcf\x11\xe0 old word", "unsupported_type"),
        ("规划.docx", b"%PDF-1.4 renamed", "wrong_type"),
        ("规划.pdf", b"PK\x03\x04 renamed", "wrong_type"),
        ("规划.txt", b"PK\x03\x04 renamed", "not_text"),
        ("规划.txt", b"", "empty_file"),
        ("规划.docx", b"PK\x03\x04" + b"\x00" * 40, "corrupt"),
    ],
)
def test_wrong_types_are_named(name, data, code):
    assert refused(name, data).code == code


def test_size_limit():
    error = refused("规划.txt", "规划".encode() * 1000, max_bytes=1000)
    assert error.code == "too_large"


def test_macros_in_a_docx_are_refused():
    data = documents.rezip(documents.minimal_docx(), {"word/vbaProject.bin": b"\x00" * 10})
    assert refused("规划.docx", data).code == "macros"


def test_gb18030_text_is_read():
    lines = read_document("规划.txt", "某市消防规划\n一、总体要求".encode("gb18030"))
    assert [line.text for line in lines] == ["某市消防规划", "一、总体要求"]


def test_docx_merged_cells_carry_down():
    import io

    import docx

    document = docx.Document()
    table = document.add_table(rows=3, cols=2)
    table.cell(0, 0).text = "南召县"
    table.cell(0, 0).merge(table.cell(1, 0))
    table.cell(0, 1).text = "城郊消防站"
    table.cell(1, 1).text = "皇后消防站"
    table.cell(2, 1).text = "西峡消防站"
    buffer = io.BytesIO()
    document.save(buffer)
    lines = [line.text for line in read_document("附件.docx", buffer.getvalue())]
    # merged (row 2) and empty (row 3) first-column cells carry the region down
    assert lines[-9:] == [
        "南召县", "城郊消防站", "", "南召县", "皇后消防站", "", "南召县", "西峡消防站", "",
    ]  # fmt: skip
