"""Documents → encoded windows → Hugging Face datasets (one row per window)."""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from receipt_layoutlm.data._config import DatasetConfig, parse_mix
from receipt_layoutlm.data._load import WordKey
from receipt_layoutlm.data._split import Split
from receipt_layoutlm.document import ReceiptDocument
from receipt_layoutlm.encoding import (
    IGNORE_INDEX,
    EncodedReceipt,
    EncodingConfig,
    encode_receipt,
)
from receipt_layoutlm.errors import DatasetError

log = logging.getLogger(__name__)

MODEL_COLUMNS = ("input_ids", "attention_mask", "token_type_ids", "bbox", "labels")
"""Columns the model consumes; every other column (``key``, ``window``, ``length``) is
bookkeeping the collator drops."""


def entity_labels(
    docs: Iterable[ReceiptDocument], config: DatasetConfig = DatasetConfig()
) -> list[str]:
    """Sorted entity labels present in ``docs`` after merges and the allowed-labels filter."""
    found: set[str] = set()
    for doc in docs:
        for word in doc.words:
            name = config.merged_label(word.label)
            if name is not None:
                found.add(name)
    return sorted(found)


def _apply_allowed(doc: ReceiptDocument, config: DatasetConfig) -> ReceiptDocument:
    if not config.allowed_labels:
        return doc
    words = [
        w
        if w.label is None or config.merged_label(w.label) is not None
        else dataclasses.replace(w, label=None)
        for w in doc.words
    ]
    return dataclasses.replace(doc, words=words)


@dataclass
class EncodedSet:
    """Encoded receipts of one split side plus the words left out of loss and metrics."""

    receipts: list[EncodedReceipt]
    """One per document, in document order."""
    masked: list[set[int]]
    """Per receipt: indices (into ``EncodedReceipt.words``) of unverified words under
    ``unverified=mask``; empty sets otherwise."""
    datasets: list[int] | None = None
    """Per receipt: the index of its ``--mix`` dataset in the sorted dataset names (the
    ``dataset`` column of its windows, which selects its loss mask); None outside a mix."""


def encode_documents(
    docs: Sequence[ReceiptDocument],
    tokenizer: Any,
    encoding_config: EncodingConfig,
    label_list: Sequence[str],
    config: DatasetConfig = DatasetConfig(),
) -> EncodedSet:
    """Encode each document with labels (merges → BIO over the original labels, allowed-labels
    filter); under ``unverified=mask`` unverified words get -100 at their first sub-token."""
    merges = config.merges
    label2id = {name: i for i, name in enumerate(label_list)}
    unverified: dict[str, set[WordKey]] = getattr(docs, "unverified", {}) or {}
    names = sorted(parse_mix(config.mix)) if config.mix else []
    dataset_of: dict[str, str] = getattr(docs, "datasets", {}) or {}
    receipts: list[EncodedReceipt] = []
    masked: list[set[int]] = []
    for doc in docs:
        encoded = encode_receipt(
            _apply_allowed(doc, config),
            tokenizer,
            encoding_config,
            label2id=label2id,
            merges=merges,
            unknown_label="O",
        )
        hidden: set[int] = set()
        if config.unverified == "mask" and doc.key in unverified:
            keys = unverified[doc.key]
            hidden = {i for i, w in enumerate(encoded.words) if (w.line_id, w.word_id) in keys}
            for window in encoded.windows:
                assert window.labels is not None
                for pos, w in enumerate(window.word_index):
                    if w in hidden:
                        window.labels[pos] = IGNORE_INDEX
        receipts.append(encoded)
        masked.append(hidden)
    tagged = names and all(d.key in dataset_of for d in docs)
    datasets = [names.index(dataset_of[d.key]) for d in docs] if tagged else None
    return EncodedSet(receipts=receipts, masked=masked, datasets=datasets)


def window_rows(
    encoded: EncodedSet,
    *,
    downsample_empty: float = 1.0,
    outside_id: int = 0,
    seed: int = 42,
) -> list[dict[str, Any]]:
    """One row per window (model columns + ``key``, ``window``, ``length``, and ``dataset`` in a
    mix); windows whose labels hold no entity are kept with probability ``downsample_empty``
    (seeded)."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    dropped = 0
    for number, receipt in enumerate(encoded.receipts):
        for index, window in enumerate(receipt.windows):
            labels = list(window.labels or [])
            empty = all(v in (outside_id, IGNORE_INDEX) for v in labels)
            if empty and downsample_empty < 1.0 and rng.random() >= downsample_empty:
                dropped += 1
                continue
            rows.append(
                {
                    "input_ids": list(window.input_ids),
                    "attention_mask": list(window.attention_mask),
                    "token_type_ids": list(window.token_type_ids),
                    "bbox": [list(b) for b in window.bbox],
                    "labels": labels,
                    "key": receipt.key,
                    "window": index,
                    "length": len(window.input_ids),
                    **({} if encoded.datasets is None else {"dataset": encoded.datasets[number]}),
                }
            )
    if dropped:
        log.info("dropped %d of %d entity-free windows", dropped, dropped + len(rows))
    return rows


def rows_to_dataset(rows: list[dict[str, Any]]) -> Any:
    """A ``datasets.Dataset`` of window rows (empty-safe); rows of a mix also carry the
    ``dataset`` column."""
    import datasets

    mixed = {"dataset": datasets.Value("int32")} if rows and "dataset" in rows[0] else {}
    features = datasets.Features(
        {
            **mixed,
            "input_ids": datasets.Sequence(datasets.Value("int32")),
            "attention_mask": datasets.Sequence(datasets.Value("int8")),
            "token_type_ids": datasets.Sequence(datasets.Value("int8")),
            "bbox": datasets.Sequence(datasets.Sequence(datasets.Value("int16"), length=4)),
            "labels": datasets.Sequence(datasets.Value("int32")),
            "key": datasets.Value("string"),
            "window": datasets.Value("int32"),
            "length": datasets.Value("int32"),
        }
    )
    columns = {name: [row[name] for row in rows] for name in features}
    return datasets.Dataset.from_dict(columns, features=features)


def build_datasets(
    docs_split: Split,
    tokenizer: Any,
    encoding_config: EncodingConfig,
    label_list: Sequence[str],
    *,
    config: DatasetConfig = DatasetConfig(),
    seed: int = 42,
) -> Any:
    """``DatasetDict({"train", "dev"})`` of encoded windows (columns :data:`MODEL_COLUMNS` plus
    ``key``/``window``/``length``). Only train windows are downsampled."""
    import datasets

    if not docs_split.train:
        raise DatasetError("the training split is empty")
    train = encode_documents(docs_split.train, tokenizer, encoding_config, label_list, config)
    dev = encode_documents(docs_split.dev, tokenizer, encoding_config, label_list, config)
    outside = list(label_list).index("O")
    return datasets.DatasetDict(
        {
            "train": rows_to_dataset(
                window_rows(
                    train, downsample_empty=config.downsample_empty, outside_id=outside, seed=seed
                )
            ),
            "dev": rows_to_dataset(window_rows(dev, outside_id=outside)),
        }
    )
