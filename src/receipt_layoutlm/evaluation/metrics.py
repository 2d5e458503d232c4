"""Word-level tagging metrics: seqeval entity scores, token accuracy and a confusion matrix.

Callers pass WORD-level BIO tags (decode windows with the encoding spec first), so a word split into
several sub-tokens counts once. Entity scores use seqeval in strict IOB2 mode: an entity counts only
when its type and exact span match, and a span that starts with ``I-`` is not an entity at all.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from receipt_layoutlm.errors import EvaluationError

OUTSIDE = "O"


@dataclass(frozen=True)
class LabelScores:
    """Entity-level scores for one label (or an average over labels)."""

    precision: float
    """Correct predicted spans / predicted spans of this label."""
    recall: float
    """Correct predicted spans / true spans of this label."""
    f1: float
    """Harmonic mean of precision and recall (0 when both are 0)."""
    support: int
    """Number of true spans of this label."""


@dataclass(frozen=True)
class EntityMetrics:
    """Entity-level (strict IOB2, exact span) and token-level scores of one evaluation."""

    precision: float
    """Micro-averaged entity precision over all labels."""
    recall: float
    """Micro-averaged entity recall over all labels."""
    f1: float
    """Micro-averaged entity F1 over all labels."""
    accuracy: float
    """Share of words whose predicted tag equals the true tag (``O`` words included)."""
    support: int
    """Number of true entity spans."""
    per_label: dict[str, LabelScores] = field(default_factory=dict)
    """Scores per entity label (no BIO prefix), sorted by label; labels only ever predicted
    appear with support 0."""
    macro_f1: float = 0.0
    """Unweighted mean F1 over the labels in ``per_label`` (0 when there are none)."""
    num_words: int = 0
    """Number of words (tags) evaluated."""

    def to_dict(self) -> dict:
        """Plain JSON-ready dict: floats and ints only, ``per_label`` as nested dicts."""
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "accuracy": self.accuracy,
            "support": self.support,
            "macro_f1": self.macro_f1,
            "num_words": self.num_words,
            "per_label": {name: asdict(s) for name, s in self.per_label.items()},
        }


def _check_shapes(true_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]]) -> None:
    if len(true_tags) != len(pred_tags):
        raise EvaluationError(
            f"entity_metrics got {len(true_tags)} true sequences but {len(pred_tags)} predicted "
            "ones; pass one tag list per receipt on both sides"
        )
    for i, (t, p) in enumerate(zip(true_tags, pred_tags, strict=True)):
        if len(t) != len(p):
            raise EvaluationError(
                f"sequence {i}: {len(t)} true tags but {len(p)} predicted tags; tags must be per "
                "word (decode token windows to words with the encoding spec first)"
            )


def _f(value: object) -> float:
    number = float(value)  # type: ignore[arg-type]
    return 0.0 if math.isnan(number) else number


def entity_metrics(true_tags: list[list[str]], pred_tags: list[list[str]]) -> EntityMetrics:
    """Entity precision/recall/F1 (seqeval, strict IOB2) overall and per label, plus token accuracy.

    ``true_tags[i]`` and ``pred_tags[i]`` are the BIO tags of receipt ``i``'s words in reading
    order. A predicted span matches only with the same type and the exact same boundaries; a
    B/I mismatch (e.g. ``I-X I-X`` for ``B-X I-X``) is a miss.
    """
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    _check_shapes(true_tags, pred_tags)
    true_lists = [list(t) for t in true_tags]
    pred_lists = [list(p) for p in pred_tags]
    num_words = sum(len(t) for t in true_lists)
    correct = sum(
        a == b
        for t, p in zip(true_lists, pred_lists, strict=True)
        for a, b in zip(t, p, strict=True)
    )
    accuracy = correct / num_words if num_words else 0.0

    with warnings.catch_warnings():
        # seqeval/numpy warn about empty averages when no entity occurs; zero is the answer then.
        warnings.simplefilter("ignore")
        report = classification_report(
            true_lists, pred_lists, mode="strict", scheme=IOB2, output_dict=True, zero_division=0
        )
    averages = {"micro avg", "macro avg", "weighted avg"}
    per_label = {
        name: LabelScores(
            precision=_f(row["precision"]),
            recall=_f(row["recall"]),
            f1=_f(row["f1-score"]),
            support=int(row["support"]),
        )
        for name, row in sorted(report.items())
        if name not in averages
    }
    micro = report.get("micro avg", {})
    macro_f1 = sum(s.f1 for s in per_label.values()) / len(per_label) if per_label else 0.0
    return EntityMetrics(
        precision=_f(micro.get("precision", 0.0)),
        recall=_f(micro.get("recall", 0.0)),
        f1=_f(micro.get("f1-score", 0.0)),
        accuracy=accuracy,
        support=sum(s.support for s in per_label.values()),
        per_label=per_label,
        macro_f1=macro_f1,
        num_words=num_words,
    )


def _entity_of(tag: str | None) -> str:
    if tag is None or tag == OUTSIDE or tag == "":
        return OUTSIDE
    if len(tag) > 2 and tag[1] == "-" and tag[0] in "BI":
        return tag[2:]
    return tag


def confusion_matrix(
    true_labels: list[str], pred_labels: list[str], labels: list[str]
) -> np.ndarray:
    """Word-level confusion counts: ``m[i, j]`` = words whose true label is ``labels[i]`` and
    predicted label ``labels[j]``.

    Entries may be entity labels, BIO tags (``B-X``/``I-X`` count as ``X``) or ``None``/``"O"``
    for no entity; ``labels`` lists the entity labels and ``"O"`` in the order wanted for the rows
    and columns. A label missing from ``labels`` raises ``ValueError`` naming it.
    """
    if len(true_labels) != len(pred_labels):
        raise EvaluationError(
            f"confusion_matrix got {len(true_labels)} true labels but {len(pred_labels)} "
            "predicted ones; pass one label per word on both sides (flatten all receipts)"
        )
    index = {name: i for i, name in enumerate(labels)}
    if len(index) != len(labels):
        raise EvaluationError(f"confusion_matrix labels contain duplicates: {labels}")
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(true_labels, pred_labels, strict=True):
        te, pe = _entity_of(t), _entity_of(p)
        for name in (te, pe):
            if name not in index:
                raise EvaluationError(
                    f"label {name!r} is not in the confusion-matrix labels {labels}; "
                    "add it (and 'O') to labels"
                )
        matrix[index[te], index[pe]] += 1
    return matrix
