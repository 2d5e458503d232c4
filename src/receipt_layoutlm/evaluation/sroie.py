"""SROIE task-3 (key information extraction) scoring.

What is compared: for every receipt and each key in ``SROIE_KEYS``, the predicted string and the
ground-truth string after whitespace normalisation only — by default every run of whitespace
(spaces, tabs, newlines, any Unicode space) becomes one space and both ends are stripped
(``whitespace="remove"`` deletes all whitespace instead). Nothing else is normalised: case,
punctuation and currency prefixes must match exactly, as in the official evaluation.

Counting (micro average over (receipt, key) pairs): a non-empty prediction counts toward
precision, a non-empty ground-truth value toward recall, and a pair is correct when both are
non-empty and equal after normalisation.

Two documented variations, off by default:

- ``case_sensitive=False`` folds case on both sides. SROIE's annotators upper-cased the company
  and address of receipts printed in mixed case (``GERBANG ALAF RESTAURANTS SDN BHD`` for a print
  reading ``Gerbang Alaf Restaurants Sdn Bhd``), so a reader of the photo cannot know the case
  the key expects; the photo bench reports both figures.
- ``exclude``: (receipt, key) pairs left out of every count. :func:`ocr_mismatch_pairs` gives
  the pairs of the ICDAR leaderboard's "excluding OCR mismatch" convention (the one the published
  LayoutLM figures use): a pair whose ground truth does not occur in the receipt's OCR text —
  its words joined by single spaces in reading order, whitespace normalised the same way as the
  comparison, case kept — is dropped, because no extractor of that text could produce it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from receipt_layoutlm.errors import EvaluationError

if TYPE_CHECKING:
    from receipt_layoutlm.fields import FieldValue

SROIE_KEYS: tuple[str, ...] = ("company", "date", "address", "total")
SROIE_FIELD_FOR_KEY: dict[str, str] = {
    "company": "merchant",
    "date": "date",
    "address": "address",
    "total": "total",
}

Whitespace = Literal["collapse", "remove"]
_SPACE = re.compile(r"\s+")


def normalize_whitespace(text: str | None, whitespace: Whitespace = "collapse") -> str:
    """The string task-3 compares: whitespace runs collapsed to one space (or removed), stripped."""
    if not text:
        return ""
    if whitespace == "collapse":
        return _SPACE.sub(" ", text).strip()
    if whitespace == "remove":
        return _SPACE.sub("", text)
    raise EvaluationError(f"unknown whitespace mode {whitespace!r}; use 'collapse' or 'remove'")


def comparable(text: str | None, whitespace: Whitespace = "collapse", *,
               case_sensitive: bool = True) -> str:
    """The string task-3 compares under the given conventions."""
    out = normalize_whitespace(text, whitespace)
    return out if case_sensitive else out.casefold()


def occurs_in_text(
    value: str | None,
    text: str,
    *,
    whitespace: Whitespace = "collapse",
    case_sensitive: bool = True,
) -> bool:
    """Whether ``value`` (normalised) is a substring of ``text`` (normalised the same way); an
    empty value occurs nowhere."""
    wanted = comparable(value, whitespace, case_sensitive=case_sensitive)
    return bool(wanted) and wanted in comparable(text, whitespace, case_sensitive=case_sensitive)


def ocr_mismatch_pairs(
    ground_truth: Mapping[str, Mapping[str, str]],
    texts: Mapping[str, str],
    *,
    keys: Iterable[str] = SROIE_KEYS,
    whitespace: Whitespace = "collapse",
    case_sensitive: bool = True,
) -> set[tuple[str, str]]:
    """(receipt, key) pairs whose non-empty ground truth does not occur in ``texts[receipt]``
    (the receipt's OCR words joined by single spaces in reading order): the pairs the "excluding
    OCR mismatch" convention drops. A receipt without a text drops all its keys."""
    pairs = set()
    for receipt, truth in ground_truth.items():
        text = texts.get(receipt, "")
        for key in keys:
            value = truth.get(key)
            if value and not occurs_in_text(value, text, whitespace=whitespace,
                                            case_sensitive=case_sensitive):
                pairs.add((receipt, key))
    return pairs


def sroie_prediction(fields: Mapping[str, FieldValue]) -> dict[str, str]:
    """Task-3 strings for one receipt: each key's field span TEXT as printed (not the parsed value).

    The SROIE ground truth stores values as printed on the receipt (``"25/12/2018"``, ``"9.00"``,
    sometimes ``"RM9.00"``), and the importer labels exactly the words of that value, so the span
    text is what matches. Missing fields give ``""``.
    """
    out: dict[str, str] = {}
    for key in SROIE_KEYS:
        value = fields.get(SROIE_FIELD_FOR_KEY[key])
        out[key] = normalize_whitespace(value.text if value is not None else "")
    return out


WORST_MISMATCHES = 20
"""How many mismatches ``Task3Result.to_dict`` keeps in ``worst_mismatches``."""


@dataclass(frozen=True)
class KeyScores:
    """Task-3 counts and scores for one key (or for all keys together)."""

    precision: float
    """correct / predicted (0 when nothing was predicted)."""
    recall: float
    """correct / ground truth (0 when there is no ground truth)."""
    f1: float
    """Harmonic mean of precision and recall (0 when both are 0)."""
    correct: int
    """Pairs whose non-empty prediction equals the non-empty ground truth."""
    predicted: int
    """Pairs with a non-empty prediction."""
    expected: int
    """Pairs with a non-empty ground-truth value."""

    @classmethod
    def from_counts(cls, correct: int, predicted: int, expected: int) -> KeyScores:
        p = correct / predicted if predicted else 0.0
        r = correct / expected if expected else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        return cls(p, r, f1, correct, predicted, expected)


@dataclass(frozen=True)
class Mismatch:
    """One (receipt, key) pair that was not correct — for error analysis."""

    receipt: str
    """Receipt key as passed in."""
    key: str
    """Task-3 key (``company``, ``date``, ``address``, ``total``)."""
    predicted: str
    """Normalised prediction (``""`` when none)."""
    expected: str
    """Normalised ground truth (``""`` when none)."""


def worst_mismatches(mismatches: Iterable[Mismatch], limit: int = WORST_MISMATCHES
                     ) -> list[Mismatch]:
    """The ``limit`` mismatches whose prediction resembles the truth least (difflib ratio),
    then by receipt and key: what a person reading a report should look at first."""
    from difflib import SequenceMatcher

    def rank(m: Mismatch) -> tuple[float, str, str]:
        return SequenceMatcher(None, m.predicted, m.expected).ratio(), m.receipt, m.key

    return sorted(mismatches, key=rank)[:limit]


@dataclass(frozen=True)
class Task3Result:
    """Micro-averaged task-3 scores over all (receipt, key) pairs, plus per-key scores."""

    precision: float
    """Micro precision over all keys."""
    recall: float
    """Micro recall over all keys."""
    f1: float
    """Micro F1 over all keys."""
    per_key: dict[str, KeyScores]
    """Scores per task-3 key."""
    num_receipts: int
    """Receipts scored (those in the ground truth)."""
    overall: KeyScores
    """The micro-averaged counts behind precision/recall/f1."""
    mismatches: list[Mismatch] = field(default_factory=list)
    """Every pair that was not correct, in receipt then key order."""

    def worst_mismatches(self, limit: int = WORST_MISMATCHES) -> list[Mismatch]:
        return worst_mismatches(self.mismatches, limit)

    def to_dict(self, *, include_mismatches: bool = False) -> dict:
        """Plain JSON-ready dict with the worst mismatches (``worst_mismatches``, for the HTML
        report); every mismatch only when asked (they can be long)."""
        out: dict = {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "num_receipts": self.num_receipts,
            "correct": self.overall.correct,
            "predicted": self.overall.predicted,
            "expected": self.overall.expected,
            "per_key": {k: vars(v).copy() for k, v in self.per_key.items()},
            "worst_mismatches": [vars(m).copy() for m in self.worst_mismatches()],
        }
        if include_mismatches:
            out["mismatches"] = [vars(m).copy() for m in self.mismatches]
        return out


def sroie_task3_f1(
    predictions: Mapping[str, Mapping[str, str]],
    ground_truth: Mapping[str, Mapping[str, str]],
    *,
    keys: Iterable[str] = SROIE_KEYS,
    whitespace: Whitespace = "collapse",
    case_sensitive: bool = True,
    exclude: Collection[tuple[str, str]] = frozenset(),
) -> Task3Result:
    """Task-3 precision/recall/F1 of ``predictions`` vs ``ground_truth`` (receipt → key → text).

    Every receipt in ``ground_truth`` is scored; one missing from ``predictions`` counts as all
    keys empty. ``case_sensitive`` and ``exclude`` (pairs left out of every count, e.g.
    :func:`ocr_mismatch_pairs`) are the module docstring's variations. A prediction for a
    receipt absent from ``ground_truth`` raises ``ValueError`` (almost always mismatched
    receipt keys, e.g. ``sroie:X51…`` vs ``X51…``).
    """
    keys = tuple(keys)
    unknown = sorted(set(predictions) - set(ground_truth))
    if unknown:
        shown = ", ".join(unknown[:3]) + (" …" if len(unknown) > 3 else "")
        raise EvaluationError(
            f"{len(unknown)} predicted receipt(s) have no ground truth ({shown}); use the same "
            "receipt keys for predictions and ground truth"
        )
    counts = {k: [0, 0, 0] for k in keys}  # correct, predicted, expected
    mismatches: list[Mismatch] = []
    for receipt in sorted(ground_truth):
        truth = ground_truth[receipt]
        pred = predictions.get(receipt, {})
        for key in keys:
            if (receipt, key) in exclude:
                continue
            p = comparable(pred.get(key), whitespace, case_sensitive=case_sensitive)
            t = comparable(truth.get(key), whitespace, case_sensitive=case_sensitive)
            c = counts[key]
            c[1] += bool(p)
            c[2] += bool(t)
            if p and t and p == t:
                c[0] += 1
            elif p or t:
                mismatches.append(Mismatch(receipt, key, p, t))
    per_key = {k: KeyScores.from_counts(*c) for k, c in counts.items()}
    overall = KeyScores.from_counts(*(sum(c[i] for c in counts.values()) for i in range(3)))
    return Task3Result(
        precision=overall.precision,
        recall=overall.recall,
        f1=overall.f1,
        per_key=per_key,
        num_receipts=len(ground_truth),
        overall=overall,
        mismatches=mismatches,
    )
