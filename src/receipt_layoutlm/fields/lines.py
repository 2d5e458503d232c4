"""Line-level decoding of multi-line fields (merchant, address): one contiguous block.

A receipt prints its merchant name and address as whole lines, one after another. Word-by-word
BIO runs cut them where the model's argmax wavers on one word, or glue on a stray word. Here a
field is the contiguous block of words in reading order that maximises the expected number of
right words minus wrong ones, ``Σ (p - ½)``, where ``p`` is the word's probability of the
field's labels — ``½`` being where a word is as likely in the field as not, not a tuned
constant. Every line inside the block is taken whole (a wavering word in the middle of an
address stays in); only the first and last lines may be cut, where their words are more likely
out than in (a register number before the name, ``TEL:`` after the last address line).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class _LineWord(Protocol):
    line: int | None
    probabilities: Any


def _probability(word: _LineWord, labels: Sequence[str]) -> float:
    return sum(float(word.probabilities.get(label, 0.0)) for label in labels)


def line_block(words: Sequence[_LineWord], labels: Sequence[str]) -> list[Any] | None:
    """The words of the best block for ``labels``, in reading order; None when no block has a
    positive gain, when a word has no line or when no word carries probabilities."""
    if not words or any(w.line is None for w in words) or not any(w.probabilities for w in words):
        return None
    block = best_block([_probability(word, labels) - 0.5 for word in words])
    return None if block is None else list(words[block[0] : block[1] + 1])


def best_block(gains: Sequence[float]) -> tuple[int, int] | None:
    """First and last index of the contiguous block with the largest positive sum of
    ``gains`` (per word ``p - ½``); None when no block's sum is positive."""
    best_gain, best = 0.0, None
    start, running = 0, 0.0
    for i, gain in enumerate(gains):  # Kadane: the contiguous block with the largest sum
        if running <= 0:
            start, running = i, 0.0
        running += gain
        if running > best_gain:
            best_gain, best = running, (start, i)
    return best
