"""Task-3 mismatches classified, for error analysis: ``mismatches.jsonl`` and a report section.

Each (receipt, key) pair that was not correct gets one kind, checked in this order:

==================  =====================================================================
``missing``         nothing was predicted
``unexpected``      something was predicted where the ground truth is empty
``whitespace_only`` equal once all whitespace is removed (OCR spacing, ``NO.2&4,JALAN``)
``extra_words``     the prediction contains the ground truth and more (a line too many)
``missing_words``   the ground truth contains the prediction and more (a line too few)
``wrong_value``     anything else (another amount, another line, OCR misreads)
==================  =====================================================================

Containment is tested on the strings with whitespace removed, so a prediction one line too long
is ``extra_words`` even when the OCR spacing differs as well. "Worst" orders by kind (wrong value
and missing first) then by lowest character similarity (``difflib``).
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from receipt_layoutlm.evaluation.sroie import Mismatch, normalize_whitespace

MISMATCH_KINDS: tuple[str, ...] = (
    "missing",
    "unexpected",
    "whitespace_only",
    "extra_words",
    "missing_words",
    "wrong_value",
)
"""Every kind :func:`classify_mismatch` returns."""

_SEVERITY = {
    "wrong_value": 0,
    "missing": 1,
    "unexpected": 2,
    "extra_words": 3,
    "missing_words": 4,
    "whitespace_only": 5,
}


def classify_mismatch(predicted: str, expected: str) -> str:
    """The kind of one mismatch (see the module docstring); ``predicted``/``expected`` are the
    task-3 strings. Equal strings are not a mismatch and raise ``ValueError``."""
    pred = normalize_whitespace(predicted, "remove")
    true = normalize_whitespace(expected, "remove")
    if normalize_whitespace(predicted) == normalize_whitespace(expected):
        raise ValueError(f"{predicted!r} equals the ground truth; it is not a mismatch")
    if not pred:
        return "missing"
    if not true:
        return "unexpected"
    if pred == true:
        return "whitespace_only"
    if true in pred:
        return "extra_words"
    if pred in true:
        return "missing_words"
    return "wrong_value"


def mismatch_rows(mismatches: Iterable[Mismatch]) -> list[dict[str, Any]]:
    """One JSON-ready row per mismatch: receipt, key, predicted, expected, kind, similarity."""
    rows = []
    for m in mismatches:
        rows.append(
            {
                "receipt": m.receipt,
                "key": m.key,
                "kind": classify_mismatch(m.predicted, m.expected),
                "predicted": m.predicted,
                "expected": m.expected,
                "similarity": round(
                    difflib.SequenceMatcher(None, m.predicted, m.expected).ratio(), 4
                ),
            }
        )
    return rows


def kind_counts(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """key → kind → count (every kind present, zeros included), plus ``all``."""
    keys = sorted({r["key"] for r in rows})
    out: dict[str, dict[str, int]] = {}
    for key in [*keys, "all"]:
        counted = Counter(r["kind"] for r in rows if key in ("all", r["key"]))
        out[key] = {kind: counted.get(kind, 0) for kind in MISMATCH_KINDS}
    return out


def worst(rows: Sequence[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """The ``n`` worst mismatches: by kind severity, then lowest similarity, then receipt/key."""
    ranked = sorted(
        rows, key=lambda r: (_SEVERITY[r["kind"]], r["similarity"], r["receipt"], r["key"])
    )
    return ranked[:n]


def mismatch_markdown(rows: Sequence[dict[str, Any]], *, n_worst: int = 25) -> str:
    """The report section: counts per key and kind, then the worst ``n_worst`` mismatches."""

    def cell(text: str) -> str:
        return (text or "∅").replace("|", "\\|")

    lines = ["## Task-3 mismatches", "", f"{len(rows)} mismatches (all in mismatches.jsonl).", ""]
    lines += ["| key | " + " | ".join(MISMATCH_KINDS) + " |"]
    lines += ["|---" * (len(MISMATCH_KINDS) + 1) + "|"]
    for key, counts in kind_counts(rows).items():
        lines.append(f"| {key} | " + " | ".join(str(counts[k]) for k in MISMATCH_KINDS) + " |")
    lines += ["", f"### Worst {min(n_worst, len(rows))}", ""]
    lines += ["| receipt | key | kind | predicted | expected |", "|---|---|---|---|---|"]
    for r in worst(rows, n_worst):
        lines.append(
            f"| {r['receipt']} | {r['key']} | {r['kind']} | {cell(r['predicted'])} | "
            f"{cell(r['expected'])} |"
        )
    return "\n".join(lines) + "\n"


def write_mismatches(path: str | Path, rows: Sequence[dict[str, Any]]) -> Path:
    """``mismatches.jsonl``: one row per mismatch, in receipt then key order."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path
