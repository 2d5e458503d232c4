"""Per-dataset label masks: one model trained on several datasets that annotate different labels.

What "a label a dataset does not annotate is ignored" means here. Dataset *d* marks the labels
``L_d`` (SROIE: company, address, date, total); the joint model predicts the union. In a receipt
of *d*:

- a word labelled with one of ``L_d`` is that label: the usual cross-entropy over every label,
  so the model also learns it is no phone number (labels are exclusive);
- a word labelled O only says "none of ``L_d``": it may be O or any label *d* never marks (a
  SROIE word labelled O may be a phone number or a line item). Its loss is
  ``-log(p(O) + Σ p(u))`` over the unannotated tags ``u``: the model is rewarded for O and for
  every unannotated label alike, so those labels are neither taught nor punished there — their
  share of the probability is ignored, not pushed to zero.

The same rule reads the model back for one dataset (:func:`fold_unannotated`): the
probabilities of the labels *d* does not annotate are added to O, so an evaluation of *d*'s
receipts scores only *d*'s labels, with nothing it could not have annotated counted against it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from receipt_layoutlm.errors import DatasetError

if TYPE_CHECKING:
    from receipt_layoutlm.encoding import EncodedReceipt
    from receipt_layoutlm.evaluation.word_metrics import WordLevelMetrics, WordLevelResult
    from receipt_layoutlm.runtime import Runtime

MASKED_LOGIT = -1.0e4
"""Logit of a label folded into O: finite (no NaN in a softmax of a row that is all masked),
yet exp(-1e4) is 0 in float32."""


def unannotated_tags(labels: Sequence[str], annotated: Sequence[str]) -> list[bool]:
    """Per tag of ``labels`` (``O``, ``B-X``, ``I-X`` …): True when its entity is not one of
    ``annotated`` (bare entity names); O is never unannotated."""
    keep = set(annotated)
    return [tag != "O" and tag[2:] not in keep for tag in labels]


@dataclass(frozen=True)
class DatasetLabelMasks:
    """The unannotated tags of each dataset of a mix, as the loss and the metrics read them."""

    names: tuple[str, ...]
    """Dataset names, sorted: the ``dataset`` column of a window is an index into them."""
    unannotated: tuple[tuple[bool, ...], ...]
    """Per dataset, per tag of the label list: True when the dataset never annotates it."""
    outside_id: int
    """Index of O in the label list."""

    @classmethod
    def from_label_sets(
        cls, labels: Sequence[str], label_sets: Mapping[str, Sequence[str]]
    ) -> DatasetLabelMasks:
        names = tuple(sorted(label_sets))
        rows = tuple(tuple(unannotated_tags(labels, label_sets[n])) for n in names)
        return cls(names=names, unannotated=rows, outside_id=list(labels).index("O"))

    def fold(self, logits: np.ndarray, dataset: int) -> np.ndarray:
        """``logits`` ``[tokens, labels]`` of a receipt of dataset index ``dataset``, read with
        that dataset's labels only (:func:`fold_unannotated`)."""
        return fold_unannotated(logits, self.unannotated[dataset], self.outside_id)


def fold_unannotated(
    logits: np.ndarray, unannotated: Sequence[bool], outside_id: int
) -> np.ndarray:
    """Logits whose softmax puts the probability of every ``unannotated`` tag onto O: O's logit
    becomes the log-sum-exp of O's and theirs, theirs :data:`MASKED_LOGIT`; the annotated tags'
    probabilities are unchanged."""
    mask = np.asarray(unannotated, dtype=bool)
    if not mask.any():
        return logits
    logits = np.asarray(logits, dtype=np.float32)
    folded = logits.copy()
    pooled = np.concatenate([logits[..., [outside_id]], logits[..., mask]], axis=-1)
    top = pooled.max(axis=-1, keepdims=True)
    folded[..., outside_id] = (top + np.log(np.exp(pooled - top).sum(-1, keepdims=True)))[..., 0]
    folded[..., mask] = MASKED_LOGIT
    return folded


def masked_token_loss(
    logits: Any, labels: Any, unannotated: Any, outside_id: int, *, reduction: str = "mean"
) -> Any:
    """Token cross-entropy where O absorbs the unannotated tags (module docstring).

    ``logits`` ``[batch, tokens, labels]``, ``labels`` ``[batch, tokens]`` (-100 = no loss),
    ``unannotated`` ``[batch, labels]`` bool: the row of each window's dataset. Per token the
    loss is ``logsumexp(all logits) - logsumexp(logits of the target set)``, the target set
    being the token's label, plus the unannotated tags when that label is O. ``reduction``
    ``mean`` (over counted tokens) or ``sum``.
    """
    import torch

    counted = labels != -100
    target = torch.nn.functional.one_hot(labels.clamp(min=0), logits.shape[-1]).bool()
    is_outside = (labels == outside_id).unsqueeze(-1)
    target = target | (is_outside & unannotated.unsqueeze(1).bool())
    logits = logits.float()
    loss = torch.logsumexp(logits, dim=-1) - torch.logsumexp(
        logits.masked_fill(~target, float("-inf")), dim=-1
    )
    loss = loss[counted]
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / counted.sum().clamp(min=1)


class FoldedWordMetrics:
    """The Trainer's ``compute_metrics`` for a mix: each dev window's logits folded with its
    dataset's mask (:meth:`DatasetLabelMasks.fold`) before the word-level metrics, so a SROIE dev
    receipt is not charged for a phone number SROIE never marks. Wraps
    ``evaluation.word_metrics.WordLevelMetrics`` (``last`` reads through)."""

    def __init__(
        self, inner: WordLevelMetrics, masks: DatasetLabelMasks, window_datasets: Sequence[int]
    ):
        self.inner = inner
        self.masks = masks
        self.window_datasets = list(window_datasets)
        """Dataset index of each dev window, in the eval dataset's order."""

    @property
    def last(self) -> WordLevelResult | None:
        return self.inner.last

    def __call__(self, eval_prediction: Any) -> dict[str, float]:
        from transformers import EvalPrediction

        logits = eval_prediction.predictions
        if isinstance(logits, tuple):
            logits = logits[0]
        folded = np.stack(
            [self.masks.fold(np.asarray(w), d) for w, d in zip(logits, self.window_datasets,
                                                                strict=True)]
        )
        return self.inner(EvalPrediction(predictions=folded, label_ids=eval_prediction.label_ids))


DATASET_LABELS_KEY = "dataset_labels"
"""``checkpoint.json`` key of a mix's ``{dataset: [entity labels it annotates]}``."""


def recorded_label_set(model_dir: str | Path, name: str) -> list[str]:
    """The entity labels dataset ``name`` annotates, as the checkpoint at ``model_dir`` records
    them; DatasetError naming the recorded datasets when it holds no such set."""
    from receipt_layoutlm.checkpoint import read_meta

    recorded = read_meta(model_dir).get(DATASET_LABELS_KEY) or {}
    if not isinstance(recorded, dict) or not recorded:
        raise DatasetError(
            f"--label-set {name!r}: the model {model_dir} was not trained on a --mix of datasets "
            "(its checkpoint.json records no dataset_labels)"
        )
    if name not in recorded:
        raise DatasetError(
            f"--label-set {name!r}: unknown dataset; the model was trained on "
            f"{', '.join(sorted(recorded))}"
        )
    return [str(label) for label in recorded[name]]


class LabelSetRuntime:
    """A runtime read with one dataset's labels: its window logits folded
    (:func:`fold_unannotated`), everything else (encoding, labels, total picker) the wrapped
    runtime's, so ``prediction.predict_document`` and evaluation run unchanged."""

    def __init__(self, runtime: Runtime, annotated: Sequence[str]) -> None:
        self._runtime = runtime
        self.annotated = list(annotated)
        self._mask = unannotated_tags(runtime.labels, self.annotated)
        self._outside = list(runtime.labels).index("O")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runtime, name)

    def predict_windows(self, encoded: EncodedReceipt) -> list[np.ndarray]:
        return [
            fold_unannotated(w, self._mask, self._outside)
            for w in self._runtime.predict_windows(encoded)
        ]

    def describe(self) -> dict[str, Any]:
        base = self._runtime.describe() if hasattr(self._runtime, "describe") else {}
        return {**base, "label_set": self.annotated}
