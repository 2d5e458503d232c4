"""Exact-token recall of OCR output against a transcript (the OCR benchmark's and tests' score).

A token is a whitespace-separated piece of text, compared exactly except for case (punctuation
and digits must match; case is folded because SROIE's transcripts are upper-cased while the print
is not). Recall = transcript tokens found in the OCR output, as multisets, over transcript
tokens: a word the transcript holds twice must be read twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path


def tokens(texts: Iterable[str]) -> Counter[str]:
    return Counter(t.upper() for text in texts for t in text.split())


def token_recall(expected: Iterable[str], found: Iterable[str]) -> tuple[int, int]:
    """``(matched, total)`` transcript tokens; recall is ``matched / total``."""
    want, got = tokens(expected), tokens(found)
    return sum(min(n, got[t]) for t, n in want.items()), sum(want.values())


def sroie_transcript(box_file: Path) -> list[str]:
    """The text lines of an SROIE box file (``x1,…,y4,transcript`` rows)."""
    from receipt_layoutlm.importers.sroie import read_box_file

    lines, _ = read_box_file(box_file)
    return [line.text for line in lines]
