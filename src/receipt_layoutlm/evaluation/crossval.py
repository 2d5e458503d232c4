"""K-fold cross-validation of task-3 field extraction: score each fold, then mean ± spread.

Each fold's held-out receipts are read by ``prediction.predict_document`` (the inference path)
with that fold's model — live or replayed from a fold cache — and scored with the official
task-3 comparison. The summary reports the mean and the sample standard deviation over folds
of the overall and per-key F1, and the mismatch kinds pooled over all folds.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from receipt_layoutlm.document import ReceiptDocument
from receipt_layoutlm.evaluation import SROIE_KEYS, Task3Result
from receipt_layoutlm.evaluation.dataset_metric import MetricOptions
from receipt_layoutlm.evaluation.mismatches import kind_counts, mismatch_rows
from receipt_layoutlm.evaluation.task3_metric import (
    EXCLUDING_OCR_MISMATCH,
    STRICT,
    SroieTask3Metric,
)

if TYPE_CHECKING:
    from receipt_layoutlm.runtime import Runtime


def score_fold(
    runtime: Runtime,
    docs: Sequence[ReceiptDocument],
    *,
    multiline: str | None = None,
    whitespace: str = "collapse",
) -> Task3Result:
    """Task-3 scores of ``runtime`` on the receipts of ``docs`` that carry ground-truth fields
    (the strict convention of :class:`~receipt_layoutlm.evaluation.task3_metric.SroieTask3Metric`,
    which ``evaluate`` reports too)."""
    return fold_scores(runtime, docs, multiline=multiline, whitespace=whitespace)[STRICT]


def fold_scores(
    runtime: Runtime,
    docs: Sequence[ReceiptDocument],
    *,
    multiline: str | None = None,
    whitespace: str = "collapse",
) -> dict[str, Task3Result]:
    """Both conventions ``evaluate`` reports, from one prediction of each receipt: ``STRICT``
    and ``EXCLUDING_OCR_MISMATCH`` (pairs whose truth is not in the receipt's text dropped)."""
    from receipt_layoutlm.prediction import predict_document

    metric = SroieTask3Metric(MetricOptions(task3_whitespace=whitespace))
    mode: Any = multiline  # None: predict_document's default
    for doc in docs:
        if doc.fields:
            metric.add(doc, predict_document(runtime, doc, multiline=mode))
    return {STRICT: metric.strict(), EXCLUDING_OCR_MISMATCH: metric.excluding_ocr_mismatch()}


def mean_spread(values: Sequence[float]) -> dict[str, float]:
    """Mean, sample standard deviation (0 for one value), min and max."""
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
    }


def summarize(results: Sequence[Task3Result]) -> dict[str, Any]:
    """Per fold and over folds: overall task-3 F1 and per key F1 (mean ± spread), receipts,
    and the pooled mismatch kinds."""
    rows = [row for r in results for row in mismatch_rows(r.mismatches)]
    return {
        "folds": len(results),
        "receipts": sum(r.num_receipts for r in results),
        "f1": mean_spread([r.f1 for r in results]),
        "per_key": {
            key: mean_spread([r.per_key[key].f1 for r in results])
            for key in SROIE_KEYS
            if all(key in r.per_key for r in results)
        },
        "per_fold": [{"f1": r.f1, **{k: s.f1 for k, s in r.per_key.items()}} for r in results],
        "mismatch_kinds": kind_counts(rows),
    }
