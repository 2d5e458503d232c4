"""Key–value pairing: a printed key decides the class of the value beside it.

Label sets that name printed keys as well as their values (WildReceipt's ``--labels native``:
``TOTAL_KEY``/``TOTAL_VALUE``, ``TAX_KEY``/``TAX_VALUE``, ``TEL_KEY``/``TEL_VALUE``…) let the
model read ``Subtotal``, ``Tax`` and ``Total`` as keys far better than it tells the three
amounts printed beside them apart: the amounts look alike, the keys do not. On WildReceipt's
training receipts the first word holding a digit to the right of a key, on the key's printed
row, is that key's value for 519 of 563 keys (92 %). So after decoding, that word takes the
value label of the key the model read, unless the model reads it as a key itself or as the
value of a field printed without a key (a store name, an address). What it replaces: another
paired value (``TAX_VALUE`` for ``TOTAL_VALUE``), an unpaired non-field label (``OTHERS``,
``IGNORE``) or ``O``. The run of words the model gave the same label as that word is
relabelled with it (a value read as two words).

A run of key words is one key, read at its last word (``Sub`` ``Total``); a run the model
splits between two keys (``Total[TOTAL_KEY] Due[TAX_KEY]``, a photo's misread) pairs nothing,
and a value is looked for only up to the next key on the line (``Item[PROD_ITEM_KEY]
Total[TOTAL_KEY] 161.95``: the total's). Lines are the encoding's reading-order lines
(``EncodedReceipt.line_index``: the OCR's lines, which follow a photo's skew, else clustered
rows), read in the encoding's reading order (left to right within a line: nothing here orders
words again); on the 30 WildReceipt sample photos printed rows (vertical overlap of upright
boxes) paired words of neighbouring lines.

A relabelled word's confidence is the model's own probability of its new label, so a review
sees how sure the model was of it. Label sets without a ``X_KEY``/``X_VALUE`` pair (SROIE, the
core labels) are returned unchanged.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

from receipt_layoutlm.encoding._decode import WordPrediction
from receipt_layoutlm.encoding._tags import OUTSIDE

KEY_SUFFIX = "_KEY"
"""A label naming a printed key ends with this."""
VALUE_SUFFIX = "_VALUE"
"""The value label of key ``X_KEY`` is ``X_VALUE``."""
_DIGIT = re.compile(r"\d")


class _Labels(NamedTuple):
    """What pairing reads of a model's tags, read once per tag set."""

    pairs: dict[str, str]
    """Key label → its value label."""
    kept: frozenset[str]
    """Labels a key's value never replaces: keys, and values of fields printed without one."""
    bio: bool
    """Whether the tags carry ``B-``/``I-`` prefixes (a relabelled word's tag does too)."""


@functools.lru_cache(maxsize=32)
def _labels(tags: tuple[str, ...]) -> _Labels:
    entities = {tag[2:] if tag[:2] in ("B-", "I-") else tag for tag in tags if tag != OUTSIDE}
    pairs = {
        name: name[: -len(KEY_SUFFIX)] + VALUE_SUFFIX
        for name in sorted(entities)
        if name.endswith(KEY_SUFFIX) and name[: -len(KEY_SUFFIX)] + VALUE_SUFFIX in entities
    }
    kept = frozenset(
        name for name in entities
        if name.endswith(KEY_SUFFIX)
        or (name.endswith(VALUE_SUFFIX) and name not in pairs.values())
    )
    return _Labels(pairs, kept, any(tag[:2] == "B-" for tag in tags))


def key_value_pairs(tags: Sequence[str]) -> dict[str, str]:
    """Key label → value label, for every ``X`` whose ``X_KEY`` and ``X_VALUE`` are both among
    the model's ``tags`` (BIO tags or plain labels); empty when there are none."""
    return dict(_labels(tuple(tags)).pairs)


def add_keys(
    predictions: Sequence[WordPrediction],
    tags: Sequence[str],
    key_of: Callable[[str], str | None],
) -> list[WordPrediction]:
    """``predictions`` with each word the model left outside every key and value (``O``, or a
    label that is neither, such as ``OTHERS``) relabelled as the key ``key_of`` names for its
    text, when that key has a value label among the model's ``tags`` (a key pairing can use);
    consecutive words given one key make one run (``B-`` then ``I-``). Its confidence is the
    model's own probability of the key. Unchanged words are the same objects."""
    pairs, kept, bio = _labels(tuple(tags))
    out = list(predictions)
    if not pairs:
        return out
    named = kept | frozenset(pairs.values())
    for n, prediction in enumerate(predictions):
        if prediction.label in named:
            continue
        key = key_of(prediction.text)
        if key in pairs:
            begins = n == 0 or out[n - 1].label != key
            out[n] = _relabelled(prediction, key, begins=begins, bio=bio)
    return out


def pair_keys_with_values(
    predictions: Sequence[WordPrediction],
    lines: Sequence[int],
    tags: Sequence[str],
) -> list[WordPrediction]:
    """``predictions`` in the encoding's reading order with each key's value relabelled as the
    module says. ``lines`` are their line numbers (``EncodedReceipt.line_index``), ``tags`` the
    model's tags. Unchanged words are the same
    objects; a model without key/value pairs gets its predictions back as they are."""
    pairs, kept, bio = _labels(tuple(tags))
    if not pairs or not predictions:
        return list(predictions)
    out = list(predictions)
    if len(lines) != len(out):
        raise ValueError(
            f"{len(out)} predictions and {len(lines)} line numbers: one each per word"
        )
    by_line: dict[int, list[int]] = {}
    for position, line in enumerate(lines):
        by_line.setdefault(line, []).append(position)
    for members in by_line.values():
        if not any(predictions[p].label in pairs for p in members):
            continue
        labels = [predictions[p].label for p in members]
        keys = [label is not None and label.endswith(KEY_SUFFIX) for label in labels]
        for n, key in enumerate(labels):
            # A run of key words is one key ("Sub" "Total"), read at its last word; a run
            # whose words the model gives different keys ("Total[TOTAL] Due[TAX]") is left.
            if key not in pairs or (n + 1 < len(labels) and keys[n + 1]):
                continue
            start = n
            while start > 0 and keys[start - 1]:
                start -= 1
            if any(label != key for label in labels[start:n]):
                continue
            # The value is the first word with a digit before the next key on the line.
            found = next(
                (m for m in range(n + 1, len(members))
                 if keys[m] or _DIGIT.search(predictions[members[m]].text)),
                None,
            )
            if (found is None or keys[found] or labels[found] == pairs[key]
                    or labels[found] in kept):
                continue
            stop = found
            while stop < len(members) and labels[stop] == labels[found]:
                stop += 1
            for m in range(found, stop):
                out[members[m]] = _relabelled(
                    predictions[members[m]], pairs[key], begins=m == found, bio=bio
                )
    return out


def _relabelled(
    prediction: WordPrediction, label: str, *, begins: bool, bio: bool
) -> WordPrediction:
    tag = (("B-" if begins else "I-") + label) if bio else label
    return WordPrediction(
        word_index=prediction.word_index,
        text=prediction.text,
        tag=tag,
        label=label,
        confidence=float(prediction.label_probabilities.get(label, 0.0)),
        label_probabilities=prediction.label_probabilities,
    )
