"""Evaluate a trained model on labelled receipts through the inference code path (a runtime)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
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
    ``wildreceipt_segments`` (when words carry dataset segments, ``evaluation.segments``),
    ``receipts``, ``runtime``."""
    files: list[Path] = field(default_factory=list)
    """report.json, report.md, confusion_matrix.png written by evaluation.write_report, and
    mismatches.jsonl (every task-3 mismatch, classified) when receipts carry fields."""


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
    With ``out_dir``, every task-3 mismatch goes to ``mismatches.jsonl`` (classified by
    ``evaluation.mismatches``) and the worst ones into ``report.md``. Receipts whose words carry
    segment ids and classes (the WildReceipt importer) are also scored with the dataset's own
    segment macro F1 over its 12 value classes (``evaluation.segments``), from the same word
    predictions.
    """
    from receipt_layoutlm.encoding import encode_receipt
    from receipt_layoutlm.evaluation import confusion_matrix, entity_metrics, sroie_prediction
    from receipt_layoutlm.prediction import predict_document

    label2id = {name: i for i, name in enumerate(runtime.labels)}
    true_tags: list[list[str]] = []
    pred_tags: list[list[str]] = []
    predictions: dict[str, dict[str, str]] = {}
    truth: dict[str, dict[str, str]] = {}
    texts: dict[str, str] = {}
    segments = _SegmentTally()
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
            texts[doc.key] = " ".join(w.text for w in predicted.words)
        segments.add(doc, predicted)
    entity = entity_metrics(true_tags, pred_tags)
    metrics: dict[str, Any] = {
        "receipts": len(docs),
        "runtime": runtime.describe() if hasattr(runtime, "describe") else str(runtime),
        "entity": entity.to_dict(),
        "token_accuracy": entity.accuracy,
    }
    rows = _task3(metrics, predictions, truth, texts, task3_whitespace) if truth else None
    if segments.receipts:
        metrics["wildreceipt_segments"] = segments.scores()
    entities = ["O", *sorted({t[2:] for t in runtime.labels if t != "O"})]
    confusion = confusion_matrix(
        [t for seq in true_tags for t in seq], [t for seq in pred_tags for t in seq], entities
    )
    files = [] if out_dir is None else _write(Path(out_dir), metrics, confusion, entities, rows)
    return Evaluation(metrics=metrics, files=files)


class _SegmentTally:
    """Segment (gold, predicted) class pairs of the receipts that carry segments."""

    def __init__(self) -> None:
        self.pairs: list[tuple[str, str]] = []
        self.receipts = 0
        self._classes: tuple[tuple[str, ...], dict[str, str]] | None = None

    def add(self, doc: ReceiptDocument, predicted: Any) -> None:
        from receipt_layoutlm.evaluation.segments import (
            has_segments,
            segment_pairs,
            wildreceipt_classes,
        )

        if not has_segments(doc.words):
            return
        if self._classes is None:
            self._classes = wildreceipt_classes()
        classes, class_of_label = self._classes
        words = zip(predicted.words, (p.label for p in predicted.predictions), strict=True)
        self.pairs += segment_pairs(doc.words, list(words), classes=classes,
                                    class_of_label=class_of_label)
        self.receipts += 1

    def scores(self) -> dict[str, Any]:
        from receipt_layoutlm.evaluation.segments import segment_f1

        assert self._classes is not None
        return {**segment_f1(self.pairs, self._classes[0]).to_dict(), "receipts": self.receipts}


def _task3(
    metrics: dict[str, Any],
    predictions: Mapping[str, Mapping[str, str]],
    truth: Mapping[str, Mapping[str, str]],
    texts: Mapping[str, str],
    whitespace: str,
) -> list[dict[str, Any]]:
    """Task-3 scores into ``metrics["sroie_task3"]`` (strict) and
    ``metrics["sroie_task3_excluding_ocr_mismatch"]`` (the leaderboard convention: pairs whose
    truth is not in the receipt's text dropped, ``evaluation.sroie.ocr_mismatch_pairs``);
    returns the classified mismatch rows of the strict score."""
    from receipt_layoutlm.evaluation import sroie_task3_f1
    from receipt_layoutlm.evaluation.mismatches import kind_counts, mismatch_rows
    from receipt_layoutlm.evaluation.sroie import ocr_mismatch_pairs

    task3 = sroie_task3_f1(predictions, truth, whitespace=whitespace)  # type: ignore[arg-type]
    rows = mismatch_rows(task3.mismatches)
    metrics["sroie_task3"] = {**task3.to_dict(), "mismatch_kinds": kind_counts(rows)["all"]}
    dropped = ocr_mismatch_pairs(truth, texts, whitespace=whitespace)  # type: ignore[arg-type]
    kept = sroie_task3_f1(predictions, truth, whitespace=whitespace,  # type: ignore[arg-type]
                          exclude=dropped)
    metrics["sroie_task3_excluding_ocr_mismatch"] = {
        **kept.to_dict(),
        "excluded_pairs": len(dropped),
        "excluded_per_key": {k: sum(1 for _, key in dropped if key == k) for k in kept.per_key},
    }
    return rows


def _write(
    out_dir: Path,
    metrics: dict[str, Any],
    confusion: Any,
    labels: list[str],
    rows: list[dict[str, Any]] | None,
) -> list[Path]:
    from receipt_layoutlm.evaluation import write_report
    from receipt_layoutlm.evaluation.mismatches import mismatch_markdown, write_mismatches

    sections = [] if rows is None else [mismatch_markdown(rows)]
    files = write_report(
        out_dir, metrics=metrics, confusion=confusion, labels=labels, curves=None, sections=sections
    )
    if rows is not None:
        files.append(write_mismatches(out_dir / "mismatches.jsonl", rows))
    return files


@dataclass
class CheckpointTruth:
    """The receipts to evaluate a checkpoint on and the label renames that match its training."""

    docs: list[ReceiptDocument]
    merges: dict[str, str]
    dataset_config: Any
    """The :class:`~receipt_layoutlm.data.DatasetConfig` the receipts were selected with."""
    dataset_of: dict[str, str] = field(default_factory=dict)
    """Per receipt key, its ``--mix`` dataset (empty unless the receipts came from a mix)."""


def checkpoint_truth(
    model_dir: Path,
    given: Mapping[str, Any],
    *,
    open_store: Callable[[], Any],
    split_side: str | None = None,
    trained_on: str = "the checkpoint",
) -> CheckpointTruth:
    """The evaluation set of a checkpoint: dataset settings ``given`` by the user, the rest from
    the checkpoint's recorded training config (``DatasetConfig.inherit``); receipts from the
    dataset file, else ``open_store()``; with ``split_side`` (``dev``/``train``) one side of
    the split, checked against the recorded split hashes (a mismatch is an error unless a split
    setting was given on purpose, then a warning)."""
    from receipt_layoutlm.checkpoint import read_meta, training_dataset_config
    from receipt_layoutlm.data import (
        MERGE_FIELDS,
        SPLIT_FIELDS,
        DatasetConfig,
        load_documents,
        split_documents,
    )
    from receipt_layoutlm.errors import DatasetError

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
