"""Evaluation, in one place: entity/token metrics, the datasets' own metrics (SROIE task-3
field F1, WildReceipt segment F1) behind one ``DatasetMetric`` seam, a model evaluated through
the inference path (``evaluate``), per-epoch word-level metrics for the Trainer
(``word_metrics``), cross-validation and its fold cache (``crossval``, ``fold_cache``), and the
summary report files of an evaluation or a training run (``summary_report``: report.json,
report.md, PNG figures). The HTML page about a whole training job is ``receipt_layoutlm.reporting``.

Importing this package needs numpy only; seqeval and matplotlib load when their functions run,
and the submodules that run a model (``evaluate``, ``fold_cache``) are imported by name.
"""

from receipt_layoutlm.evaluation.metrics import (
    EntityMetrics,
    LabelScores,
    confusion_matrix,
    entity_metrics,
)
from receipt_layoutlm.evaluation.sroie import (
    SROIE_FIELD_FOR_KEY,
    SROIE_KEYS,
    KeyScores,
    Mismatch,
    Task3Result,
    normalize_whitespace,
    sroie_prediction,
    sroie_task3_f1,
)
from receipt_layoutlm.evaluation.summary_report import render_markdown, write_report

__all__ = [
    "SROIE_FIELD_FOR_KEY",
    "SROIE_KEYS",
    "EntityMetrics",
    "KeyScores",
    "LabelScores",
    "Mismatch",
    "Task3Result",
    "confusion_matrix",
    "entity_metrics",
    "normalize_whitespace",
    "render_markdown",
    "sroie_prediction",
    "sroie_task3_f1",
    "write_report",
]
