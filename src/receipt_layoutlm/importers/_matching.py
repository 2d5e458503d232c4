"""Finding a document-level text value among a receipt's words, tolerant of OCR noise.

Text is compared after normalisation (upper case, letters and digits only), so case, spacing
and punctuation never matter: ``BOOK TA .K(TAMAN DAYA)`` matches ``BOOK TA .K (TAMAN DAYA)``. The
words are concatenated in reading order, so a value spread over consecutive lines (addresses, a
company name over two lines) is one contiguous stretch. An exact occurrence wins; otherwise
rapidfuzz locates the most similar stretch (``SDN BND`` vs ``SDN BHD``) and the span is snapped
to whole words, trying nearby start and end words and keeping the most similar.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

_NOT_ALNUM = re.compile(r"[^0-9A-Z]")

MIN_SIMILARITY = 0.8
"""Least normalised similarity between a value and a word span for the span to be labelled."""


def normalize_text(text: str) -> str:
    """Upper case, letters and digits only: what value matching compares."""
    return _NOT_ALNUM.sub("", text.upper())


@dataclass(frozen=True)
class TextMatch:
    """A contiguous run of words that spells a value."""

    tokens: tuple[int, ...]
    """Indices of the matched words (into the sequence given to :func:`find_text`)."""
    similarity: float
    """Normalised Levenshtein similarity of the value and the words, in [0, 1]."""


class _Stream:
    """The words' normalised text concatenated, with the owning word of every character."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self.norms = [normalize_text(t) for t in tokens]
        self.text = "".join(self.norms)
        self.starts: list[int] = []
        self.owner: list[int] = []
        pos = 0
        for index, norm in enumerate(self.norms):
            self.starts.append(pos)
            self.owner.extend([index] * len(norm))
            pos += len(norm)

    def span(self, first: int, last: int) -> str:
        return self.text[self.starts[first] : self.starts[last] + len(self.norms[last])]

    def tokens_between(self, start: int, end: int) -> list[int]:
        """Words with at least one character in ``text[start:end]`` (punctuation-only words
        strictly inside the span are included too: ``59 & 61`` keeps its ``&``)."""
        if end <= start:
            return []
        first, last = self.owner[start], self.owner[end - 1]
        return list(range(first, last + 1))


def _snap(stream: _Stream, value: str, start: int, end: int) -> TextMatch:
    """Best whole-word span near ``text[start:end]`` by similarity to ``value``."""
    pad = max(3, len(value) // 5)
    text_len = len(stream.text)

    def owners(lo: int, hi: int) -> list[int]:
        return sorted({stream.owner[i] for i in range(max(0, lo), min(text_len, hi))})

    # Highest similarity wins; ties go to the shorter, then the earlier span.
    best_key: tuple[float, int, int] | None = None
    best_span = (0, 0)
    for first in owners(start - pad, start + pad):
        for last in owners(end - 1 - pad, end + pad):
            if last < first:
                continue
            score = Levenshtein.normalized_similarity(value, stream.span(first, last))
            key = (score, first - last, -first)
            if best_key is None or key > best_key:
                best_key, best_span = key, (first, last)
    first, last = best_span
    return TextMatch(tuple(range(first, last + 1)), best_key[0] if best_key else 0.0)


def find_text(
    value: str, tokens: Sequence[str], *, min_similarity: float = MIN_SIMILARITY
) -> TextMatch | None:
    """The first exact, else the most similar, whole-word run of ``tokens`` spelling ``value``.

    Returns None when the value is empty after normalisation or nothing reaches
    ``min_similarity``.
    """
    target = normalize_text(value)
    stream = _Stream(tokens)
    if not target or not stream.text:
        return None
    found = stream.text.find(target)
    if found >= 0:
        words = stream.tokens_between(found, found + len(target))
        return TextMatch(tuple(words), Levenshtein.normalized_similarity(target, stream.span(
            words[0], words[-1])))
    alignment = fuzz.partial_ratio_alignment(target, stream.text)
    if alignment is None or alignment.dest_end <= alignment.dest_start:
        return None
    match = _snap(stream, target, alignment.dest_start, alignment.dest_end)
    return match if match.similarity >= min_similarity else None


def value_fully_matched(value: str, labelled: Sequence[str]) -> bool:
    """True when every token of ``value`` is found in the labelled words' text.

    A value token counts as found when at least half of its normalised characters align with
    equal characters of the labelled text (so ``BHD`` is found in ``BND``, a missing ``JOHOR``
    is not).
    """
    target_tokens = [normalize_text(t) for t in value.split()]
    target_tokens = [t for t in target_tokens if t]
    if not target_tokens:
        return False
    target = "".join(target_tokens)
    text = "".join(normalize_text(t) for t in labelled)
    equal = [False] * len(target)
    for op in Levenshtein.opcodes(target, text):
        if op.tag == "equal":
            for i in range(op.src_start, op.src_end):
                equal[i] = True
    pos = 0
    for token in target_tokens:
        hits = sum(equal[pos : pos + len(token)])
        if hits * 2 < len(token):
            return False
        pos += len(token)
    return True
