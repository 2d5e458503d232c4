"""Dataset metrics by name: what ``evaluate_documents`` runs over every receipt. A new dataset's
metric is one :class:`~receipt_layoutlm.evaluation.dataset_metric.DatasetMetric` module and one
line here."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from receipt_layoutlm.errors import EvaluationError
from receipt_layoutlm.evaluation.dataset_metric import DatasetMetric, MetricOptions
from receipt_layoutlm.evaluation.segment_metric import WildReceiptSegmentMetric
from receipt_layoutlm.evaluation.task3_metric import SroieTask3Metric

DATASET_METRICS: dict[str, Callable[[MetricOptions], DatasetMetric]] = {
    SroieTask3Metric.name: SroieTask3Metric,
    WildReceiptSegmentMetric.name: WildReceiptSegmentMetric,
}
"""Registered metrics in report order; each scores only the receipts carrying its truth."""


def dataset_metrics(
    names: Sequence[str] | None = None, options: MetricOptions | None = None
) -> list[DatasetMetric]:
    """Fresh instances of the metrics ``names`` (every registered one when None), in the order
    given; :class:`EvaluationError` naming the registered ones for an unknown name."""
    chosen = list(DATASET_METRICS) if names is None else list(names)
    unknown = [name for name in chosen if name not in DATASET_METRICS]
    if unknown:
        raise EvaluationError(
            f"unknown dataset metric {unknown[0]!r}; registered: {', '.join(DATASET_METRICS)}"
        )
    return [DATASET_METRICS[name](options or MetricOptions()) for name in chosen]
