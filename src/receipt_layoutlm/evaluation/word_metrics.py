"""Per-epoch evaluation at WORD level: window logits → word tags (the encoding's decoding) →
seqeval entity metrics, so a word split into several sub-tokens counts once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from receipt_layoutlm.data import EncodedSet

if TYPE_CHECKING:
    from receipt_layoutlm.encoding import WordPrediction
    from receipt_layoutlm.evaluation.metrics import EntityMetrics


@dataclass
class WordLevelResult:
    """Word tags of every dev receipt (masked words removed) and their entity metrics."""

    true_tags: list[list[str]]
    """Ground-truth BIO tags per receipt."""
    pred_tags: list[list[str]]
    """Predicted BIO tags per receipt."""
    metrics: EntityMetrics
    """Entity metrics of ``pred_tags`` against ``true_tags``."""
    predictions: list[list[WordPrediction]] = field(default_factory=list)
    """``WordPrediction`` lists per receipt (all words, masked ones included)."""


def decode_windows(
    encoded: EncodedSet, window_logits: Sequence[np.ndarray], label_list: Sequence[str]
) -> WordLevelResult:
    """``window_logits`` in dataset order (receipt by receipt, window by window), each either
    exactly the window's length or padded (extra rows ignored)."""
    from receipt_layoutlm.encoding import decode_word_labels
    from receipt_layoutlm.evaluation import entity_metrics

    true_tags: list[list[str]] = []
    pred_tags: list[list[str]] = []
    predictions: list[list[WordPrediction]] = []
    cursor = 0
    for receipt, masked in zip(encoded.receipts, encoded.masked, strict=True):
        logits = []
        for window in receipt.windows:
            logits.append(np.asarray(window_logits[cursor])[: len(window.input_ids)])
            cursor += 1
        words = decode_word_labels(receipt, logits, list(label_list))
        predictions.append(words)
        keep = [i for i in range(receipt.num_words) if i not in masked]
        assert receipt.tags is not None
        true_tags.append([receipt.tags[i] for i in keep])
        pred_tags.append([words[i].tag for i in keep])
    if cursor != len(window_logits):
        raise ValueError(
            f"got logits for {len(window_logits)} windows but the dev set has {cursor}; the eval "
            "dataset must hold every dev window in order (no downsampling)"
        )
    return WordLevelResult(true_tags, pred_tags, entity_metrics(true_tags, pred_tags), predictions)


class WordLevelMetrics:
    """``compute_metrics`` for the HF Trainer: word-level entity precision/recall/F1, per label
    (``f1/<LABEL>``…) and token accuracy."""

    def __init__(self, encoded: EncodedSet, label_list: Sequence[str]) -> None:
        self.encoded = encoded
        self.label_list = list(label_list)
        self.last: WordLevelResult | None = None

    def __call__(self, eval_prediction: Any) -> dict[str, float]:
        logits = eval_prediction.predictions
        if isinstance(logits, tuple):
            logits = logits[0]
        result = decode_windows(self.encoded, list(np.asarray(logits)), self.label_list)
        self.last = result
        m = result.metrics
        out = {
            "precision": m.precision,
            "recall": m.recall,
            "f1": m.f1,
            "accuracy": m.accuracy,
            "macro_f1": m.macro_f1,
        }
        for name, scores in m.per_label.items():
            out[f"precision/{name}"] = scores.precision
            out[f"recall/{name}"] = scores.recall
            out[f"f1/{name}"] = scores.f1
        return out
