"""Field exact match on WildReceipt: does the extracted field equal the annotated value?

WildReceipt annotates segments (``Store_name_value``, ``Date_value``, ``Total_value``…), not one
value per receipt, and its segment texts carry no spaces (``731EASTERNAVENUE``). A field's truth
is therefore the set of its class's segment texts on the receipt, plus all of them joined in
reading order (a name printed as two segments). Comparison, per field:

- amounts (``total``, ``tax``, ``subtotal``) and ``date``: the parsed values
  (``fields.parsing``) when both sides parse, else the texts below;
- otherwise the texts with all whitespace removed and case folded (the release's texts drop
  spaces; case is the print's, which a photo's OCR may read either way).

Counting is task-3's (micro over (receipt, field) pairs): a non-empty prediction counts toward
precision, a receipt with at least one segment of the class toward recall.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from receipt_layoutlm.evaluation.sroie import KeyScores
from receipt_layoutlm.fields.parsing import parse_amount, parse_date

WILD_FIELD_CLASSES: dict[str, str] = {
    "merchant": "Store_name_value",
    "date": "Date_value",
    "total": "Total_value",
    "tax": "Tax_value",
    "subtotal": "Subtotal_value",
}
"""Extracted field → the WildReceipt value class it is judged against."""

_PARSERS: dict[str, Callable[[str], Any]] = {
    "date": parse_date, "total": parse_amount, "tax": parse_amount, "subtotal": parse_amount,
}
_SPACE = re.compile(r"\s+")


def squeeze(text: str | None) -> str:
    """Whitespace removed, case folded."""
    return _SPACE.sub("", text or "").casefold()


def segment_truth(words: Sequence[Any], classes: Mapping[str, str] = WILD_FIELD_CLASSES
                  ) -> dict[str, list[str]]:
    """Field → its class's segment texts in reading order (words need ``segment_id``,
    ``segment_class`` and ``text``; a segment's words joined by spaces); fields without a
    segment are absent."""
    segments: dict[int, tuple[str, list[str]]] = {}
    for word in words:
        sid, cls = getattr(word, "segment_id", None), getattr(word, "segment_class", None)
        if sid is None or cls is None:
            continue
        segments.setdefault(int(sid), (str(cls), []))[1].append(str(word.text))
    out: dict[str, list[str]] = {}
    for field, cls in classes.items():
        texts = [" ".join(t) for c, t in segments.values() if c == cls]
        if texts:
            out[field] = texts
    return out


def field_matches(field: str, predicted: str | None, truths: Sequence[str]) -> bool:
    """Whether ``predicted`` equals one truth segment or all of them joined (module rules)."""
    if not predicted or not truths:
        return False
    options = [*truths, "".join(truths)] if len(truths) > 1 else list(truths)
    parser = _PARSERS.get(field)
    if parser is not None:
        value = parser(predicted)
        if value is not None and any(parser(t) == value for t in options):
            return True
    return any(squeeze(predicted) == squeeze(t) for t in options)


def field_match_scores(
    predictions: Mapping[str, Mapping[str, str]],
    truth: Mapping[str, Mapping[str, Sequence[str]]],
    fields: Sequence[str] = tuple(WILD_FIELD_CLASSES),
) -> dict[str, KeyScores]:
    """Per field and ``"all"``: task-3 style counts of ``predictions`` (receipt → field → text)
    against ``truth`` (receipt → field → segment texts). Every receipt of ``truth`` is scored."""
    counts = {f: [0, 0, 0] for f in fields}
    for receipt, wanted in truth.items():
        got = predictions.get(receipt, {})
        for field in fields:
            c = counts[field]
            predicted, truths = got.get(field), wanted.get(field) or []
            c[1] += bool(predicted)
            c[2] += bool(truths)
            c[0] += field_matches(field, predicted, truths)
    out = {f: KeyScores.from_counts(*c) for f, c in counts.items()}
    out["all"] = KeyScores.from_counts(*(sum(c[i] for c in counts.values()) for i in range(3)))
    return out


def reachable(truths: Sequence[str], text: str) -> bool:
    """Whether one of ``truths`` occurs in ``text`` (whitespace removed, case folded)."""
    haystack = squeeze(text)
    return any(squeeze(t) and squeeze(t) in haystack for t in truths)
