"""Reading dates and amounts the many ways receipts print them, so values compare by meaning.

``25/12/2018``, ``25-12-18`` and ``25 DEC 2018`` are the same date; ``9.00``, ``RM9.00`` and
``9.0`` the same amount. Dates are compared as sets of possible (year, month, day) readings
because ``01-02-19`` is ambiguous (day-first is the receipts' habit, month-first stays possible).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

Ymd = tuple[int, int, int]

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}
_MONTH = r"(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)[A-Z]*\.?"

# Both separators must be the same: ``#19- 10/03/2018`` is a register number, then a date.
_NUMERIC_DATE = re.compile(r"(?<!\d)(\d{1,4})\s?([/\-.])\s?(\d{1,2})\s?\2\s?(\d{2,4})(?!\d)")
_DAY_MONTH_NAME = re.compile(
    rf"(?<!\d)(\d{{1,2}})\s?[-/ .]?\s?{_MONTH}\s?[-/ ,.]?\s?(\d{{2,4}})(?!\d)"
)
_MONTH_NAME_DAY = re.compile(rf"(?<![A-Z]){_MONTH}\s?(\d{{1,2}}),?\s?(\d{{4}})(?!\d)")
_COMPACT_DATE = re.compile(r"(?<!\d)(\d{8})(?!\d)")

# Currency markers and the decoration around an amount token (``RM9.00``, ``(9.00)``, ``9.00*``).
_AMOUNT = re.compile(
    r"^[^\dA-Z-]*(?:RM|MYR|USD|SGD|S\$|\$)?\s?(-?)\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,3}))?"
    r"(?:RM|SR|ZR|[A-Z])?[^\dA-Z]*$"
)


def _year(text: str) -> int | None:
    if len(text) == 2:
        return 2000 + int(text)
    if len(text) == 4:
        return int(text)
    return None


def _valid(year: int | None, month: int, day: int) -> Ymd | None:
    if year is None or not (1 <= month <= 12 and 1 <= day <= 31 and 1990 <= year <= 2099):
        return None
    return (year, month, day)


def _readings(match: re.Match[str], kind: str) -> set[Ymd]:
    found: set[Ymd | None] = set()
    if kind == "numeric":
        a, b, c = match.group(1), match.group(3), match.group(4)
        if len(a) == 4:
            found.add(_valid(int(a), int(b), int(c)))
        elif len(a) <= 2:
            found.add(_valid(_year(c), int(b), int(a)))  # day first
            found.add(_valid(_year(c), int(a), int(b)))  # month first
    elif kind == "day_month":
        found.add(_valid(_year(match.group(3)), _MONTHS[match.group(2)], int(match.group(1))))
    elif kind == "month_day":
        found.add(_valid(_year(match.group(3)), _MONTHS[match.group(1)], int(match.group(2))))
    else:  # compact: YYYYMMDD or DDMMYYYY
        digits = match.group(1)
        found.add(_valid(int(digits[:4]), int(digits[4:6]), int(digits[6:])))
        found.add(_valid(int(digits[4:]), int(digits[2:4]), int(digits[:2])))
    return {ymd for ymd in found if ymd is not None}


_PATTERNS = (
    ("numeric", _NUMERIC_DATE),
    ("day_month", _DAY_MONTH_NAME),
    ("month_day", _MONTH_NAME_DAY),
    ("compact", _COMPACT_DATE),
)


def find_dates(text: str) -> list[tuple[int, int, frozenset[Ymd]]]:
    """Every date written in ``text``: ``(start, end, readings)`` with non-overlapping spans."""
    upper = text.upper()
    hits: list[tuple[int, int, frozenset[Ymd]]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        # Not finditer: an invalid match (``#19- 18/01``) must not hide a valid one that starts
        # inside it (``18/01/2018``), so the search resumes one character further on.
        pos = 0
        while (match := pattern.search(upper, pos)) is not None:
            start, end = match.span()
            readings = _readings(match, kind)
            if readings and not any(start < t_end and t_start < end for t_start, t_end in taken):
                hits.append((start, end, frozenset(readings)))
                taken.append((start, end))
                pos = end
            else:
                pos = start + 1
    return sorted(hits)


def date_readings(value: str) -> frozenset[Ymd]:
    """All (year, month, day) readings of a date value (empty when it is not a date)."""
    readings: set[Ymd] = set()
    for _, _, found in find_dates(value):
        readings |= found
    return frozenset(readings)


def parse_amount(text: str) -> Decimal | None:
    """The amount in one token or value (``RM 9.00``, ``$9.0``, ``1,234.50``), else None."""
    compact = text.strip().upper()
    match = _AMOUNT.match(compact)
    if not match:
        return None
    sign, whole, fraction = match.groups()
    try:
        amount = Decimal(whole.replace(",", "") + ("." + fraction if fraction else ""))
    except InvalidOperation:  # pragma: no cover - the regex only lets digits through
        return None
    return -amount if sign else amount
