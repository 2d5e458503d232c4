"""WildReceipt's segment macro F1 as a
:class:`~receipt_layoutlm.evaluation.dataset_metric.DatasetMetric`: the receipts whose words carry
dataset segments (the WildReceipt importer) scored over the dataset's 12 value classes, from the
same word predictions (``evaluation.segments``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from receipt_layoutlm.evaluation.dataset_metric import DatasetMetric, MetricOptions
from receipt_layoutlm.evaluation.segments import (
    has_segments,
    segment_f1,
    segment_pairs,
    wildreceipt_classes,
)

if TYPE_CHECKING:
    from receipt_layoutlm.document import ReceiptDocument
    from receipt_layoutlm.prediction import ReceiptPrediction

WILDRECEIPT_SEGMENTS = "wildreceipt_segments"


class WildReceiptSegmentMetric(DatasetMetric):
    """Segment (gold, predicted) class pairs of the receipts that carry segments, then their
    macro F1."""

    name = WILDRECEIPT_SEGMENTS

    def __init__(self, options: MetricOptions | None = None) -> None:
        self.pairs: list[tuple[str, str]] = []
        self._receipts = 0
        self._classes: tuple[tuple[str, ...], dict[str, str]] | None = None

    def add(self, doc: ReceiptDocument, predicted: ReceiptPrediction) -> bool:
        if not has_segments(doc.words):
            return False
        if self._classes is None:
            self._classes = wildreceipt_classes()
        classes, class_of_label = self._classes
        words = zip(predicted.words, (p.label for p in predicted.predictions), strict=True)
        self.pairs += segment_pairs(doc.words, list(words), classes=classes,
                                    class_of_label=class_of_label)
        self._receipts += 1
        return True

    @property
    def receipts(self) -> int:
        return self._receipts

    def scores(self) -> dict[str, Any]:
        assert self._classes is not None, "scores() of a metric that scored no receipt"
        scores = segment_f1(self.pairs, self._classes[0]).to_dict()
        return {WILDRECEIPT_SEGMENTS: {**scores, "receipts": self._receipts}}

    def summary(self, metrics: Mapping[str, Any]) -> dict[str, Any]:
        segments = metrics[WILDRECEIPT_SEGMENTS]
        return {
            "wildreceipt_segment_macro_f1": segments["macro_f1"],
            "wildreceipt_segment_f1": {k: v["f1"] for k, v in segments["per_class"].items()},
        }
