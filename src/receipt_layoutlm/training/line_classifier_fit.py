"""Fit the line classifier (``fields.line_classifier``) on training receipts with scikit-learn.

The examples are the lines of receipts whose ground truth has the field (SROIE ``fields``), as
the model's predictions give them — transcripts and OCR'd re-renders alike
(``receipt_ocr.ocr_renders``), so the classifier learns what Tesseract's lines look like. A line
is positive when at least half of its words (debris words at its ends dropped,
``fields.ocr_cleanup``) carry the field's label in the dataset: the labels the importer's
matching gave the words of the key's value (``importers.sroie``; for the renders, the same
matching over the OCR's words). Text containment alone would call a stray ``S`` line part of
``99 SPEED MART S/B``. The
model is scikit-learn's ``LogisticRegression`` with its default regularisation on standardised
features — nothing is tuned on a dev split or on the sample photos.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_layoutlm.document import ReceiptDocument
from receipt_layoutlm.fields import DEFAULT_CLEANUP, FIELD_LABELS
from receipt_layoutlm.fields._words import Word, normalise_words
from receipt_layoutlm.fields.line_classifier import LineClassifier, LineModel
from receipt_layoutlm.fields.line_features import feature_names, line_features, receipt_lines
from receipt_layoutlm.fields.ocr_cleanup import rejoin_amounts, trim_edges

if TYPE_CHECKING:
    from receipt_layoutlm.runtime import Runtime

log = logging.getLogger(__name__)

LINE_FIELDS: tuple[str, ...] = ("merchant", "address")
"""The fields a classifier is fitted for (the multi-line SROIE keys)."""


@dataclass(frozen=True)
class LineExample:
    """One receipt's lines for one field: a feature row and a 0/1 target per line."""

    field: str
    """The field (``merchant``/``address``)."""
    rows: list[list[float]]
    """Per line, ``fields.line_features.feature_names`` figures."""
    targets: list[int]
    """Per line, 1 when its text occurs in the field's ground truth."""


def _in_field(words: Sequence[Word], gold: Sequence[str | None], labels: Sequence[str]) -> bool:
    kept = trim_edges(list(words), DEFAULT_CLEANUP)
    return 2 * sum(gold[w.index] in labels for w in kept) >= len(kept)


def receipt_line_examples(
    predictions: Sequence[Any],
    line_ids: Sequence[int],
    ocr_confidences: Sequence[float] | None,
    gold_labels: Sequence[str | None],
    *,
    field_labels: Mapping[str, Sequence[str]] | None = None,
) -> list[LineExample]:
    """A receipt's examples from its word predictions (``decode_word_labels``), reading-order
    line ids and the dataset's word labels (``EncodedReceipt.words[i].label``), for each of
    :data:`LINE_FIELDS` some word is labelled for — the words normalised exactly as
    ``extract_fields`` does with the default repairs."""
    words = normalise_words(predictions, line_ids, ocr_confidences)
    words, _ = rejoin_amounts(words, None)
    lines = receipt_lines(words)
    mapping = FIELD_LABELS if field_labels is None else field_labels
    examples = []
    for field in LINE_FIELDS:
        labels = tuple(mapping.get(field, ()))
        if not lines or not any(label in labels for label in gold_labels):
            continue
        _, rows = line_features(words, lines, labels)
        targets = [int(_in_field([words[p] for p in line], gold_labels, labels)) for line in lines]
        examples.append(LineExample(field, rows, targets))
    return examples


def runtime_line_examples(runtime: Runtime, docs: Iterable[ReceiptDocument]) -> list[LineExample]:
    """Examples from ``runtime``'s predictions on ``docs`` (those with labelled words)."""
    from receipt_layoutlm.encoding import decode_word_labels

    examples: list[LineExample] = []
    for doc in docs:
        encoded = runtime.encode(doc)
        gold = [w.label for w in encoded.words]
        if not any(gold):
            continue
        predictions = decode_word_labels(encoded, runtime.predict_windows(encoded), runtime.labels)
        confidences = [w.confidence for w in encoded.words]
        examples += receipt_line_examples(predictions, encoded.line_index, confidences, gold)
    return examples


def fit_line_classifier(
    examples: Sequence[LineExample], fields: Sequence[str] = LINE_FIELDS
) -> LineClassifier | None:
    """A classifier with one model per field of ``fields`` whose examples hold both classes;
    None when no field has."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    models: dict[str, LineModel] = {}
    fitted_on: dict[str, Any] = {}
    for field in fields:
        mine = [e for e in examples if e.field == field and any(e.targets)]
        targets = [t for e in mine for t in e.targets]
        if len(set(targets)) < 2:
            log.warning("line classifier: no usable %s lines, not fitted", field)
            continue
        x = np.asarray([r for e in mine for r in e.rows], dtype=np.float64)
        scaler = StandardScaler().fit(x)
        model = LogisticRegression(max_iter=5000).fit(scaler.transform(x), np.asarray(targets))
        models[field] = LineModel(
            weights=tuple(float(w) for w in model.coef_[0]),
            intercept=float(model.intercept_[0]),
            mean=tuple(float(m) for m in scaler.mean_),
            scale=tuple(float(s) if s > 0 else 1.0 for s in scaler.scale_),
        )
        fitted_on[field] = {"receipts": len(mine), "lines": len(targets),
                            "positives": int(sum(targets))}
    if not models:
        return None
    return LineClassifier(features=tuple(feature_names()), models=models, fitted_on=fitted_on)


def fit_onto_checkpoint(
    checkpoint: str | Path, datasets: Sequence[str | Path], *, runtime: str = "torch"
) -> LineClassifier:
    """Fit a classifier on the checkpoint's predictions over the receipts of ``datasets``
    (JSONL files: its training receipts, OCR'd re-renders of them) and save it into the
    checkpoint (:data:`fields.line_classifier.LINE_CLASSIFIER_FILE`), replacing any there: a
    trained model gets one without retraining. Raises ``DatasetError`` when the receipts hold
    no line of a field and no line outside one."""
    from receipt_layoutlm.data import DatasetConfig, load_documents
    from receipt_layoutlm.errors import DatasetError
    from receipt_layoutlm.runtime import load_runtime

    model = load_runtime(runtime, checkpoint)
    examples: list[LineExample] = []
    for dataset in datasets:
        docs = load_documents(None, DatasetConfig(dataset_file=str(dataset)))
        examples += runtime_line_examples(model, docs)
    classifier = fit_line_classifier(examples)
    if classifier is None:
        raise DatasetError(
            f"fit-fields: no labelled {' or '.join(LINE_FIELDS)} lines in "
            f"{', '.join(str(d) for d in datasets)}; nothing to fit"
        )
    classifier.save(checkpoint)
    return classifier
