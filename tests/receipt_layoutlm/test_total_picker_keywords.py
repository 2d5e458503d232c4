"""The picker's keyword prefilter (``KEYWORD_LITERALS``) never hides a match: every branch of
every keyword pattern holds one of its class's literals as plain text, and on every SROIE line
the prefiltered classes equal a plain search of each pattern."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from receipt_layoutlm.fields.total_keywords import (
    ANY_LITERAL,
    KEYWORD_LITERALS,
    KEYWORDS,
    LITERAL_CLASSES,
    row_classes,
)

SROIE_BOX = Path(__file__).resolve().parents[3] / "shared" / "data" / "sroie" / "train" / "box"


def _plain_runs(branch: str) -> list[str]:
    """The runs of literal characters a match of ``branch`` must contain: escapes (``\\b``,
    ``\\s``, ``\\d``) cut runs, a quantifier takes the character before it out."""
    runs: list[str] = [""]
    for part in re.split(r"(\\[a-zA-Z]|[?*+])", branch):
        if part in ("?", "*", "+"):
            runs[-1] = runs[-1][:-1]
            runs.append("")
        elif part.startswith("\\"):
            runs.append("")
        else:
            runs[-1] += part
    return runs


@pytest.mark.parametrize("name", list(KEYWORDS))
def test_every_branch_of_a_pattern_holds_one_of_its_literals(name: str) -> None:
    assert "(" not in KEYWORDS[name].pattern  # branches are top-level: no groups to look into
    for branch in KEYWORDS[name].pattern.split("|"):
        runs = _plain_runs(branch)
        assert any(lit in run for run in runs for lit in KEYWORD_LITERALS[name]), (name, branch)


def _reference(text: str) -> set[str]:
    upper, found = text.upper(), set()
    if KEYWORDS["subtotal"].search(upper):
        found.add("subtotal")
        upper = KEYWORDS["subtotal"].sub(" ", upper)
    return found | {n for n, p in KEYWORDS.items() if n != "subtotal" and p.search(upper)}


def test_prefiltered_classes_equal_plain_searches_on_every_sroie_line() -> None:
    if not SROIE_BOX.is_dir():
        pytest.skip(f"the SROIE data ({SROIE_BOX}) is not on this machine")
    lines = {
        line.split(",", 8)[-1]
        for path in SROIE_BOX.glob("*.txt")
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
    }
    lines |= {"SUB TOTAL 9.00", "AMT DUE", "NETT", "W/O GST", "2 X 3.50", "ZRL", "sub-total"}
    differ = [t for t in sorted(lines) if row_classes(t) != _reference(t)]
    assert not differ, differ[:5]


def test_the_one_call_literal_scan_finds_every_literal_even_overlapping_ones() -> None:
    """``ANY_LITERAL`` with ``LITERAL_CLASSES`` finds the classes of every literal in a text,
    where literals overlap (``WITH`` holds ``W``; ``SUBTOTAL`` ends where ``TOTAL`` starts)."""
    literals = sorted({part for parts in KEYWORD_LITERALS.values() for part in parts})

    def present(text: str) -> set[str]:
        return {n for found in ANY_LITERAL.findall(text) for n in LITERAL_CLASSES[found]}

    def expected(text: str) -> set[str]:
        return {n for n, parts in KEYWORD_LITERALS.items()
                if n != "subtotal" and any(part in text for part in parts)}

    texts = [a + b for a in literals for b in literals]
    texts += [a + b[k:] for a in literals for b in literals
              for k in range(1, min(len(a), len(b))) if a.endswith(b[:k])]
    assert all(present(t) == expected(t) for t in texts)
