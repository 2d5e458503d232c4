"""Spans of labelled words as field extraction reads them (see ``fields.extraction``): maximal
runs of one label in reading order, their text, their mean confidence, and the narrowing or
widening of a span along its line until its text parses."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from receipt_layoutlm.fields._words import ReceiptWords, Word

MAX_SUBSPAN = 8  # words; a printed amount/date/time is never longer


def runs(
    words: list[Word], label: str, multiline: bool, positions: Sequence[int] | None = None
) -> list[list[Word]]:
    """Maximal runs of ``label``, cut (unless ``multiline``) at a ``B-`` tag or a line change;
    ``positions`` (the words carrying it, when known) saves walking the other words."""
    found: list[list[Word]] = []
    current: list[Word] = []
    previous = -2
    for position in range(len(words)) if positions is None else positions:
        word = words[position]
        if word.label != label:
            current = []
            continue
        if position != previous + 1:
            current = []
        previous = position
        breaks = (
            bool(current)
            and not multiline
            and (word.begins or (word.line is not None and word.line != current[-1].line))
        )
        if not current or breaks:
            current = [word]
            found.append(current)
        else:
            current.append(word)
    return found


def join_text(span: Sequence[Word]) -> str:
    return " ".join(" ".join(w.text.split()) for w in span if w.text.strip())


def mean_confidence(span: Sequence[Word]) -> float:
    return sum(w.confidence for w in span) / len(span)


def best_parsed_subspan(
    run: list[Word], parser: Callable[[str], Any], receipt: ReceiptWords
) -> tuple[list[Word], Any] | None:
    best: tuple[tuple[int, float, int], list[Word], Any] | None = None
    for start in range(len(run)):
        for stop in range(start + 1, min(len(run), start + MAX_SUBSPAN) + 1):
            span = run[start:stop]
            value = receipt.parse(parser, join_text(span))
            if value is None:
                continue
            rank = (len(span), mean_confidence(span), -start)
            if best is None or rank > best[0]:
                best = (rank, span, value)
    return None if best is None else (best[1], best[2])


def extend_to_parse(
    span: list[Word], receipt: ReceiptWords, parser: Callable[[str], Any]
) -> tuple[list[Word], Any] | None:
    """The smallest widening of ``span`` along its line that parses (``25`` labelled DATE on a
    line reading ``25 MAR 2018``), at most ``MAX_SUBSPAN`` words in all; None when none does."""
    words = receipt.words
    start = next(i for i, w in enumerate(words) if w is span[0])
    stop = start + len(span)
    line = span[0].line
    if line is None or any(w.line != line for w in span):
        return None
    for extra in range(1, MAX_SUBSPAN - len(span) + 1):
        for left in range(extra, -1, -1):
            a, b = start - left, stop + extra - left
            if a < 0 or b > len(words) or any(w.line != line for w in words[a:b]):
                continue
            value = receipt.parse(parser, join_text(words[a:b]))
            if value is not None:
                return words[a:b], value
    return None
