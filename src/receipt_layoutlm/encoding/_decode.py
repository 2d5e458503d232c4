"""Window outputs → one prediction per word (averaged over the windows that hold it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from receipt_layoutlm.encoding._encode import EncodedReceipt
from receipt_layoutlm.encoding._tags import OUTSIDE
from receipt_layoutlm.errors import EncodingError


@dataclass(frozen=True)
class WordPrediction:
    """The model's label for one word."""

    word_index: int
    """Index into ``EncodedReceipt.words`` (reading order)."""
    text: str
    """The word's text."""
    tag: str
    """Predicted BIO tag (``O``, ``B-X``, ``I-X``)."""
    label: str | None
    """Entity name without the BIO prefix; None for ``O``."""
    confidence: float
    """Probability of ``tag`` (averaged over windows)."""
    label_probabilities: Mapping[str, float] = field(default_factory=dict, compare=False)
    """Entity label → probability that the word belongs to it (its ``B-`` and ``I-`` tags
    summed). Field extraction uses it to find a field the argmax labels missed."""


def _as_2d(array: np.ndarray, i: int) -> np.ndarray:
    a = np.asarray(array, dtype=np.float64)
    # Runtimes return [1, S, L]; accept that as well as [S, L].
    if a.ndim == 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 2:
        raise EncodingError(
            f"window {i}: expected an array [tokens, num_labels] (or [1, tokens, num_labels]), "
            f"got shape {a.shape}"
        )
    return a


def decode_word_probabilities(
    encoded: EncodedReceipt, window_probs: Sequence[np.ndarray]
) -> np.ndarray:
    """``[num_words, num_labels]``: per word, the mean over the windows that contain it of the
    probabilities at its first sub-token in that window.

    ``window_probs[i]`` is ``[tokens, num_labels]`` for window ``i``, unpadded or padded (rows
    past the window's length are ignored).
    """
    if len(window_probs) != len(encoded.windows):
        raise EncodingError(
            f"receipt {encoded.key} has {len(encoded.windows)} windows but "
            f"{len(window_probs)} outputs were given; run the model on every window"
        )
    arrays = [_as_2d(p, i) for i, p in enumerate(window_probs)]
    num_labels = arrays[0].shape[1] if arrays else 0
    sums = np.zeros((len(encoded.words), num_labels), dtype=np.float64)
    counts = np.zeros(len(encoded.words), dtype=np.int64)
    for i, (window, probs) in enumerate(zip(encoded.windows, arrays, strict=True)):
        if probs.shape[1] != num_labels:
            raise EncodingError(
                f"window {i} has {probs.shape[1]} labels, window 0 has {num_labels}"
            )
        if probs.shape[0] < len(window.input_ids):
            raise EncodingError(
                f"window {i} has {len(window.input_ids)} tokens but its output has only "
                f"{probs.shape[0]} rows"
            )
        first = window.first_token_positions()
        if first:
            held = np.fromiter(first.keys(), dtype=np.int64, count=len(first))
            sums[held] += probs[np.fromiter(first.values(), dtype=np.int64, count=len(first))]
            counts[held] += 1
    if np.any(counts == 0):
        missing = int(np.flatnonzero(counts == 0)[0])
        raise EncodingError(
            f"receipt {encoded.key}: word {missing} is in no window; re-encode the receipt"
        )
    return sums / counts[:, None] if len(encoded.words) else sums


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def word_probabilities(encoded: EncodedReceipt, window_logits: Sequence[np.ndarray]) -> np.ndarray:
    """``[num_words, num_labels]`` tag probabilities per word exactly as
    :func:`decode_word_labels` computes them (softmax per window, mean over windows)."""
    arrays = [_as_2d(logits, i) for i, logits in enumerate(window_logits)]
    if len(arrays) == len(encoded.windows):
        # Rows past a window's tokens are padding that decoding ignores; softmax is per row,
        # so leaving them out changes nothing but the cost (a short receipt in 512 positions).
        arrays = [
            a[: len(w.input_ids)] if a.shape[0] >= len(w.input_ids) else a
            for a, w in zip(arrays, encoded.windows, strict=True)
        ]
    return decode_word_probabilities(encoded, [_softmax(a) for a in arrays])


def top2_margins(word_probs: np.ndarray) -> np.ndarray:
    """Per word, the probability of its top tag minus that of its runner-up (how far the
    argmax is from flipping); 1.0 with a single label."""
    if word_probs.shape[-1] < 2:
        return np.ones(word_probs.shape[0])
    top2 = np.sort(word_probs, axis=-1)[:, -2:]
    return top2[:, 1] - top2[:, 0]


def decode_word_labels(
    encoded: EncodedReceipt,
    window_logits: Sequence[np.ndarray],
    id2label: Mapping[int, str] | Mapping[str, str] | Sequence[str],
) -> list[WordPrediction]:
    """Softmax each window's logits, average per word (:func:`decode_word_probabilities`) and
    take the argmax: one :class:`WordPrediction` per word in reading order.

    ``id2label`` may have int or string keys (as read back from JSON), or be the label list.
    """
    word_probs = word_probabilities(encoded, window_logits)
    if isinstance(id2label, Mapping):
        names = {int(k): str(v) for k, v in id2label.items()}
    else:
        names = dict(enumerate(id2label))
    entity_columns: dict[str, list[int]] = {}
    for i, name in names.items():
        if name != OUTSIDE:
            entity_columns.setdefault(name.split("-", 1)[-1], []).append(i)
    if not len(word_probs):
        return []
    # Whole-matrix numpy, then plain Python per word: a receipt's words are decoded at once.
    best_ids = np.argmax(word_probs, axis=1)
    unknown = [b for b in best_ids.tolist() if b not in names]
    if unknown:
        raise EncodingError(
            f"label id {unknown[0]} is not in id2label ({len(names)} labels); the model and its "
            "label_map.json do not match"
        )
    confidences = word_probs[np.arange(len(word_probs)), best_ids].tolist()
    entities = list(entity_columns)
    entity_probs = (
        np.stack([word_probs[:, cols].sum(axis=1) for cols in entity_columns.values()], axis=1)
        if entities
        else np.zeros((len(word_probs), 0))
    ).tolist()
    labels = {
        i: None if tag == OUTSIDE else tag.split("-", 1)[1] if tag[:2] in ("B-", "I-") else tag
        for i, tag in names.items()
    }
    return [
        _prediction(w, word.text, names[best], labels[best], confidence,
                    dict(zip(entities, row)))  # noqa: B905 (rows are entity-long by construction)
        for w, (word, best, confidence, row) in enumerate(
            zip(encoded.words, best_ids.tolist(), confidences, entity_probs, strict=True)
        )
    ]


_new = object.__new__


def _prediction(
    word_index: int, text: str, tag: str, label: str | None, confidence: float,
    label_probabilities: dict[str, float],
) -> WordPrediction:
    # A receipt makes ~100 predictions per call, and a frozen dataclass's __init__ sets each
    # field through object.__setattr__: filling the instance dict directly halves the cost of
    # the decode loop. The instance is the same as WordPrediction(...) would make (a test
    # compares them).
    prediction = _new(WordPrediction)
    prediction.__dict__.update(
        word_index=word_index, text=text, tag=tag, label=label, confidence=confidence,
        label_probabilities=label_probabilities,
    )
    return prediction
