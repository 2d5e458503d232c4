"""Evaluate a trained model on labelled receipts through the inference code path (a runtime)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_layoutlm.document import ReceiptDocument
from receipt_layoutlm.evaluation.dataset_metric import DatasetMetric, MetricOptions
from receipt_layoutlm.evaluation.metric_registry import dataset_metrics as make_metrics

if TYPE_CHECKING:
    import numpy as np

    from receipt_dynamo import ReceiptStore
    from receipt_layoutlm.data import DatasetConfig
    from receipt_layoutlm.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass
class Evaluation:
    """Metrics of one model on one set of receipts."""

    metrics: dict[str, Any]
    """``entity`` (EntityMetrics.to_dict), ``token_accuracy``, ``receipts``, ``runtime``, and
    the entries of every dataset metric that applied (``evaluation.metric_registry``):
    ``sroie_task3`` and ``sroie_task3_excluding_ocr_mismatch`` when receipts carry fields,
    ``wildreceipt_segments`` when words carry dataset segments."""
    files: list[Path] = field(default_factory=list)
    """report.json, report.md, confusion_matrix.png written by evaluation.write_report, and
    each applied dataset metric's files (``mismatches.jsonl``, every task-3 mismatch
    classified, when receipts carry fields)."""
    applied: list[DatasetMetric] = field(default_factory=list)
    """The dataset metrics that scored at least one receipt."""

    def summary(self) -> dict[str, Any]:
        """What ``layoutlm-cli evaluate`` prints: the entity scores, each applied dataset
        metric's lines, and the report files."""
        entity = self.metrics["entity"]
        out: dict[str, Any] = {
            "receipts": self.metrics["receipts"],
            "entity_f1": entity["f1"],
            "token_accuracy": self.metrics["token_accuracy"],
            "per_label_f1": {k: v["f1"] for k, v in entity["per_label"].items()},
        }
        for metric in self.applied:
            out.update(metric.summary(self.metrics))
        out["report"] = [str(p) for p in self.files]
        return out


def evaluate_documents(
    runtime: Runtime,
    docs: Sequence[ReceiptDocument],
    *,
    merges: Mapping[str, str] | None = None,
    out_dir: str | Path | None = None,
    task3_whitespace: str = "collapse",
    dataset_metrics: Sequence[str] | None = None,
) -> Evaluation:
    """Word-level entity metrics (seqeval strict), token accuracy, a word-level confusion matrix
    and every dataset metric that applies to the receipts.

    Ground-truth tags come from the encoding spec (BIO over the original labels, renamed by
    ``merges``; labels the model does not know count as O); predictions from
    ``runtime.predict_windows`` + ``decode_word_labels``, exactly as inference decodes.
    ``dataset_metrics`` names the registered metrics to run (``evaluation.metric_registry``;
    default all): each scores only the receipts that carry its ground truth — SROIE task-3
    field F1 for receipts with ``fields`` (strings compared as ``task3_whitespace`` says,
    ``evaluation.normalize_whitespace``), WildReceipt's segment macro F1 for receipts whose
    words carry segment ids and classes — and reports nothing when none does. With
    ``out_dir``, the report files are written, with each applied metric's sections and files
    (every task-3 mismatch in ``mismatches.jsonl``, the worst ones in ``report.md``).
    """
    from receipt_layoutlm.encoding import encode_receipt
    from receipt_layoutlm.evaluation import confusion_matrix, entity_metrics
    from receipt_layoutlm.prediction import predict_document

    metrics_run = make_metrics(dataset_metrics, MetricOptions(task3_whitespace=task3_whitespace))
    label2id = {name: i for i, name in enumerate(runtime.labels)}
    true_tags: list[list[str]] = []
    pred_tags: list[list[str]] = []
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
        for metric in metrics_run:
            metric.add(doc, predicted)
    entity = entity_metrics(true_tags, pred_tags)
    metrics: dict[str, Any] = {
        "receipts": len(docs),
        "runtime": runtime.describe() if hasattr(runtime, "describe") else str(runtime),
        "entity": entity.to_dict(),
        "token_accuracy": entity.accuracy,
    }
    applied = [metric for metric in metrics_run if metric.receipts]
    for metric in applied:
        metrics.update(metric.scores())
    entities = ["O", *sorted({t[2:] for t in runtime.labels if t != "O"})]
    confusion = confusion_matrix(
        [t for seq in true_tags for t in seq], [t for seq in pred_tags for t in seq], entities
    )
    files = [] if out_dir is None else _write(Path(out_dir), metrics, confusion, entities, applied)
    return Evaluation(metrics=metrics, files=files, applied=applied)


def _write(
    out_dir: Path,
    metrics: dict[str, Any],
    confusion: np.ndarray,
    labels: list[str],
    applied: Sequence[DatasetMetric],
) -> list[Path]:
    from receipt_layoutlm.evaluation import write_report

    sections = [section for metric in applied for section in metric.report_sections()]
    files = write_report(
        out_dir, metrics=metrics, confusion=confusion, labels=labels, curves=None, sections=sections
    )
    for metric in applied:
        files += metric.write_files(out_dir)
    return files


@dataclass
class CheckpointTruth:
    """The receipts to evaluate a checkpoint on and the label renames that match its training."""

    docs: list[ReceiptDocument]
    merges: dict[str, str]
    dataset_config: DatasetConfig
    """The :class:`~receipt_layoutlm.data.DatasetConfig` the receipts were selected with."""
    dataset_of: dict[str, str] = field(default_factory=dict)
    """Per receipt key, its ``--mix`` dataset (empty unless the receipts came from a mix)."""


def checkpoint_truth(
    model_dir: Path,
    given: Mapping[str, Any],
    *,
    open_store: Callable[[], ReceiptStore],
    split_side: str | None = None,
    trained_on: str = "the checkpoint",
) -> CheckpointTruth:
    """The evaluation set of a checkpoint: dataset settings ``given`` by the user, the rest from
    the checkpoint's recorded training config (``DatasetConfig.inherit``); receipts from the
    dataset file, else ``open_store()``; with ``split_side`` (``dev``/``train``) one side of
    the split, checked against the recorded split hashes (a mismatch is an error unless a split
    setting was given on purpose, then a warning)."""
    from receipt_layoutlm.data import (
        MERGE_FIELDS,
        SPLIT_FIELDS,
        DatasetConfig,
        load_documents,
        split_documents,
    )
    from receipt_layoutlm.errors import DatasetError
    from receipt_layoutlm.run_record import read_meta, training_dataset_config

    meta = read_meta(model_dir)
    recorded = training_dataset_config(model_dir, meta)
    # The checkpoint's training split and merges are the defaults, so the truth matches what
    # it learned and split_side="dev" is the run's dev set.
    config = DatasetConfig.inherit(given, recorded)
    docs = load_documents(None if config.reads_files else open_store(), config)
    dataset_of = dict(getattr(docs, "datasets", {}))
    if split_side:
        split = split_documents(docs, config)
        try:
            split.verify(meta.get("split_hashes"), trained_on=trained_on)
        except DatasetError as exc:
            message = f"evaluate --split-side {split_side}: {exc}"
            if not any(name in given for name in SPLIT_FIELDS):
                raise DatasetError(
                    f"{message}; evaluate the training receipts (the same --dataset, or the "
                    "--env/--data-dir of the training run), or pass --split-file/--dev-ratio/"
                    "--split-seed to evaluate another split on purpose"
                ) from None
            log.warning("%s; evaluating the split the flags asked for", message)
        docs = split.dev if split_side == "dev" else split.train
    docs = list(docs)
    if recorded or any(name in given for name in MERGE_FIELDS):
        merges = config.evaluation_merges(w.label for d in docs for w in d.words)
    else:
        merges = dict(meta.get("merges") or {})  # checkpoints that record only the map
    return CheckpointTruth(
        docs=docs, merges=merges, dataset_config=config, dataset_of=dataset_of
    )
