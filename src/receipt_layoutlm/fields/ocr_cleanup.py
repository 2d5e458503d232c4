"""Field repairs for OCR'd words: what a photo's OCR does to a field that a transcript never does.

Tesseract's lines carry debris at their ends — ``|``, ``:``, ``”``, logo strokes read as
``——`` — and line-block decoding (``fields.lines``) takes whole lines, debris included
(``| Adoi | : UNIHAKKA …``). It also splits printed amounts at the decimal point (``7.`` ``30``),
so no single word parses as the total the picker is looking for. Two repairs, both word-level
and both inert on clean transcripts (every word there has a letter or digit at a field's edge
and OCR confidence 1.0, and no amount is split):

- :func:`rejoin_amounts` glues ``<digits>.`` + ``<2 digits>`` (and ``<digits>`` + ``.<2
  digits>``) on one line into one word before any field is read, so the total picker and the
  amount fields see ``7.30``;
- :func:`trim_edges` drops words at the two ends of a text field (merchant, address…) that carry
  no letter or digit, or whose OCR confidence is below :attr:`FieldCleanup.min_edge_confidence`.
  Only the edges: ``&`` and ``-`` inside an address are part of it.

Pure Python, no numpy (the worker's field budget is 1 ms a receipt).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

_ALNUM = re.compile(r"[^\W_]")  # a letter or digit in any script
_INTEGER_DOT = re.compile(r"\d{1,7}\.")
_CENTS = re.compile(r"\d{2}")
_INTEGER = re.compile(r"\d{1,7}")
_DOT_CENTS = re.compile(r"\.\d{2}")


@dataclass(frozen=True)
class FieldCleanup:
    """Which OCR repairs ``extract_fields`` applies (``fields.ocr_cleanup``)."""

    rejoin_amounts: bool = True
    """Glue amounts the OCR split at the decimal point (``7.`` ``30`` → ``7.30``) before any
    field is read."""
    trim_edges: bool = True
    """Drop debris words at both ends of a text field's span."""
    min_edge_confidence: float = 0.3
    """An edge word whose OCR confidence is below this is debris. Fixed a priori (Tesseract
    gives misread strokes and noise confidences well under a half; real words it is unsure of
    sit around a half), never tuned on the sample photos; transcripts carry 1.0 and are
    untouched."""

    @classmethod
    def off(cls) -> FieldCleanup:
        """No repair: the fields exactly as the model's words give them."""
        return cls(rejoin_amounts=False, trim_edges=False)


DEFAULT_CLEANUP = FieldCleanup()
"""What inference and evaluation apply unless told otherwise."""

W = TypeVar("W")


def is_debris(text: str, ocr_confidence: float, min_confidence: float) -> bool:
    """Whether a word at a field's edge is OCR debris rather than part of the value."""
    return not _ALNUM.search(text) or ocr_confidence < min_confidence


def trim_edges(span: Sequence[W], cleanup: FieldCleanup = DEFAULT_CLEANUP) -> list[W]:
    """``span`` without its debris words at either end; the span unchanged when every word is
    debris (the field's words are then the best there is). Words need ``text`` and
    ``ocr_confidence``."""
    def debris(word: Any) -> bool:
        return is_debris(word.text, float(word.ocr_confidence), cleanup.min_edge_confidence)

    start, stop = 0, len(span)
    while start < stop and debris(span[start]):
        start += 1
    while stop > start and debris(span[stop - 1]):
        stop -= 1
    return list(span[start:stop]) if start < stop else list(span)


def _pair_joins(left: str, right: str) -> bool:
    return bool(
        (_INTEGER_DOT.fullmatch(left) and _CENTS.fullmatch(right))
        or (_INTEGER.fullmatch(left) and _DOT_CENTS.fullmatch(right))
    )


def rejoin_amounts(
    words: Sequence[W], rows: Sequence[int] | None = None
) -> tuple[list[W], list[int] | None]:
    """``words`` with split amounts glued, and ``rows`` (one printed row per word) kept aligned.

    Two neighbours in reading order on the same line (and row, when rows are given) whose texts
    read ``<digits>.`` + ``<2 digits>`` or ``<digits>`` + ``.<2 digits>`` become one word: the
    first word with the joined text, its ``joined`` holding the second's indices, the lower
    confidence of the two and, per label, the higher probability (either half may be the one
    the model recognised as the amount). Words need ``text``, ``line``, ``confidence``,
    ``probabilities``, ``index``, ``joined`` and ``ocr_confidence`` (``fields._words.Word``).
    """
    out: list[Any] = []
    out_rows: list[int] = []
    i = 0
    while i < len(words):
        word: Any = words[i]
        if i + 1 < len(words):
            nxt: Any = words[i + 1]
            same_row = rows is None or rows[i] == rows[i + 1]
            if (word.line is not None and word.line == nxt.line and same_row
                    and _pair_joins(word.text.strip(), nxt.text.strip())):
                probabilities = {
                    k: max(float(word.probabilities.get(k, 0.0)),
                           float(nxt.probabilities.get(k, 0.0)))
                    for k in {*word.probabilities, *nxt.probabilities}
                }
                word = dataclasses.replace(
                    word,
                    text=word.text.strip() + nxt.text.strip(),
                    label=word.label or nxt.label,
                    confidence=min(word.confidence, nxt.confidence),
                    ocr_confidence=min(word.ocr_confidence, nxt.ocr_confidence),
                    probabilities=probabilities,
                    joined=(*word.joined, nxt.index, *nxt.joined),
                )
                out.append(word)
                if rows is not None:
                    out_rows.append(rows[i])
                i += 2
                continue
        out.append(word)
        if rows is not None:
            out_rows.append(rows[i])
        i += 1
    return out, (out_rows if rows is not None else None)
