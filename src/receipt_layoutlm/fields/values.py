"""What a field is once read: :class:`FieldValue`, and which fields parse to what.

Shared by extraction (reading a value per field) and the repairs that finish it
(``fields.finishing``), so neither imports the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from receipt_layoutlm.fields._words import Word
from receipt_layoutlm.fields.parsing import parse_amount, parse_date, parse_phone, parse_time
from receipt_layoutlm.fields.spans import join_text, mean_confidence

AMOUNT_FIELDS: frozenset[str] = frozenset(
    {"subtotal", "tax", "tip", "total", "change", "cash_back", "refund"}
)
"""Fields whose value is an amount (float)."""

PARSERS: dict[str, Callable[[str], Any]] = {
    **dict.fromkeys(AMOUNT_FIELDS, parse_amount),
    "date": parse_date,
    "time": parse_time,
}
"""Field → the parser of its value (fields not here are text)."""


@dataclass(frozen=True)
class FieldValue:
    """One extracted field."""

    field: str
    """Field name, a key of ``FIELD_LABELS`` (``merchant``, ``date``, ``total``…)."""
    text: str
    """The span's words joined by single spaces in reading order (lines too)."""
    value: str | float | None
    """Normalised value: amounts → float, dates → ISO ``YYYY-MM-DD``, times → ``HH:MM[:SS]``,
    phone → digits (leading ``+`` kept), other fields → ``text``; None when the span does not
    parse."""
    confidence: float
    """Mean word confidence of the chosen span."""
    word_indices: tuple[int, ...]
    """Indices of the span's words (``WordPrediction.word_index``, else position in ``words``)."""
    snapped_from: str | None = None
    """The text as read when ``text`` was replaced by a known value (``fields.known_values``);
    None otherwise."""


def field_value(field: str, span: Sequence[Word], value: Any) -> FieldValue:
    """The field read from ``span`` (words in reading order) with its parsed ``value``; text
    fields' value is their text (a phone's, its digits)."""
    text = join_text(span)
    if field not in PARSERS:
        value = parse_phone(text) if field == "phone" else text
    return FieldValue(
        field=field,
        text=text,
        value=value,
        confidence=mean_confidence(span),
        word_indices=tuple(i for w in span for i in (w.index, *w.joined)),
    )
