"""The learned total picker: every amount on the receipt is a candidate, a logistic model picks one.

Receipts print many amounts — line items, subtotal, tax, rounding, the total, cash tendered,
change — and the model's argmax labels often miss the total or pick cash or change. The picker
scores each word that parses as an amount from features of the receipt:

- the model's probability of the total labels, its rank among the candidates, argmax or not;
- keyword classes on the candidate's printed row and on the row above (``TOTAL``/``NETT``/
  ``AMOUNT DUE``/``PAYABLE`` vs ``CASH``, ``CHANGE``, ``ROUNDING``, ``SUBTOTAL``, ``GST``/``TAX``,
  GST codes of item rows, "incl."/"excl.");
- its position (in reading order, and among the candidates from the bottom);
- arithmetic: whether it equals cash − change, subtotal + tax + rounding, or the sum of two
  other keyword-row amounts (``TOTAL 0%: 23.64`` + ``TOTAL 6%: 12.72``), is the largest amount
  or the largest/last one on a total row, how often its value repeats.

The weights are fitted on training receipts (``training.total_picker_fit``, scikit-learn) and
stored as plain JSON (:data:`PICKER_FILE`) next to the model, so every runtime, the worker and
evaluation apply them here in pure Python; no scikit-learn at inference.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_layoutlm.bundle_format import TOTAL_PICKER_FILE, read_fitted_file
from receipt_layoutlm.errors import CheckpointError
from receipt_layoutlm.fields.parsing import parse_amount
from receipt_layoutlm.fields.total_keywords import KEYWORDS, keyword_rows

if TYPE_CHECKING:
    from receipt_layoutlm.fields._words import Word

PICKER_FILE = TOTAL_PICKER_FILE
"""File name of a fitted picker in a checkpoint directory and a bundle."""
PICKER_VERSION = 1

_CENT = 0.005
_DIGIT = re.compile(r"\d")
_CURRENCY_TEXT = re.compile(r"RM|\$|MYR", re.IGNORECASE)
_DECIMALS = re.compile(r"[.,]\d{2}\b")


def feature_names() -> list[str]:
    """The picker's features, in the order of :attr:`Candidate.features`."""
    classes = list(KEYWORDS)
    return [
        "probability",
        "log_probability",
        "probability_rank0",
        "probability_relative",
        "argmax",
        *(f"row_{c}" for c in classes),
        *(f"row_above_{c}" for c in classes),
        "position",
        "candidate_from_bottom",
        "largest_value",
        "value_relative",
        "equals_cash_minus_change",
        "equals_subtotal_tax_rounding",
        "equals_sum_of_two_keyword_amounts",
        "largest_on_total_rows",
        "last_on_total_rows",
        "repeats",
        "has_decimals",
        "negative",
        "currency_text",
    ]


@dataclass(frozen=True)
class Candidate:
    """One amount on the receipt that could be the total."""

    word: Word
    """The word (``fields.extraction`` normalised word: index, text, line, probabilities)."""
    value: float
    """Its parsed amount."""
    features: list[float] = field(default_factory=list)
    """Values of :func:`feature_names`, in order."""


@dataclass(frozen=True)
class _Arithmetic:
    """What a candidate's value is compared with: sums of the amounts on keyword rows."""

    cash_minus_change: set[float]
    subtotal_sums: set[float]
    pair_sums: set[float]
    largest_total: float | None
    last_total: int | None


def _arithmetic(
    found: list[tuple[int, float]], rows: Sequence[int], classes: Mapping[int, set[str]]
) -> _Arithmetic:
    amounts: dict[str, list[float]] = {c: [] for c in KEYWORDS}
    for i, value in found:
        for c in classes[rows[i]]:
            amounts[c].append(value)
    keyword_amounts = sorted(
        {round(v, 2) for c in ("total", "grand", "subtotal", "tax") for v in amounts[c]}
    )
    on_total_rows = [(i, v) for i, v in found if classes[rows[i]] & {"total", "grand"}]
    return _Arithmetic(
        cash_minus_change={
            round(c - h, 2) for c in amounts["cash"] for h in amounts["change"] if h >= 0
        },
        subtotal_sums={
            round(s + t + r, 2)
            for s in amounts["subtotal"]
            for t in [0.0, *amounts["tax"]]
            for r in [0.0, *amounts["rounding"]]
        },
        pair_sums={
            round(a + b, 2)
            for n, a in enumerate(keyword_amounts)
            for b in keyword_amounts[n + 1 :]
        },
        largest_total=max((v for _, v in on_total_rows), default=None),
        last_total=on_total_rows[-1][0] if on_total_rows else None,
    )


def total_candidates(
    words: Sequence[Word],
    rows: Sequence[int],
    labels: Sequence[str],
    *,
    parse: Callable[[str], float | None] = parse_amount,
) -> list[Candidate]:
    """Every word that parses as an amount, with its features. ``words`` are normalised words
    in reading order (``index``, ``text``, ``label``, ``probabilities``); ``rows`` their printed
    rows (``encoding.printed_rows``); ``labels`` the total's feeding labels; ``parse`` is
    ``parse_amount`` or a memo of it (field extraction parses the same words again)."""
    found = candidate_features(words, rows, labels, parse=parse)
    if found is None:
        return []
    positions, values, matrix = found
    return [
        Candidate(word=words[i], value=v, features=row)
        for i, v, row in zip(positions, values, matrix.tolist(), strict=True)
    ]


def candidate_features(
    words: Sequence[Word],
    rows: Sequence[int],
    labels: Sequence[str],
    *,
    parse: Callable[[str], float | None] = parse_amount,
) -> tuple[list[int], list[float], Any] | None:
    """The candidates of :func:`total_candidates` as the positions of their words, their
    values and one ``[candidates, features]`` float64 array; None when no word is an amount.
    Rows are built in plain Python: filling the array a column at a time with numpy gave the
    same values but cost more where it counts, right after the model has flushed the caches
    (each distinct numpy call brings its own code back in)."""
    import numpy as np

    # Only words with a digit can be amounts; the rest skip the parser (most of a receipt).
    parsed = [parse(w.text) if _DIGIT.search(w.text) else None for w in words]
    positions = [i for i, v in enumerate(parsed) if v is not None]
    if not positions:
        return None
    values: list[float] = [parsed[i] for i in positions]  # type: ignore[misc]
    own_rows = [rows[i] for i in positions]
    candidates = [words[i] for i in positions]
    classes, row_flags = keyword_rows(words, rows, parsed, set(own_rows))
    sums = _arithmetic(list(zip(positions, values, strict=True)), rows, classes)
    if len(labels) == 1:
        probability = [float(w.probabilities.get(labels[0], 0.0)) for w in candidates]
    else:
        probability = [
            max((float(w.probabilities.get(lab, 0.0)) for lab in labels), default=0.0)
            for w in candidates
        ]
    top = max(probability)
    largest = max(map(abs, values)) or 1.0
    cents = [round(v, 2) for v in values]
    repeats = Counter(cents)
    count = len(positions)
    last_word, last_candidate = max(len(words) - 1, 1), max(count - 1, 1)
    cash_minus_change, subtotal_sums, pair_sums = (
        sums.cash_minus_change, sums.subtotal_sums, sums.pair_sums)
    largest_total, last_total = sums.largest_total, sums.last_total
    features = []
    for n, (i, value, p, cent, row, word) in enumerate(
        zip(positions, values, probability, cents, own_rows, candidates, strict=True)
    ):
        text = word.text
        size = abs(value)
        features.append([
            p,
            math.log(max(p, 1e-6)),
            float(p == top),
            p / top if top > 0 else 0.0,
            float(word.label in labels),
            *row_flags[row],
            i / last_word,
            (count - 1 - n) / last_candidate,
            float(size >= largest - _CENT),
            size / largest,
            float(cent in cash_minus_change),
            float(cent in subtotal_sums and "subtotal" not in classes[row]),
            float(cent in pair_sums),
            float(largest_total is not None and abs(value - largest_total) < _CENT),
            float(i == last_total),
            math.log1p(repeats[cent] - 1),
            float(_DECIMALS.search(text) is not None),
            float(value < 0),
            float(_CURRENCY_TEXT.search(text) is not None),
        ])
    return positions, values, np.array(features, dtype=np.float64)


@dataclass(frozen=True)
class TotalPicker:
    """A fitted logistic scorer over :func:`feature_names` (standardised)."""

    features: tuple[str, ...]
    """Feature names the weights belong to; must equal :func:`feature_names` to be applied."""
    weights: tuple[float, ...]
    """One coefficient per feature (on standardised features)."""
    intercept: float
    """The logistic intercept."""
    mean: tuple[float, ...]
    """Per feature mean used to standardise."""
    scale: tuple[float, ...]
    """Per feature standard deviation used to standardise (1 where it was 0)."""
    fitted_on: Mapping[str, Any] = field(default_factory=dict)
    """What it was fitted on (receipts, candidates, positives) — provenance only."""

    def probability(self, candidate: Candidate) -> float:
        z = self.intercept + sum(
            w * (x - m) / s
            for w, x, m, s in zip(
                self.weights, candidate.features, self.mean, self.scale, strict=True
            )
        )
        return 1.0 / (1.0 + math.exp(-max(min(z, 60.0), -60.0)))

    def _scores(self, features: Any) -> list[float]:
        """:meth:`probability` of every row of ``features`` (``[candidates, features]``), to the
        last bit, at once: the standardised terms as one array, summed left to right (a
        cumulative sum, as ``sum`` adds them)."""
        import numpy as np

        weights, mean, scale = self._arrays
        terms = weights * (features - mean) / scale
        sums = np.cumsum(terms, axis=1)[:, -1].tolist() if terms.shape[1] else [0] * len(terms)
        return [
            1.0 / (1.0 + math.exp(-max(min(self.intercept + z, 60.0), -60.0))) for z in sums
        ]

    @functools.cached_property
    def _arrays(self) -> tuple[Any, Any, Any]:
        import numpy as np

        return tuple(np.array(v, dtype=np.float64) for v in (self.weights, self.mean, self.scale))

    def pick_total(
        self,
        words: Sequence[Word],
        rows: Sequence[int],
        labels: Sequence[str],
        *,
        parse: Callable[[str], float | None] = parse_amount,
    ) -> tuple[int, float, float] | None:
        """The best of :func:`total_candidates` (ties go to the lower one on the receipt),
        without making a :class:`Candidate` per amount: the word's position in ``words``, its
        value and its probability; None when no word is an amount."""
        found = candidate_features(words, rows, labels, parse=parse)
        if found is None:
            return None
        positions, values, matrix = found
        n, probability = _best(self._scores(matrix))
        return positions[n], values[n], probability

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": PICKER_VERSION,
            "kind": "logistic",
            "features": list(self.features),
            "weights": list(self.weights),
            "intercept": self.intercept,
            "mean": list(self.mean),
            "scale": list(self.scale),
            "fitted_on": dict(self.fitted_on),
        }

    def save(self, directory: str | Path) -> Path:
        path = Path(directory) / PICKER_FILE
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TotalPicker:
        if data.get("version") != PICKER_VERSION or data.get("kind") != "logistic":
            raise CheckpointError(
                f"total picker version {data.get('version')!r}/{data.get('kind')!r} is not "
                f"{PICKER_VERSION}/logistic; refit it with this version"
            )
        names = tuple(data["features"])
        if list(names) != feature_names():
            raise CheckpointError(
                "the total picker was fitted on other features than this version computes; "
                "refit it (layoutlm-cli train, or benchmarks/quality_bench.py)"
            )
        sizes = {len(data[k]) for k in ("weights", "mean", "scale")}
        if sizes != {len(names)}:
            raise CheckpointError("total picker: weights, mean and scale must match the features")
        return cls(
            features=names,
            weights=tuple(float(x) for x in data["weights"]),
            intercept=float(data["intercept"]),
            mean=tuple(float(x) for x in data["mean"]),
            scale=tuple(float(x) or 1.0 for x in data["scale"]),
            fitted_on=dict(data.get("fitted_on") or {}),
        )


def _best(probabilities: list[float]) -> tuple[int, float]:
    """The index and rounded value of the last of the highest rounded probabilities (the lowest
    such candidate on the receipt)."""
    rounded = [round(p, 9) for p in probabilities]
    n = len(rounded) - 1 - rounded[::-1].index(max(rounded))
    return n, rounded[n]


def load_total_picker(directory: str | Path) -> TotalPicker | None:
    """The picker stored in a checkpoint or bundle directory; None when it has none (a model
    from before the picker: field extraction then works as it always did)."""
    path = Path(directory) / PICKER_FILE
    data = read_fitted_file(directory, PICKER_FILE, "total picker")
    if data is None:
        return None
    try:
        return TotalPicker.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a total picker ({exc!r})") from None
