"""Evaluation: entity/token metrics, SROIE task-3 field F1, and report files.

Importing this package needs numpy only; seqeval and matplotlib load when their functions run.
"""

from receipt_layoutlm.evaluation.metrics import (
    EntityMetrics,
    LabelScores,
    confusion_matrix,
    entity_metrics,
)
from receipt_layoutlm.evaluation.report import render_markdown, write_report
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
