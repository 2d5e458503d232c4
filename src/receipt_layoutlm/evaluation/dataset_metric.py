"""The seam between ``evaluate_documents`` and a dataset's own metric (SROIE task-3, WildReceipt
segments): the evaluation hands every receipt's prediction to each metric, and a metric scores the
receipts that carry its ground truth and ignores the rest, so one loop serves every dataset.

Implementations are registered by name in :mod:`receipt_layoutlm.evaluation.metric_registry`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from receipt_layoutlm.document import ReceiptDocument
    from receipt_layoutlm.prediction import ReceiptPrediction


@dataclass(frozen=True)
class MetricOptions:
    """Settings a dataset metric may read; each metric ignores those that are not its own."""

    task3_whitespace: str = "collapse"
    """How SROIE task-3 strings are compared (``evaluation.normalize_whitespace``)."""


class DatasetMetric(ABC):
    """One dataset's metric over a set of receipts: :meth:`add` each receipt's prediction, then
    read :meth:`scores`. A fresh instance per evaluation (it accumulates)."""

    name: str
    """The registry name; also the key of the metric's main entry in the evaluation metrics."""

    @abstractmethod
    def add(self, doc: ReceiptDocument, predicted: ReceiptPrediction) -> bool:
        """Score one receipt; False (and nothing recorded) when it carries none of this
        metric's ground truth."""

    @property
    @abstractmethod
    def receipts(self) -> int:
        """Receipts scored so far; a metric with none reports nothing."""

    @abstractmethod
    def scores(self) -> dict[str, Any]:
        """Entries for the evaluation's metrics (``report.json``), keyed by metric name."""

    @abstractmethod
    def summary(self, metrics: Mapping[str, Any]) -> dict[str, Any]:
        """The lines of ``layoutlm-cli evaluate``'s printed summary, read from the entries
        :meth:`scores` put into ``metrics``."""

    def report_sections(self) -> list[str]:
        """Markdown sections appended to ``report.md``."""
        return []

    def write_files(self, out_dir: Path) -> list[Path]:
        """Extra files written beside the report (e.g. every mismatch, one per line)."""
        return []
