"""Receipt → token windows: the single place that builds model input."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.encoding._boxes import CLS_BOX, PAD_BOX, SEP_BOX, Box, normalize_box
from receipt_layoutlm.encoding._config import EncodingConfig
from receipt_layoutlm.encoding._order import reading_lines
from receipt_layoutlm.encoding._tags import OUTSIDE, bio_tags
from receipt_layoutlm.encoding._tokenizer import special_ids
from receipt_layoutlm.encoding._windows import plan_windows
from receipt_layoutlm.errors import EncodingError

IGNORE_INDEX = -100
"""Label id of tokens that carry no label (specials, non-first sub-tokens, padding)."""

_UNKNOWN_LABEL_MODES = ("error", "O")


@dataclass
class EncodedWindow:
    """One model input: at most ``max_seq_length`` tokens, [CLS] first and [SEP] last."""

    input_ids: list[int]
    """WordPiece ids."""
    attention_mask: list[int]
    """1 for real tokens, 0 for padding."""
    token_type_ids: list[int]
    """All 0 (one segment)."""
    bbox: list[tuple[int, int, int, int]]
    """Per token (x0, y0, x1, y1) in 0–1000; each sub-token carries its word's box."""
    word_index: list[int | None]
    """Per token: index into ``EncodedReceipt.words``; None for [CLS]/[SEP]/[PAD]."""
    labels: list[int] | None
    """Per token label id (first sub-token of a word), -100 elsewhere; None at inference."""

    def __len__(self) -> int:
        return len(self.input_ids)

    def padded(self, length: int, pad_token_id: int) -> EncodedWindow:
        """A copy padded with [PAD] (mask 0, box (0,0,0,0), label -100) to ``length`` tokens."""
        extra = length - len(self.input_ids)
        if extra < 0:
            raise EncodingError(
                f"window has {len(self.input_ids)} tokens, cannot pad to {length}; encode with "
                f"max_seq_length <= {length}"
            )
        return EncodedWindow(
            input_ids=self.input_ids + [int(pad_token_id)] * extra,
            attention_mask=self.attention_mask + [0] * extra,
            token_type_ids=self.token_type_ids + [0] * extra,
            bbox=self.bbox + [PAD_BOX] * extra,
            word_index=self.word_index + [None] * extra,
            labels=None if self.labels is None else self.labels + [IGNORE_INDEX] * extra,
        )

    def as_arrays(self) -> dict[str, np.ndarray]:
        """Batch-of-one int64 arrays: ``input_ids``/``attention_mask``/``token_type_ids``
        ``[1, S]`` and ``bbox`` ``[1, S, 4]``; cast for runtimes that want int32 (Core ML)."""
        n = len(self.input_ids)
        return {
            "input_ids": np.asarray(self.input_ids, dtype=np.int64).reshape(1, n),
            "attention_mask": np.asarray(self.attention_mask, dtype=np.int64).reshape(1, n),
            "bbox": np.asarray(self.bbox, dtype=np.int64).reshape(1, n, 4),
            "token_type_ids": np.asarray(self.token_type_ids, dtype=np.int64).reshape(1, n),
        }

    def first_token_positions(self) -> dict[int, int]:
        """word index → position of its first sub-token in this window."""
        first: dict[int, int] = {}
        for pos, w in enumerate(self.word_index):
            if w is not None and w not in first:
                first[w] = pos
        return first


@dataclass
class EncodedReceipt:
    """A receipt in reading order with its windows; decode maps window outputs back to words."""

    key: str
    """The document's key."""
    words: list[DocWord]
    """Words in reading order; ``EncodedWindow.word_index`` points into this list."""
    boxes: list[tuple[int, int, int, int]]
    """Normalised 0–1000 box per word (same order as ``words``)."""
    tags: list[str] | None
    """BIO tag per word (after merges and unknown-label handling) when labels were asked for
    (``label2id``) or any word carries a label; else None."""
    windows: list[EncodedWindow]
    """Token windows covering every word at least once."""
    source_index: list[int] = field(default_factory=list)
    """Per word: its index in the original ``ReceiptDocument.words``."""
    line_index: list[int] = field(default_factory=list)
    """Per word: its reading-order line (0-based), from OCR line ids or clustered lines alike,
    so field extraction can stop single-line fields at line breaks either way."""

    @property
    def num_words(self) -> int:
        return len(self.words)


def _word_ids(tokenizer: Any, texts: list[str], unk_id: int, budget: int) -> list[list[int]]:
    # Each word is tokenised on its own (no special tokens): for WordPiece this equals
    # is_split_into_words=True, and it is what the device side can reproduce word by word.
    if not texts:
        return []
    encoded = tokenizer(texts, add_special_tokens=False)["input_ids"]
    # A word of only whitespace/control characters has no sub-token; it still needs one to carry
    # its box and label. A word longer than a window is truncated so it fits in one.
    return [list(ids[:budget]) if ids else [unk_id] for ids in encoded]


@dataclass
class _ReadingOrder:
    """A receipt's words in reading order with what each carries along."""

    order: list[int]
    """Per word: its index in the original ``ReceiptDocument.words``."""
    line_index: list[int]
    """Per word: its reading-order line (0-based)."""
    words: list[DocWord]
    """The words themselves, in reading order."""
    boxes: list[Box]
    """Normalised 0–1000 box per word, in reading order."""


def _reading_order(doc: ReceiptDocument, config: EncodingConfig) -> _ReadingOrder:
    # Boxes are normalised in document order, then permuted: the box of a word never depends on
    # where the reading order puts it.
    boxes_in_doc_order = [
        normalize_box(
            w.corners, doc.width, doc.height, origin=doc.origin, normalized=doc.normalized
        )
        for w in doc.words
    ]
    lines = reading_lines(doc, line_overlap=config.line_overlap)
    order = [i for line in lines for i in line]
    return _ReadingOrder(
        order=order,
        line_index=[n for n, line in enumerate(lines) for _ in line],
        words=[doc.words[i] for i in order],
        boxes=[boxes_in_doc_order[i] for i in order],
    )


def _word_tags(
    doc_key: str,
    words: list[DocWord],
    label2id: Mapping[str, int] | None,
    merges: Mapping[str, str] | None,
    unknown_label: str,
) -> tuple[list[str] | None, list[int] | None]:
    """BIO tag per word (None when nothing asks for labels) and, with ``label2id``, its id."""
    tags: list[str] | None = None
    if label2id is not None or any(w.label is not None for w in words):
        tags = bio_tags([w.label for w in words], merges)
    if label2id is None:
        return tags, None
    if OUTSIDE not in label2id:
        raise EncodingError(f"label2id has no {OUTSIDE!r}; build it from label_list(...)")
    assert tags is not None
    for i, tag in enumerate(tags):
        if tag in label2id:
            continue
        if unknown_label == OUTSIDE:
            tags[i] = OUTSIDE
            continue
        raise EncodingError(
            f"receipt {doc_key}: word {words[i].text!r} has label {words[i].label!r} "
            f"(tag {tag!r}) that is not in the label map; add it, merge it "
            "(merges=...) or pass unknown_label='O'"
        )
    return tags, [int(label2id[tag]) for tag in tags]


def _window(
    span: tuple[int, int],
    sub_tokens: list[list[int]],
    boxes: list[Box],
    word_label_ids: list[int] | None,
    ids: Mapping[str, int],
) -> EncodedWindow:
    """The words ``span`` = [start, end) as one window between [CLS] and [SEP]."""
    input_ids = [ids["cls"]]
    bbox: list[Box] = [CLS_BOX]
    word_index: list[int | None] = [None]
    labels: list[int] | None = None if word_label_ids is None else [IGNORE_INDEX]
    for w in range(*span):
        n = len(sub_tokens[w])
        input_ids.extend(sub_tokens[w])
        bbox.extend([boxes[w]] * n)
        word_index.extend([w] * n)
        if labels is not None and word_label_ids is not None:
            labels.append(word_label_ids[w])
            labels.extend([IGNORE_INDEX] * (n - 1))
    input_ids.append(ids["sep"])
    bbox.append(SEP_BOX)
    word_index.append(None)
    if labels is not None:
        labels.append(IGNORE_INDEX)
    return EncodedWindow(
        input_ids=input_ids,
        attention_mask=[1] * len(input_ids),
        token_type_ids=[0] * len(input_ids),
        bbox=bbox,
        word_index=word_index,
        labels=labels,
    )


def encode_receipt(
    doc: ReceiptDocument,
    tokenizer: Any,
    config: EncodingConfig = EncodingConfig(),
    *,
    label2id: Mapping[str, int] | None = None,
    merges: Mapping[str, str] | None = None,
    unknown_label: str = "error",
) -> EncodedReceipt:
    """Encode one receipt into windows of at most ``config.max_seq_length`` tokens.

    Words go in reading order (:func:`order_words`), each sub-token carries its word's box,
    windows are cut at word boundaries and overlap by about ``config.stride`` tokens (see
    :func:`plan_windows`). A word with more than ``max_seq_length - 2`` sub-tokens is truncated
    to that many. With ``label2id``, the first sub-token of each word carries the id of its BIO
    tag (:func:`bio_tags` over the original labels, renamed by ``merges``), the others -100; a
    tag missing from ``label2id`` raises :class:`EncodingError`, or becomes ``O`` when
    ``unknown_label == "O"``.
    """
    if unknown_label not in _UNKNOWN_LABEL_MODES:
        raise EncodingError(
            f"unknown_label must be one of {_UNKNOWN_LABEL_MODES}, got {unknown_label!r}"
        )
    ids = special_ids(tokenizer)
    budget = config.max_seq_length - 2
    reading = _reading_order(doc, config)
    tags, word_label_ids = _word_tags(doc.key, reading.words, label2id, merges, unknown_label)
    sub_tokens = _word_ids(tokenizer, [w.text for w in reading.words], ids["unk"], budget)
    windows = [
        _window(span, sub_tokens, reading.boxes, word_label_ids, ids)
        for span in plan_windows([len(t) for t in sub_tokens], budget, config.stride)
    ]
    return EncodedReceipt(
        key=doc.key, words=reading.words, boxes=reading.boxes, tags=tags, windows=windows,
        source_index=reading.order, line_index=reading.line_index,
    )
