"""Evaluate a trained model on labelled receipts through the inference code path (a runtime)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from receipt_layoutlm.document import ReceiptDocument

log = logging.getLogger(__name__)


@dataclass
class Evaluation:
    """Metrics of one model on one set of receipts."""

    metrics: dict[str, Any]
    """``entity`` (EntityMetrics.to_dict), ``sroie_task3`` (when receipts carry fields),
    ``receipts``, ``runtime``."""
    files: list[Path] = field(default_factory=list)
    """report.json, report.md, confusion_matrix.png written by evaluation.write_report."""


def evaluate_documents(
    runtime: Any,
    docs: Sequence[ReceiptDocument],
    *,
    merges: Mapping[str, str] | None = None,
    out_dir: str | Path | None = None,
    task3_whitespace: str = "collapse",
) -> Evaluation:
    """Word-level entity metrics (seqeval strict), token accuracy, a word-level confusion matrix
    and, for receipts with ground-truth ``fields`` (SROIE), task-3 field F1.

    Ground-truth tags come from the encoding spec (BIO over the original labels, renamed by
    ``merges``; labels the model does not know count as O); predictions from
    ``runtime.predict_windows`` + ``decode_word_labels``, exactly as inference decodes.
    ``task3_whitespace`` is how task-3 strings are compared (``evaluation.normalize_whitespace``).
    """
    from receipt_layoutlm.encoding import encode_receipt
    from receipt_layoutlm.evaluation import (
        confusion_matrix,
        entity_metrics,
        sroie_prediction,
        sroie_task3_f1,
        write_report,
    )
    from receipt_layoutlm.prediction import predict_document

    label2id = {name: i for i, name in enumerate(runtime.labels)}
    true_tags: list[list[str]] = []
    pred_tags: list[list[str]] = []
    predictions: dict[str, dict[str, str]] = {}
    truth: dict[str, dict[str, str]] = {}
    for doc in docs:
        encoded = encode_receipt(
            doc,
            runtime.tokenizer,
            runtime.encoding_config,
            label2id=label2id,
            merges=dict(merges or {}),
            unknown_label="O",
        )
        predicted = predict_document(runtime, doc, encoded=encoded)
        assert encoded.tags is not None
        true_tags.append(list(encoded.tags))
        pred_tags.append([p.tag for p in predicted.predictions])
        if doc.fields:
            predictions[doc.key] = sroie_prediction(predicted.fields)
            truth[doc.key] = dict(doc.fields)
    entity = entity_metrics(true_tags, pred_tags)
    metrics: dict[str, Any] = {
        "receipts": len(docs),
        "runtime": runtime.describe() if hasattr(runtime, "describe") else str(runtime),
        "entity": entity.to_dict(),
        "token_accuracy": entity.accuracy,
    }
    if truth:
        metrics["sroie_task3"] = sroie_task3_f1(
            predictions, truth, whitespace=task3_whitespace
        ).to_dict()
    entities = ["O", *sorted({t[2:] for t in runtime.labels if t != "O"})]
    confusion = confusion_matrix(
        [t for seq in true_tags for t in seq], [t for seq in pred_tags for t in seq], entities
    )
    files: list[Path] = []
    if out_dir is not None:
        files = write_report(
            out_dir, metrics=metrics, confusion=confusion, labels=entities, curves=None
        )
    return Evaluation(metrics=metrics, files=files)
