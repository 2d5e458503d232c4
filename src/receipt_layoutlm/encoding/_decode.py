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
    arrays = [_as_2d(p, i) for i, p in enumerate(window_probs)]
    firsts = _first_tokens(encoded, arrays)
    return _mean_over_windows(
        encoded, firsts, [a[rows] for a, (_, rows) in zip(arrays, firsts, strict=True)]
    )


def _first_tokens(
    encoded: EncodedReceipt, arrays: Sequence[np.ndarray]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per window, the words it holds and the row of each one's first sub-token, after checking
    that the outputs fit the windows."""
    if len(arrays) != len(encoded.windows):
        raise EncodingError(
            f"receipt {encoded.key} has {len(encoded.windows)} windows but "
            f"{len(arrays)} outputs were given; run the model on every window"
        )
    num_labels = arrays[0].shape[1] if arrays else 0
    firsts = []
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
        firsts.append((
            np.fromiter(first.keys(), dtype=np.int64, count=len(first)),
            np.fromiter(first.values(), dtype=np.int64, count=len(first)),
        ))
    return firsts


def _mean_over_windows(
    encoded: EncodedReceipt,
    firsts: Sequence[tuple[np.ndarray, np.ndarray]],
    window_rows: Sequence[np.ndarray],
) -> np.ndarray:
    """Per word the mean of its first sub-token's rows (``window_rows[i]``: window ``i``'s rows
    at ``firsts[i]``'s positions) over the windows holding it."""
    num_words = len(encoded.words)
    num_labels = window_rows[0].shape[1] if window_rows else 0
    if len(window_rows) == 1 and len(firsts[0][0]) == num_words:
        # One window holding every word (most receipts): the mean of one value is the value
        # (0 + p and p / 1 are exact), so the rows only need putting in word order.
        out = np.empty((num_words, num_labels), dtype=np.float64)
        out[firsts[0][0]] = window_rows[0]
        return out
    sums = np.zeros((num_words, num_labels), dtype=np.float64)
    counts = np.zeros(num_words, dtype=np.int64)
    for (held, _), rows in zip(firsts, window_rows, strict=True):
        if len(held):
            sums[held] += rows
            counts[held] += 1
    if np.any(counts == 0):
        missing = int(np.flatnonzero(counts == 0)[0])
        raise EncodingError(
            f"receipt {encoded.key}: word {missing} is in no window; re-encode the receipt"
        )
    return sums / counts[:, None] if num_words else sums


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def word_probabilities(encoded: EncodedReceipt, window_logits: Sequence[np.ndarray]) -> np.ndarray:
    """``[num_words, num_labels]`` tag probabilities per word exactly as
    :func:`decode_word_labels` computes them (softmax per window, mean over windows)."""
    arrays = [_as_2d(logits, i) for i, logits in enumerate(window_logits)]
    firsts = _first_tokens(encoded, arrays)
    # Softmax is per row and only each word's first sub-token row is read: taking those rows
    # first gives the same values for a fraction of the rows (padding and later sub-tokens are
    # most of a window).
    return _mean_over_windows(
        encoded, firsts, [_softmax(a[rows]) for a, (_, rows) in zip(arrays, firsts, strict=True)]
    )


def top2_margins(word_probs: np.ndarray) -> np.ndarray:
    """Per word, the probability of its top tag minus that of its runner-up (how far the
    argmax is from flipping); 1.0 with a single label."""
    if word_probs.shape[-1] < 2:
        return np.ones(word_probs.shape[0])
    top2 = np.sort(word_probs, axis=-1)[:, -2:]
    return top2[:, 1] - top2[:, 0]


_new = object.__new__
_set = object.__setattr__


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
    best_ids = word_probs.argmax(axis=1).tolist()
    if not names.keys() >= set(best_ids):
        unknown = next(b for b in best_ids if b not in names)
        raise EncodingError(
            f"label id {unknown} is not in id2label ({len(names)} labels); the model and its "
            "label_map.json do not match"
        )
    # The largest value of a row is the one at its argmax.
    confidences = word_probs.max(axis=1).tolist()
    entities = list(entity_columns)
    # Per entity one list over the words, then one row per word: a B-/I- pair summed as two
    # columns is the row sum numpy would give (0 + b + i), without a gather per entity.
    columns = word_probs.T.tolist()
    per_entity = [
        [b + i for b, i in zip(columns[cols[0]], columns[cols[1]], strict=True)]
        if len(cols) == 2
        else columns[cols[0]] if len(cols) == 1 else word_probs[:, cols].sum(axis=1).tolist()
        for cols in entity_columns.values()
    ]
    entity_probs = zip(*per_entity, strict=True) if entities else [()] * len(best_ids)
    labels = {
        i: None if tag == OUTSIDE else tag.split("-", 1)[1] if tag[:2] in ("B-", "I-") else tag
        for i, tag in names.items()
    }
    # A receipt makes ~100 predictions per call, and a frozen dataclass's __init__ sets each
    # field through object.__setattr__: giving each instance its filled dict directly costs a
    # third of that. The instance is the same as WordPrediction(...) would make (its
    # fields and ``vars`` are those of ``WordPrediction(...)``, which a test checks).
    out = []
    for w, (word, best, confidence, row) in enumerate(
        zip(encoded.words, best_ids, confidences, entity_probs, strict=True)
    ):
        prediction = _new(WordPrediction)
        _set(prediction, "__dict__", {
            "word_index": w, "text": word.text, "tag": names[best], "label": labels[best],
            "confidence": confidence,
            "label_probabilities": dict(zip(entities, row)),  # noqa: B905 (entity-long rows)
        })
        out.append(prediction)
    return out
