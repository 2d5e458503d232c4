"""Normalise the text of amount, date and time fields as printed on receipts.

Each parser takes the whole text of a span and returns the normalised value or ``None`` when the
text is not (only) such a value; surrounding spaces and wrapping punctuation such as ``(``, ``)``,
``:``, ``,`` are ignored. None of them raise on malformed input.

Dates are read DAY-FIRST by default (``04/01/2023`` is 4 January), the convention of the SROIE
(Malaysia) and most non-US receipts; a numeric date that is invalid day-first but valid
month-first (``12/25/2018``) is read month-first. Pass ``dayfirst=False`` for US receipts.
Two-digit years are 2000–2069 for ``00``–``69`` and 1970–1999 otherwise.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

_WRAPPING = " \t\r\n:;,()[]{}\"'"
_SPACES = re.compile(r"\s+")  # compiled once: the parsers run on every word of a receipt
_PLAIN_AMOUNT = re.compile(r"\d{1,7}\.\d{1,3}")
_CURRENCY = re.compile(
    r"^(?:RM|MYR|USD|US\$|S\$|SGD|EUR|GBP|\$|€|£|¥)\s*|\s*(?:RM|MYR|USD|SGD|EUR|GBP|\$|€|£)$",
    re.IGNORECASE,
)
# Digits with optional thousands groups and an optional decimal part; validated further below.
_NUMBER = re.compile(r"^\d{1,3}(?:[.,]\d{3})*(?:[.,]\d{1,3})?$|^\d+(?:[.,]\d{1,3})?$")

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = "(?P<mon>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_SEP = r"[/\-.]"
_DATE_PATTERNS = [
    # 25/12/2018, 25-12-18, 11.02.18, 5/3/2018
    re.compile(rf"^(?P<a>\d{{1,2}})(?P<s>{_SEP})(?P<b>\d{{1,2}})(?P=s)(?P<y>\d{{4}}|\d{{2}})$"),
    # 2018-03-23, 2018/02/22
    re.compile(rf"^(?P<y>\d{{4}})(?P<s>{_SEP})(?P<m>\d{{1,2}})(?P=s)(?P<d>\d{{1,2}})$"),
    # 20180304
    re.compile(r"^(?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})$"),
    # 25032018 (only when it is not a valid yyyymmdd)
    re.compile(r"^(?P<d>\d{2})(?P<m>\d{2})(?P<y>(?:19|20)\d{2})$"),
    # 04-Jan-2023, 19 APR 2018, 15/APR/2017, 28 MAR 18
    re.compile(
        rf"^(?P<d>\d{{1,2}})(?:st|nd|rd|th)?[\s/\-.]*{_MONTH}[\s/\-.,]*(?P<y>\d{{4}}|\d{{2}})$",
        re.IGNORECASE,
    ),
    # OCT 3, 2016; January 4 2023
    re.compile(
        rf"^{_MONTH}[\s/\-.]*(?P<d>\d{{1,2}})(?:st|nd|rd|th)?[\s,/\-.]+(?P<y>\d{{4}})$",
        re.IGNORECASE,
    ),
]
_TIME = re.compile(
    r"^(?P<h>\d{1,2})(?P<s>[:.])(?P<m>\d{2})(?:(?P=s)(?P<sec>\d{2}))?\s*(?P<ampm>[ap]\.?m\.?)?$",
    re.IGNORECASE,
)


def _strip(text: object) -> str:
    if not isinstance(text, str):
        return ""
    return _SPACES.sub(" ", text).strip(_WRAPPING)


_MAX_BARE_DIGITS = 7


def parse_amount(text: object) -> float | None:
    """``"RM 9.00"`` → 9.0, ``"9,00"`` → 9.0, ``"1,234.50"``/``"1.234,50"`` → 1234.5,
    ``"$3.14"`` → 3.14, ``"-2.00"``/``"(2.00)"``/``"2.00-"`` → -2.0; anything else → None.

    With both ``,`` and ``.`` the last one is the decimal mark. With one kind only: ``.`` is always
    decimal (receipts print unit prices as ``9.000``); ``,`` is decimal before 1–2 digits and a
    thousands separator before 3 (``1,234`` → 1234.0).
    """
    if not isinstance(text, str):
        return None
    if _PLAIN_AMOUNT.fullmatch(text):
        return float(text)  # "9.00": what the steps below give, without them (most amounts)
    if text.isascii() and text.isdigit():  # "12": what the steps below give, without them
        return float(text) if len(text) <= _MAX_BARE_DIGITS else None
    if _NOT_AMOUNT_CHARACTER.search(text):
        return None  # a date, a phone number, a word: no step below removes such a character
    return _parse_amount_steps(text)


_NOT_AMOUNT_CHARACTER = re.compile(r"[^\d.,\s():;\-$€£¥RMYUSDGEBP]", re.IGNORECASE)
"""A character no amount can hold: the steps of :func:`_parse_amount_steps` remove only
whitespace, wrapping ``()``, ``:;``, a sign and a currency (these letters, case-insensitively as
``_CURRENCY`` reads them) before the rest must be digits and separators."""


def _parse_amount_steps(text: str) -> float | None:
    raw = _SPACES.sub(" ", text).strip()
    negative = False
    if raw.startswith("(") and raw.endswith(")"):
        negative, raw = True, raw[1:-1].strip()
    raw = raw.strip(" :;")
    if raw.startswith("-"):
        negative, raw = True, raw[1:].strip()
    elif raw.endswith("-"):
        negative, raw = True, raw[:-1].strip()
    for _ in range(2):  # a prefix and a suffix at most ("RM 9.00", "9.00 RM")
        raw = _CURRENCY.sub("", raw, count=1).strip()
    if raw.startswith("-") and not negative:
        negative, raw = True, raw[1:].strip()
    if not raw or not _NUMBER.match(raw):
        return None
    last_dot, last_comma = raw.rfind("."), raw.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        decimal_mark = "." if last_dot > last_comma else ","
    elif last_comma >= 0:
        decimal_mark = "," if len(raw) - last_comma - 1 in (1, 2) else None
    elif last_dot >= 0:
        decimal_mark = "."
    else:
        decimal_mark = None
    thousands = {".", ","} - {decimal_mark}
    if decimal_mark and raw.count(decimal_mark) > 1:
        return None
    if decimal_mark:
        whole, frac = raw.rsplit(decimal_mark, 1)
    else:
        whole, frac = raw, ""
    if any(mark in whole for mark in thousands) and not re.fullmatch(
        r"\d{1,3}(?:[.,]\d{3})+", whole
    ):
        return None
    if len(whole) > _MAX_BARE_DIGITS and whole.isdigit():
        return None  # an invoice, phone or card number: real amounts that long carry separators
    digits = whole.replace(".", "").replace(",", "") + ("." + frac if frac else "")
    try:
        value = float(Decimal(digits))
    except InvalidOperation:
        return None
    return -value if negative else value


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_date(text: object, *, dayfirst: bool = True) -> str | None:
    """A printed date → ISO ``YYYY-MM-DD``; None when the text is not exactly one valid date.

    Accepts ``dd/mm/yyyy``, ``dd-mm-yy``, ``dd.mm.yyyy`` (day-first by default, see the module
    docstring), ``yyyy-mm-dd``, ``yyyy/mm/dd``, ``yyyymmdd`` (else ``ddmmyyyy``),
    ``04-Jan-2023``, ``19 APR 2018``, ``15/APR/2017`` and ``OCT 3, 2016``.
    """
    raw = _strip(text)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(raw)
        if match and (iso := _date_from_match(match.groupdict(), dayfirst)):
            return iso
    return None


def _date_from_match(parts: dict[str, str], dayfirst: bool) -> str | None:
    year = _year(parts["y"])
    if parts.get("mon"):
        return _iso(year, MONTHS[parts["mon"].lower()], int(parts["d"]))
    if parts.get("a"):
        a, b = int(parts["a"]), int(parts["b"])
        first, second = _iso(year, b, a), _iso(year, a, b)
        if not dayfirst:
            first, second = second, first
        return first or second
    return _iso(year, int(parts["m"]), int(parts["d"]))


def parse_time(text: object) -> str | None:
    """A printed time → ``HH:MM`` or ``HH:MM:SS`` (24-hour); None when not exactly one valid time.

    Accepts ``8:13``, ``08:13:39``, ``8:13:39 PM``, ``8.13pm`` (a ``.`` separator only with
    AM/PM, since ``8.13`` alone is an amount).
    """
    raw = _strip(text)
    match = _TIME.match(raw)
    if not match:
        return None
    hour, minute = int(match["h"]), int(match["m"])
    second = match["sec"]
    ampm = (match["ampm"] or "").replace(".", "").lower()
    if match["s"] == "." and not ampm:
        return None
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59 or (second is not None and int(second) > 59):
        return None
    return f"{hour:02d}:{minute:02d}" + (f":{int(second):02d}" if second is not None else "")


def parse_phone(text: object) -> str | None:
    """Digits of a phone number (a leading ``+`` kept); None with fewer than 6 digits or letters."""
    raw = _strip(text)
    if not raw or re.search(r"[^\d\s+\-./()]", raw.removeprefix("TEL").removeprefix("Tel")):
        return None
    digits = re.sub(r"\D", "", raw)
    if len(digits) < 6:
        return None
    return ("+" if raw.lstrip("(").startswith("+") else "") + digits
