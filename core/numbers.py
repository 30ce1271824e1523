"""Numbers as people type them — the one parser behind every door that takes a number: the
report form and the API (through ``targets.services.parse_value``), the Excel importer, the
edit forms (``core.forms.NumberField``) and the API's number fields (``core.api.NumberField``).

Read: full-width digits and punctuation (１，２００), thousands separators, 万 (×10 000) and 亿
(×10^8), a trailing % or ‰ when the figure's unit is that, the figure's own unit after the
number (12 个), and a leading apostrophe (Excel's text marker). Blank, 「—」, 「/」, 「无」 …
mean no figure (None).

A comma is a thousands separator only in groups of exactly three digits (1,200 or
12,345,678). Any other comma between digits (1,5 or 12,75) is a decimal comma: refused with the
figure written with a point as the question (是否为 1.5？), never guessed, because 1,500 would be
ambiguous. Refused too, rather than read or rounded silently: exponents (3e-5), underscores
(1_000), digits of other scripts (Arabic-Indic ١٢, circled, superscript), NaN and infinity, more
decimals or integer digits than the column holds (numeric(18, 4) by default).

Refusals are ``NumberError`` (a ``ServiceError``): a stable ``code`` for programs and a
Chinese ``message`` saying what is wrong and what is expected.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from core.services import ServiceError

PLACES = 4  # numeric(18, 4): four decimals, fourteen integer digits
INTEGER_DIGITS = 14
NO_FIGURE = {"", "—", "——", "-", "--", "–", "/", "无", "暂无", "N/A", "n/a", "NA"}
MULTIPLIERS = {"万": Decimal(10000), "亿": Decimal(100000000)}
# Full-width forms (U+FF01–U+FF5E) are the ASCII characters shifted; U+3000 is a space.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# ASCII digits only: \d would also take Arabic-Indic and other scripts' digits.
_NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
_THOUSANDS = re.compile(r"^[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?[0-9]+,[0-9]+$")
_EXPONENT = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)[eE][+-]?[0-9]+$")
_NOT_FINITE = {"nan", "inf", "infinity"}


class NumberError(ServiceError):
    """Not a number this door can take; ``code`` is stable, ``message`` says what to write."""


def parse_number(
    value,
    *,
    measure_unit: str = "",
    number_format: str | None = None,
    places: int = PLACES,
    integer_digits: int = INTEGER_DIGITS,
    expected: str | Callable[[], str] | None = None,
) -> Decimal | None:
    """``value`` as a number, None for no figure, ``NumberError`` otherwise.

    ``measure_unit`` is the figure's unit: a trailing % (or ‰) is read only when the unit is
    that, and the unit itself may follow the number. ``number_format`` is a spreadsheet cell's
    format, when the value is a cell's: a number in a cell formatted as a percentage holds a
    fraction (0.95 shows as 95 %). ``places`` and ``integer_digits`` are what the column holds;
    ``expected`` says what to write, in the messages (default: a number, with examples); a
    callable is called only when a message needs it (an import parses thousands of values
    that are fine, and a translated text costs more than the parse).
    """
    measure_unit = measure_unit or ""
    if value is None:
        return None
    if isinstance(value, bool):
        raise NumberError("not_a_number", _("应填写数字，而不是“是/否”"))
    if isinstance(value, datetime.date | datetime.time):
        raise NumberError(
            "not_a_number",
            _("应填写数字，而不是日期或时间（请把单元格格式设为“常规”或“数值”）"),
        )
    if isinstance(value, int | float | Decimal):
        return _typed(value, measure_unit, number_format, places, integer_digits, expected)
    raw = str(value)
    text = "".join(ch for ch in raw.translate(_FULL_WIDTH) if not ch.isspace()).removeprefix("'")
    if text in NO_FIGURE:
        return None
    unit = "".join(measure_unit.translate(_FULL_WIDTH).split())
    shown = raw.strip()[:40]
    percent = permille = False
    if text.endswith("%"):
        percent, text = True, text[:-1]
    elif text.endswith("‰"):
        permille, text = True, text[:-1]
    elif unit and len(unit) < len(text) and text.endswith(unit):
        text = text[: -len(unit)]
    multiplier = Decimal(1)
    if text[-1:] in MULTIPLIERS:
        multiplier, text = MULTIPLIERS[text[-1]], text[:-1]
    if "," in text:
        if _THOUSANDS.match(text.removeprefix("+").removeprefix("-")):
            text = text.replace(",", "")
        elif _DECIMAL_COMMA.match(text):
            raise NumberError(
                "decimal_comma",
                _(
                    "“%(raw)s”中的逗号不是千分位（千分位每三位一组，如 1,500）。"
                    "是否为 %(suggestion)s？小数点请用“.”"
                )
                % {"raw": shown, "suggestion": text.replace(",", ".")},
            )
        else:
            raise NumberError(
                "bad_thousands",
                _("“%(raw)s”的千分位写法有误，应写成 1,200 或 1200") % {"raw": shown},
            )
    if text.lower().lstrip("+-") in _NOT_FINITE:
        raise NumberError(
            "not_a_number",
            _("“%(raw)s”不是有效数字，应填写%(expected)s")
            % {"raw": shown, "expected": _expecting(expected)},
        )
    if _EXPONENT.match(text):
        raise NumberError(
            "not_a_number",
            _("“%(raw)s”是科学计数法，请写成普通数字，如 0.5、1200") % {"raw": shown},
        )
    if not _NUMBER.match(text):
        raise NumberError(
            "not_a_number",
            _("“%(raw)s”不是数字，应填写%(expected)s")
            % {"raw": shown, "expected": _expecting(expected)},
        )
    try:
        number = Decimal(text) * multiplier
    except InvalidOperation:  # pragma: no cover - the pattern above only lets numbers through
        raise NumberError(
            "not_a_number",
            _("“%(raw)s”不是数字，应填写%(expected)s")
            % {"raw": shown, "expected": _expecting(expected)},
        ) from None
    if percent:
        _check_unit(measure_unit, "%")
    if permille:
        _check_unit(measure_unit, "‰")
    return _in_range(number, shown, places, integer_digits)


def _expecting(expected: str | Callable[[], str] | None) -> str:
    """What to write, said in a message: ``parse_number``'s ``expected`` (called when given
    as a callable), else a number with examples."""
    if callable(expected):
        expected = expected()
    return expected or _("数字，如 12、1,200、3万、95%")


def _typed(value, measure_unit, number_format, places, integer_digits, expected) -> Decimal:
    """A number that arrived as a number (a spreadsheet cell, a service call)."""
    number = Decimal(str(value))
    if not number.is_finite():
        raise NumberError(
            "not_a_number",
            _("“%(raw)s”不是有效数字（NaN 或无穷大），应填写%(expected)s")
            % {"raw": value, "expected": _expecting(expected)},
        )
    if number_format and "%" in number_format:
        _check_unit(measure_unit, "%")
        number *= 100
    return _in_range(number, value, places, integer_digits)


def _check_unit(measure_unit: str, sign: str) -> None:
    if measure_unit != sign:
        kind = _("百分数") if sign == "%" else _("千分数")
        raise NumberError(
            "wrong_unit",
            _("该指标的计量单位是“%(unit)s”，不应填写%(kind)s")
            % {"unit": measure_unit or _("无"), "kind": kind},
        )


def _in_range(number: Decimal, raw, places: int, integer_digits: int) -> Decimal:
    """What the column holds exactly: rounding would change the figure silently, so a longer
    number is refused with what is allowed."""
    if abs(number) >= Decimal(10) ** integer_digits:
        raise NumberError(
            "out_of_range",
            _("“%(raw)s”数值过大，整数部分最多 %(digits)s 位")
            % {"raw": raw, "digits": integer_digits},
        )
    if number.normalize().as_tuple().exponent < -places:
        raise NumberError(
            "too_many_decimals",
            _("“%(raw)s”的小数位数过多，最多保留 %(places)s 位小数（请先四舍五入）")
            % {"raw": raw, "places": places},
        )
    return number


def plain(value: Decimal) -> str:
    """A number written plainly: 30000, 1.5 — no exponent, no trailing zeros."""
    return f"{value.normalize():f}"


def understood(raw, value: Decimal | None) -> str | None:
    """What ``raw`` was read as, when that is worth saying: typed text that was not already a
    plain number (3万 → "30000", １，２００ → "1200"); None otherwise."""
    if value is None or not isinstance(raw, str) or _NUMBER.match(raw.strip()):
        return None
    return plain(value)
