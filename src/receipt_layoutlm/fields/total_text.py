"""The total picker's text-only half: which words are amounts, their rows' keyword classes, the
keyword-row sums and every candidate feature that reads only texts and rows
(``fields.total_picker`` adds the model's columns).

None of it depends on the model's output, so ``prediction.field_inputs`` computes it before the
model runs (``fields.prepared``), as it clusters the printed rows, while the words are still in
the caches; :func:`total_text` over the same texts and rows gives the same values either way.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from receipt_layoutlm.fields.parsing import parse_amount
from receipt_layoutlm.fields.total_keywords import KEYWORDS, keyword_rows

_CENT = 0.005
_DIGIT = re.compile(r"\d")
_CURRENCY_TEXT = re.compile(r"RM|\$|MYR", re.IGNORECASE)
_DECIMALS = re.compile(r"[.,]\d{2}\b")


@dataclass(frozen=True)
class _Arithmetic:
    """What a candidate's value is compared with: sums of the amounts on keyword rows."""

    cash_minus_change: set[float]
    subtotal_sums: set[float]
    pair_sums: set[float]
    largest_total: float | None
    last_total: int | None


def _arithmetic(
    found: list[tuple[int, float]], rows: Sequence[int], classes: Mapping[int, set[str]]
) -> _Arithmetic:
    amounts: dict[str, list[float]] = {c: [] for c in KEYWORDS}
    for i, value in found:
        for c in classes[rows[i]]:
            amounts[c].append(value)
    keyword_amounts = sorted(
        {round(v, 2) for c in ("total", "grand", "subtotal", "tax") for v in amounts[c]}
    )
    on_total_rows = [(i, v) for i, v in found if classes[rows[i]] & {"total", "grand"}]
    return _Arithmetic(
        cash_minus_change={
            round(c - h, 2) for c in amounts["cash"] for h in amounts["change"] if h >= 0
        },
        subtotal_sums={
            round(s + t + r, 2)
            for s in amounts["subtotal"]
            for t in [0.0, *amounts["tax"]]
            for r in [0.0, *amounts["rounding"]]
        },
        pair_sums={
            round(a + b, 2)
            for n, a in enumerate(keyword_amounts)
            for b in keyword_amounts[n + 1 :]
        },
        largest_total=max((v for _, v in on_total_rows), default=None),
        last_total=on_total_rows[-1][0] if on_total_rows else None,
    )


@dataclass
class TotalText:
    """The candidates of one receipt as far as its texts and rows tell."""

    positions: list[int]
    """Each candidate's word position (the words that parse as amounts, in reading order)."""
    values: list[float]
    """Each candidate's amount."""
    features: list[list[float]]
    """Each candidate's feature values after the model's five (``total_picker.feature_names``
    from ``row_subtotal`` on)."""
    amounts: dict[str, float | None]
    """``parse_amount`` of every text with a digit (extraction's parse memo starts with it)."""
    terms: Any = None
    """The standardised, weighted ``features`` of the picker named by ``scored_by``, as
    ``TotalPicker`` sums them (an array; None until a picker asks)."""
    scored_by: Any = None
    """The picker ``terms`` belong to."""


def total_text(
    texts: Sequence[str],
    rows: Sequence[int],
    *,
    parse: Callable[[str], float | None] = parse_amount,
) -> TotalText:
    """The text-only half of the picker's candidates for words with ``texts`` on printed
    ``rows`` (one per word), in reading order; ``parse`` is ``parse_amount`` or a memo of it."""
    # Only words with a digit can be amounts; the rest skip the parser (most of a receipt).
    amounts: dict[str, float | None] = {}
    for text in texts:
        if text not in amounts and _DIGIT.search(text):
            amounts[text] = parse(text)
    parsed = [amounts.get(text) for text in texts]
    positions = [i for i, v in enumerate(parsed) if v is not None]
    values: list[float] = [parsed[i] for i in positions]  # type: ignore[misc]
    if not positions:
        return TotalText([], [], [], amounts)
    own_rows = [rows[i] for i in positions]
    classes, row_flags = keyword_rows(texts, rows, parsed, set(own_rows))
    sums = _arithmetic(list(zip(positions, values, strict=True)), rows, classes)
    largest = max(map(abs, values)) or 1.0
    cents = [round(v, 2) for v in values]
    repeats = Counter(cents)
    count = len(positions)
    last_word, last_candidate = max(len(texts) - 1, 1), max(count - 1, 1)
    cash_minus_change, subtotal_sums, pair_sums = (
        sums.cash_minus_change, sums.subtotal_sums, sums.pair_sums)
    largest_total, last_total = sums.largest_total, sums.last_total
    features = []
    for n, (i, value, cent, row) in enumerate(
        zip(positions, values, cents, own_rows, strict=True)
    ):
        text = texts[i]
        size = abs(value)
        features.append([
            *row_flags[row],
            i / last_word,
            (count - 1 - n) / last_candidate,
            float(size >= largest - _CENT),
            size / largest,
            float(cent in cash_minus_change),
            float(cent in subtotal_sums and "subtotal" not in classes[row]),
            float(cent in pair_sums),
            float(largest_total is not None and abs(value - largest_total) < _CENT),
            float(i == last_total),
            math.log1p(repeats[cent] - 1),
            float(_DECIMALS.search(text) is not None),
            float(value < 0),
            float(_CURRENCY_TEXT.search(text) is not None),
        ])
    return TotalText(positions, values, features, amounts)
