"""``TotalPicker.pick_total`` scores every candidate's feature row at once (numpy) without a
``Candidate`` per amount; it must give the word, value and (rounded to 9 places, as it reports
it) probability that the one-candidate reference :meth:`TotalPicker.probability` over
:func:`total_candidates` gives, picking the last of the highest (the lowest such amount on the
receipt)."""

from __future__ import annotations

import random

import fields_golden

from receipt_layoutlm.fields._words import Word
from receipt_layoutlm.fields.total_picker import total_candidates

TEXTS = ["TOTAL", "SUB TOTAL", "CASH", "CHANGE", "GST", "RM", "12.50", "3.00", "15.90", "0.10",
         "-2.00", "RM8.00", "ROUNDING", "QTY", "2", "ITEM", "THANK", "YOU", "27,90", "1,007.50"]
LABELS = ("GRAND_TOTAL",)


def _receipt(rng: random.Random) -> tuple[list[Word], list[int]]:
    size = rng.randint(1, 30)
    words = [
        Word(n, rng.choice(TEXTS), rng.choice([None, "GRAND_TOTAL"]), False, rng.random(),
             n // 3, {"GRAND_TOTAL": rng.choice([0.0, 0.5, rng.random()])})
        for n in range(size)
    ]
    return words, [n // rng.choice([2, 3]) for n in range(size)]


def test_pick_total_is_the_reference_probability_of_the_best_candidate() -> None:
    picker = fields_golden.load_picker()
    rng = random.Random(7)
    picked = 0
    for _ in range(300):
        words, rows = _receipt(rng)
        candidates = total_candidates(words, rows, LABELS)
        got = picker.pick_total(words, rows, LABELS)
        if not candidates:
            assert got is None
            continue
        rounded = [round(picker.probability(c), 9) for c in candidates]
        n = len(rounded) - 1 - rounded[::-1].index(max(rounded))
        position = next(i for i, w in enumerate(words) if w is candidates[n].word)
        assert got == (position, candidates[n].value, rounded[n])
        picked += 1
    assert picked > 250  # most random receipts hold an amount
