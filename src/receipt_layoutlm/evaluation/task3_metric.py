"""SROIE task-3 as a :class:`~receipt_layoutlm.evaluation.dataset_metric.DatasetMetric`: the
receipts with ground-truth ``fields`` scored in both conventions — strict, and the leaderboard's
"excluding OCR mismatch" (``evaluation.sroie``) — with every strict mismatch classified
(``evaluation.mismatches``) into ``report.md`` and ``mismatches.jsonl``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_layoutlm.evaluation.dataset_metric import DatasetMetric, MetricOptions
from receipt_layoutlm.evaluation.mismatches import (
    kind_counts,
    mismatch_markdown,
    mismatch_rows,
    write_mismatches,
)
from receipt_layoutlm.evaluation.sroie import (
    Task3Result,
    ocr_mismatch_pairs,
    sroie_prediction,
    sroie_task3_f1,
)

if TYPE_CHECKING:
    from receipt_layoutlm.document import ReceiptDocument
    from receipt_layoutlm.prediction import ReceiptPrediction

STRICT = "sroie_task3"
EXCLUDING_OCR_MISMATCH = "sroie_task3_excluding_ocr_mismatch"
MISMATCHES_FILE = "mismatches.jsonl"


class SroieTask3Metric(DatasetMetric):
    """Task-3 field F1 of the receipts that carry ground-truth ``fields``."""

    name = STRICT

    def __init__(self, options: MetricOptions | None = None) -> None:
        self.whitespace = (options or MetricOptions()).task3_whitespace
        self.predictions: dict[str, dict[str, str]] = {}
        self.truth: dict[str, dict[str, str]] = {}
        self.texts: dict[str, str] = {}
        """Each receipt's words joined by single spaces, for the OCR-mismatch convention."""
        self._rows: list[dict[str, Any]] = []

    def add(self, doc: ReceiptDocument, predicted: ReceiptPrediction) -> bool:
        if not doc.fields:
            return False
        self.predictions[doc.key] = sroie_prediction(predicted.fields)
        self.truth[doc.key] = dict(doc.fields)
        self.texts[doc.key] = " ".join(w.text for w in predicted.words)
        return True

    @property
    def receipts(self) -> int:
        return len(self.truth)

    def strict(self) -> Task3Result:
        """The strict task-3 scores of the receipts added so far."""
        ws: Any = self.whitespace
        return sroie_task3_f1(self.predictions, self.truth, whitespace=ws)

    def ocr_mismatches(self) -> set[tuple[str, str]]:
        """The (receipt, key) pairs whose truth is not in the receipt's text."""
        ws: Any = self.whitespace
        return ocr_mismatch_pairs(self.truth, self.texts, whitespace=ws)

    def excluding_ocr_mismatch(self, dropped: set[tuple[str, str]] | None = None) -> Task3Result:
        """The task-3 scores without the pairs of :meth:`ocr_mismatches` (or ``dropped``)."""
        ws: Any = self.whitespace
        exclude = self.ocr_mismatches() if dropped is None else dropped
        return sroie_task3_f1(self.predictions, self.truth, whitespace=ws, exclude=exclude)

    def scores(self) -> dict[str, Any]:
        """``sroie_task3`` (strict, with the mismatch kinds) and
        ``sroie_task3_excluding_ocr_mismatch`` (pairs whose truth is not in the receipt's text
        dropped, ``evaluation.sroie.ocr_mismatch_pairs``)."""
        strict = self.strict()
        self._rows = mismatch_rows(strict.mismatches)
        dropped = self.ocr_mismatches()
        kept = self.excluding_ocr_mismatch(dropped)
        return {
            STRICT: {**strict.to_dict(), "mismatch_kinds": kind_counts(self._rows)["all"]},
            EXCLUDING_OCR_MISMATCH: {
                **kept.to_dict(),
                "excluded_pairs": len(dropped),
                "excluded_per_key": {
                    k: sum(1 for _, key in dropped if key == k) for k in kept.per_key
                },
            },
        }

    def summary(self, metrics: Mapping[str, Any]) -> dict[str, Any]:
        strict, excluding = metrics[STRICT], metrics[EXCLUDING_OCR_MISMATCH]
        return {
            "sroie_task3_f1": strict.get("f1"),
            "sroie_task3_per_key_f1": {k: v["f1"] for k, v in strict["per_key"].items()},
            "sroie_task3_excluding_ocr_mismatch": {
                "f1": excluding["f1"],
                "per_key_f1": {k: v["f1"] for k, v in excluding["per_key"].items()},
                "excluded_pairs": excluding["excluded_pairs"],
            },
            "sroie_task3_mismatch_kinds": strict["mismatch_kinds"],
        }

    def report_sections(self) -> list[str]:
        return [mismatch_markdown(self._rows)]

    def write_files(self, out_dir: Path) -> list[Path]:
        return [write_mismatches(out_dir / MISMATCHES_FILE, self._rows)]
