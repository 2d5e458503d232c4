"""Line-level decoding of multi-line fields (merchant, address): whole lines, one block.

A receipt prints its merchant name and address as whole lines, one after another. Word-by-word
BIO runs cut them where the model's argmax wavers on one word, or glue on a stray word. Here a
field is the contiguous block of reading-order lines that maximises the expected number of
right words minus wrong ones, ``Σ (p - ½)`` over the block's words, where ``p`` is the word's
probability of the field's labels — ``½`` being where a word is as likely in the field as not,
not a tuned constant. The block's first and last lines are trimmed of leading/trailing words
with ``p < ½`` (a ``TEL:`` after the last address line, a register number before the name);
lines inside the block are kept whole.
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
    """The words of the best block of whole lines for ``labels``, in reading order; None when no
    block has a positive gain, when a word has no line or no word carries probabilities."""
    if not words or any(w.line is None for w in words) or not any(w.probabilities for w in words):
        return None
    lines: list[list[Any]] = []
    for word in words:
        if lines and lines[-1][0].line == word.line:
            lines[-1].append(word)
        else:
            lines.append([word])
    gains = [sum(_probability(w, labels) - 0.5 for w in line) for line in lines]
    best_gain, best = 0.0, None
    start, running = 0, 0.0
    for i, gain in enumerate(gains):  # Kadane: the contiguous block with the largest sum
        if running <= 0:
            start, running = i, 0.0
        running += gain
        if running > best_gain:
            best_gain, best = running, (start, i)
    if best is None:
        return None
    block = [w for line in lines[best[0] : best[1] + 1] for w in line]
    first_line, last_line = block[0].line, block[-1].line
    while len(block) > 1 and block[0].line == first_line and _probability(block[0], labels) < 0.5:
        block.pop(0)
    while len(block) > 1 and block[-1].line == last_line and _probability(block[-1], labels) < 0.5:
        block.pop()
    return block
