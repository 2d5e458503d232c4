"""``parse_amount``'s shortcuts (bare digits, a character no amount can hold) answer what its
full steps answer: on every character there is, and on every word of every SROIE receipt."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from receipt_layoutlm.fields.parsing import (
    _CURRENCY,
    _NOT_AMOUNT_CHARACTER,
    _PLAIN_AMOUNT,
    _parse_amount_steps,
    parse_amount,
)

SROIE_BOX = Path(__file__).resolve().parents[3] / "shared" / "data" / "sroie" / "train" / "box"


def _full(text: str) -> float | None:
    return float(text) if _PLAIN_AMOUNT.fullmatch(text) else _parse_amount_steps(text)


def test_the_refused_characters_are_exactly_those_no_step_removes() -> None:
    kept = re.compile(r"[\d.,\s():;\-$€£¥]")
    letters = "".join(sorted({c for c in _CURRENCY.pattern if c.isalpha() and c.isupper()}))
    assert letters == "BDEGMPRSUY"  # the currencies' letters, as the refusal class lists them
    currency_letter = re.compile(f"[{letters}]", re.IGNORECASE)
    wrong = [
        hex(point)
        for point in range(sys.maxunicode + 1)
        if (_NOT_AMOUNT_CHARACTER.search(chr(point)) is None)
        != bool(kept.fullmatch(chr(point)) or currency_letter.fullmatch(chr(point)))
    ]
    assert not wrong, wrong[:10]


CASES = [
    "12", "0012", "1234567", "12345678", "١٢", "²", "RM 9.00", "9.00RM", "(2.00)", "2.00-",
    "1,234.50", "1.234,50", "25/12/2018", "012-3456789", "ſ9.00", "X2", "2X", "rm12", "12:30",
    " 12 ", "12\u00a0", "-5", "$3.14", "€3", "¥100", "USD 1,000", "TOTAL 9.00", "9.00%",
]


def test_shortcuts_answer_what_the_full_steps_answer() -> None:
    texts = set(CASES)
    if SROIE_BOX.is_dir():
        texts |= {
            line.split(",", 8)[-1]
            for path in SROIE_BOX.glob("*.txt")
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
        }
        texts |= {word for text in list(texts) for word in text.split()}
    differ = [t for t in sorted(texts) if parse_amount(t) != _full(t)]
    assert not differ, differ[:5]
