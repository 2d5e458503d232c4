"""``ocr_cleanup.rejoin_amounts`` finds its pairs from the texts first (only a word reading as
cents can be a right half) and rebuilds only those words: the same words, joins and rows as the
word-by-word walk it replaced (kept here as the reference), on random receipts full of split
amounts, neighbours on other lines and rows, and chains (``1.`` ``50`` ``50``)."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

from receipt_layoutlm.fields._words import Word
from receipt_layoutlm.fields.ocr_cleanup import _pair_joins, rejoin_amounts

TEXTS = ["12.", "50", ".25", "3", "7.", "05", " 99 ", "1,5", "TOTAL", "RM", "٣.", "٤٥", "00.",
         ".5", "123", "ab", "", " ", "8.00", "6"]


def _reference(words: list[Any], rows: list[int] | None) -> tuple[list[Any], list[int] | None]:
    """The walk before the change: at each word, glue the next one when the pair joins."""
    out: list[Any] = []
    out_rows: list[int] = []
    i = 0
    while i < len(words):
        word = words[i]
        if i + 1 < len(words):
            nxt = words[i + 1]
            same_row = rows is None or rows[i] == rows[i + 1]
            if (word.line is not None and word.line == nxt.line and same_row
                    and _pair_joins(word.text.strip(), nxt.text.strip())):
                probabilities = {
                    k: max(float(word.probabilities.get(k, 0.0)),
                           float(nxt.probabilities.get(k, 0.0)))
                    for k in {*word.probabilities, *nxt.probabilities}
                }
                out.append(dataclasses.replace(
                    word, text=word.text.strip() + nxt.text.strip(),
                    label=word.label or nxt.label,
                    confidence=min(word.confidence, nxt.confidence),
                    ocr_confidence=min(word.ocr_confidence, nxt.ocr_confidence),
                    probabilities=probabilities, joined=(*word.joined, nxt.index, *nxt.joined)))
                if rows is not None:
                    out_rows.append(rows[i])
                i += 2
                continue
        out.append(word)
        if rows is not None:
            out_rows.append(rows[i])
        i += 1
    return out, (out_rows if rows is not None else None)


def _receipt(rng: random.Random) -> tuple[list[Word], list[int] | None]:
    size = rng.randint(0, 14)
    words = [
        Word(n, rng.choice(TEXTS), rng.choice([None, "GRAND_TOTAL"]), False, rng.random(),
             rng.choice([None, 0, 1]) if rng.random() < 0.1 else n // 4,
             {"GRAND_TOTAL": rng.random(), **({"DATE": 0.1} if rng.random() < 0.5 else {})},
             rng.random())
        for n in range(size)
    ]
    rows = [n // rng.choice([2, 4, 5]) for n in range(size)] if rng.random() < 0.7 else None
    return words, rows


def test_rejoin_amounts_glues_what_the_word_walk_glued() -> None:
    rng = random.Random(21)
    glued_any = 0
    for _ in range(4000):
        words, rows = _receipt(rng)
        want, want_rows = _reference(words, rows)
        got, got_rows = rejoin_amounts(words, rows)
        assert [dataclasses.astuple(w) for w in got] == [dataclasses.astuple(w) for w in want]
        assert got_rows == want_rows
        glued_any += len(got) < len(words)
    assert glued_any > 500  # the random receipts do glue amounts
