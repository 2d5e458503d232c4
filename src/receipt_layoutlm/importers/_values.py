"""Finding dates and amounts inside OCR text so ground-truth values compare by meaning.

``25/12/2018``, ``25-12-18`` and ``25 DEC 2018`` are the same date; ``9.00``, ``RM9.00`` and
``9.0`` the same amount. Parsing itself is :mod:`receipt_layoutlm.fields.parsing` (one reading of
a printed value for the whole project); this module only adds what matching needs on top: finding
date spans inside a longer line, reading an ambiguous date both ways (``01-02-19`` day-first and
month-first, compared as a set of ISO readings) and stripping the decoration OCR leaves on an
amount token (``9.00SR`` tax codes, ``9.00*``).
"""

from __future__ import annotations

import re

from receipt_layoutlm.fields.parsing import parse_amount as _parse_amount
from receipt_layoutlm.fields.parsing import parse_date

IsoDate = str
"""A date reading as ISO ``YYYY-MM-DD``."""

_MONTH = r"(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)[A-Z]*\.?"

# Candidate spans only; fields.parsing decides whether (and how) a span reads as a date.
# Both separators must be the same: ``#19- 10/03/2018`` is a register number, then a date.
_NUMERIC_DATE = re.compile(r"(?<!\d)\d{1,4}\s?([/\-.])\s?\d{1,2}\s?\1\s?\d{2,4}(?!\d)")
_DAY_MONTH_NAME = re.compile(
    rf"(?<!\d)\d{{1,2}}\s?[-/ .]?\s?{_MONTH}\s?[-/ ,.]?\s?\d{{2,4}}(?!\d)"
)
_MONTH_NAME_DAY = re.compile(rf"(?<![A-Z]){_MONTH}\s?\d{{1,2}},?\s?\d{{4}}(?!\d)")
_COMPACT_DATE = re.compile(r"(?<!\d)\d{8}(?!\d)")
_PATTERNS = (_NUMERIC_DATE, _DAY_MONTH_NAME, _MONTH_NAME_DAY, _COMPACT_DATE)

# OCR puts spaces around date separators (``25 / 12 / 2018``); the parser expects none.
_SPACED_SEPARATOR = re.compile(r"\s*([/\-.,])\s*")
# What follows the digits of an amount token on Malaysian receipts: a tax code (``9.00SR``,
# ``9.00Z``) and marks such as ``*`` or ``#``.
_AMOUNT_SUFFIX = re.compile(r"(?<=\d)(?:SR|ZR|[A-Z])?[*#~'\"!]*$")
_AMOUNT_PREFIX = re.compile(r"^[*#~'\"!]+")


def _readings(span: str) -> frozenset[IsoDate]:
    """Every reading of one date span: day-first and month-first when both are valid."""
    compact = _SPACED_SEPARATOR.sub(r"\1", span)
    found = {parse_date(compact, dayfirst=True), parse_date(compact, dayfirst=False)}
    return frozenset(iso for iso in found if iso is not None)


def find_dates(text: str) -> list[tuple[int, int, frozenset[IsoDate]]]:
    """Every date written in ``text``: ``(start, end, readings)`` with non-overlapping spans."""
    upper = text.upper()
    hits: list[tuple[int, int, frozenset[IsoDate]]] = []
    taken: list[tuple[int, int]] = []
    for pattern in _PATTERNS:
        # Not finditer: an invalid match (``#19- 18/01``) must not hide a valid one that starts
        # inside it (``18/01/2018``), so the search resumes one character further on.
        pos = 0
        while (match := pattern.search(upper, pos)) is not None:
            start, end = match.span()
            readings = _readings(match.group())
            if readings and not any(start < t_end and t_start < end for t_start, t_end in taken):
                hits.append((start, end, readings))
                taken.append((start, end))
                pos = end
            else:
                pos = start + 1
    return sorted(hits)


def date_readings(value: str) -> frozenset[IsoDate]:
    """All ISO readings of a date value (empty when it is not a date)."""
    readings: set[IsoDate] = set()
    for _, _, found in find_dates(value):
        readings |= found
    return frozenset(readings)


def parse_amount(text: str) -> float | None:
    """The amount in one OCR token or value (``RM 9.00``, ``$9.0``, ``9.00SR``), else None."""
    compact = _AMOUNT_PREFIX.sub("", text.strip().upper())
    return _parse_amount(_AMOUNT_SUFFIX.sub("", compact))
