"""Fit the total picker (``fields.total_picker``) on training receipts with scikit-learn.

The examples are the candidates of receipts whose ground truth has a total (SROIE ``fields``);
a candidate is positive when its text is the ground-truth total (task-3 comparison). Receipts
whose total is none of their candidates (printed over two words, OCR misread) teach nothing and
are left out. The model is scikit-learn's ``LogisticRegression`` with its default
regularisation on standardised features — nothing is tuned on a dev split.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from receipt_layoutlm.document import ReceiptDocument
from receipt_layoutlm.fields import Candidate, TotalPicker, candidates_for_total, feature_names

if TYPE_CHECKING:
    from receipt_layoutlm.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PickerExample:
    """One receipt's candidates and its ground-truth total text."""

    candidates: list[Candidate]
    truth: str


def receipt_example(
    predictions: Sequence[Any], line_ids: Sequence[int], rows: Sequence[int], truth: str
) -> PickerExample:
    """A receipt's candidates from its word predictions (``decode_word_labels``), reading-order
    line ids and printed rows (``encoding.printed_rows``)."""
    return PickerExample(candidates_for_total(predictions, line_ids=line_ids, rows=rows), truth)


def runtime_examples(runtime: Runtime, docs: Iterable[ReceiptDocument]) -> list[PickerExample]:
    """Examples from ``runtime``'s predictions on ``docs`` (those with a ground-truth total)."""
    from receipt_layoutlm.encoding import decode_word_labels, printed_rows

    examples = []
    for doc in docs:
        truth = (doc.fields or {}).get("total")
        if not truth:
            continue
        encoded = runtime.encode(doc)
        predictions = decode_word_labels(encoded, runtime.predict_windows(encoded), runtime.labels)
        rows = printed_rows(encoded.boxes, line_overlap=runtime.encoding_config.line_overlap)
        examples.append(receipt_example(predictions, encoded.line_index, rows, truth))
    return examples


def fit_total_picker(examples: Sequence[PickerExample]) -> TotalPicker | None:
    """A fitted picker, or None when the examples hold no positive or no negative candidate."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from receipt_layoutlm.evaluation import normalize_whitespace

    features: list[list[float]] = []
    targets: list[int] = []
    used = 0
    for example in examples:
        truth = normalize_whitespace(example.truth)
        hits = [normalize_whitespace(c.word.text) == truth for c in example.candidates]
        if not any(hits):
            continue
        used += 1
        features += [c.features for c in example.candidates]
        targets += [int(h) for h in hits]
    if not targets or len(set(targets)) < 2:
        log.warning("total picker: %d usable receipts, not fitted", used)
        return None
    x = np.asarray(features, dtype=np.float64)
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(max_iter=5000).fit(scaler.transform(x), np.asarray(targets))
    scale = [float(s) if s > 0 else 1.0 for s in scaler.scale_]
    return TotalPicker(
        features=tuple(feature_names()),
        weights=tuple(float(w) for w in model.coef_[0]),
        intercept=float(model.intercept_[0]),
        mean=tuple(float(m) for m in scaler.mean_),
        scale=tuple(scale),
        fitted_on={
            "receipts": len(examples),
            "receipts_with_total_candidate": used,
            "candidates": len(targets),
            "positives": int(sum(targets)),
        },
    )
