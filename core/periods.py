"""Reporting period codes: a year (``2022``), a half (``2022H1``) or a quarter (``2022Q3``)."""

import calendar
import datetime
import re

PERIOD_PATTERN = r"^[0-9]{4}(H[12]|Q[1-4])?$"
_PERIOD_RE = re.compile(PERIOD_PATTERN)


def is_valid_period(code: str) -> bool:
    return bool(_PERIOD_RE.match(code or ""))


def period_bounds(code: str) -> tuple[datetime.date, datetime.date]:
    """First and last day of a period; ValueError for a malformed code."""
    if not is_valid_period(code):
        raise ValueError(f"bad period code {code!r}")
    year = int(code[:4])
    if len(code) == 4:
        first_month, months = 1, 12
    elif code[4] == "H":
        first_month, months = (1, 6) if code[5] == "1" else (7, 6)
    else:
        first_month, months = 3 * (int(code[5]) - 1) + 1, 3
    last_month = first_month + months - 1
    last_day = calendar.monthrange(year, last_month)[1]
    return datetime.date(year, first_month, 1), datetime.date(year, last_month, last_day)
