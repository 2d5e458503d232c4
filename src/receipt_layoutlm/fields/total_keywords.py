"""The keyword classes the total picker reads on a printed row (``TOTAL``, ``CASH``,
``CHANGE``, ``GST``…), and each wanted row's classes and feature flags
(``fields.total_picker`` turns them into features)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

KEYWORDS: dict[str, re.Pattern[str]] = {
    "subtotal": re.compile(r"SUB\s*-?\s*TOTAL|SUBTTL|SUB\s*TTL"),
    "total": re.compile(r"TOTAL|\bTTL\b"),
    "grand": re.compile(r"GRAND|\bNETT?\b|AMOUNT\s*DUE|AMT\s*DUE|PAYABLE|\bDUE\b"),
    "cash": re.compile(r"CASH|TENDER|\bPAID\b|PAYMENT|CARD|VISA|MASTER"),
    "change": re.compile(r"CHANGE"),
    "rounding": re.compile(r"ROUND|\bADJ"),
    "tax": re.compile(r"GST|TAX|\bSST\b|\bVAT\b|SERVICE|\bSVC\b"),
    "discount": re.compile(r"DISC|VOUCHER|\bLESS\b"),
    "quantity": re.compile(r"\bQTY\b|\bPCS\b|@|\bX\s*\d|\d\s*X\b|\bITEM"),
    # GST codes printed on item lines (Malaysian receipts: SR standard-rated, ZR/ZRL zero).
    "tax_code": re.compile(r"\bSR\b|\bZRL?\b|\bES\b"),
    "inclusive": re.compile(r"INCL|\bAFTER\b|\bWITH\b"),
    "exclusive": re.compile(r"EXCL|\bBEFORE\b|\bW/?O\b"),
}
"""Keyword classes looked for on a candidate's row (``subtotal`` text is removed before
``total`` is looked for, so ``SUB TOTAL`` is not a total keyword)."""

KEYWORD_LITERALS: dict[str, tuple[str, ...]] = {
    "subtotal": ("SUB",),
    "total": ("TOTAL", "TTL"),
    "grand": ("GRAND", "NET", "DUE", "PAYABLE"),
    "cash": ("CASH", "TENDER", "PAID", "PAYMENT", "CARD", "VISA", "MASTER"),
    "change": ("CHANGE",),
    "rounding": ("ROUND", "ADJ"),
    "tax": ("GST", "TAX", "SST", "VAT", "SERVICE", "SVC"),
    "discount": ("DISC", "VOUCHER", "LESS"),
    "quantity": ("QTY", "PCS", "@", "X", "ITEM"),
    "tax_code": ("SR", "ZR", "ES"),
    "inclusive": ("INCL", "AFTER", "WITH"),
    "exclusive": ("EXCL", "BEFORE", "W"),
}
"""Per keyword class, plain strings one of which every match of its pattern contains (a test
checks each branch of each pattern): a row without any of them skips that pattern's search —
substring tests cost a tenth of a regex search, and the picker reads ~18 rows a receipt."""


LITERALS = sorted({part for parts in KEYWORD_LITERALS.values() for part in parts}, key=len,
                   reverse=True)
ANY_LITERAL = re.compile("(?=(" + "|".join(map(re.escape, LITERALS)) + "))")
"""Every literal, longest first, in a lookahead: ``findall`` gives at each position of a row the
longest literal starting there, so one C call finds every literal present (the shorter ones
starting at the same place are prefixes of it: :data:`LITERAL_CLASSES`). Twelve searches a row,
one per class, were most of what a row's classes cost."""
LITERAL_CLASSES: dict[str, frozenset[str]] = {
    found: frozenset(
        name
        for name, parts in KEYWORD_LITERALS.items()
        if name != "subtotal" and any(found.startswith(part) for part in parts)
    )
    for found in LITERALS
}
"""Per literal, the keyword classes (but ``subtotal``, looked for first) with a literal that
starts it: those present wherever it is."""


def row_classes(text: str) -> set[str]:
    """The keyword classes whose pattern is found in ``text`` (upper-cased; ``subtotal`` text
    taken out before the others are looked for)."""
    upper = text.upper()
    found: set[str] = set()
    if "SUB" in upper and KEYWORDS["subtotal"].search(upper):
        found.add("subtotal")
        upper = KEYWORDS["subtotal"].sub(" ", upper)
    present = {name for part in set(ANY_LITERAL.findall(upper)) for name in LITERAL_CLASSES[part]}
    for name in present:
        if KEYWORDS[name].search(upper):
            found.add(name)
    return found


def keyword_rows(
    words: Sequence[Any], rows: Sequence[int], parsed: list[float | None], wanted: set[int]
) -> tuple[dict[int, set[str]], dict[int, list[float]]]:
    """The keyword classes of each row in ``wanted`` and of the row above it (read from the
    row's words that are not amounts), and per row in ``wanted`` its features' flags: its own
    classes then those of the row above (all 0 on the first row)."""
    by_row: dict[int, list[int]] = {}
    for position, row in enumerate(rows):
        by_row.setdefault(row, []).append(position)
    ordered_rows = sorted(by_row)
    rank = {row: n for n, row in enumerate(ordered_rows)}
    above = {r: ordered_rows[rank[r] - 1] if rank[r] > 0 else None for r in wanted}
    # Keyword classes are read only on the rows a feature looks at: a candidate's and the one
    # above it (the regexes over every row were most of the picker's cost).
    classes = {
        row: row_classes(" ".join(words[i].text for i in by_row[row] if parsed[i] is None))
        for row in wanted | {a for a in above.values() if a is not None}
    }
    no_flags = [0.0] * len(KEYWORDS)
    flags = {  # most rows have no keyword
        row: [float(c in found) for c in KEYWORDS] if found else no_flags
        for row, found in classes.items()
    }
    pairs = {r: flags[r] + (no_flags if a is None else flags[a]) for r, a in above.items()}
    return classes, pairs
