"""Receipt-level train/dev split: seeded, or frozen in a key-list file."""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from receipt_layoutlm.data._config import DatasetConfig
from receipt_layoutlm.data._load import DocumentSet
from receipt_layoutlm.document import ReceiptDocument
from receipt_layoutlm.errors import DatasetError

log = logging.getLogger(__name__)


def keys_hash(keys: list[str]) -> str:
    """sha256 of the sorted keys, one per line: the identity of one side of a split."""
    return hashlib.sha256("\n".join(sorted(keys)).encode("utf-8")).hexdigest()


@dataclass
class Split:
    """Train and dev documents plus what identifies the split."""

    train: DocumentSet
    """Training receipts."""
    dev: DocumentSet
    """Dev (evaluation) receipts."""
    hashes: dict[str, str] = field(default_factory=dict)
    """``{"train": sha256, "dev": sha256}`` of the sorted receipt keys of each side."""
    counts: dict[str, int] = field(default_factory=dict)
    """Receipts per side, plus ``left_out`` (in neither side of a frozen split) and
    ``missing`` (named in the split file but not loaded)."""

    def keys(self) -> dict[str, list[str]]:
        """The split as a frozen key list (what ``--split-file`` reads)."""
        return {"train": sorted(d.key for d in self.train), "dev": sorted(d.key for d in self.dev)}

    def write_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.keys(), indent=1) + "\n", encoding="utf-8")
        return path

    def verify(self, recorded: Mapping[str, Any] | None, *, trained_on: str) -> None:
        """Check this split against the hashes a model recorded (``split_hashes`` of its
        checkpoint); raises :class:`DatasetError` naming both when they differ. Nothing
        recorded passes."""
        if not recorded or dict(recorded) == self.hashes:
            return
        raise DatasetError(
            f"this split (sha256 train {self.hashes['train'][:12]}, dev "
            f"{self.hashes['dev'][:12]}) is not the one {trained_on} was trained on (train "
            f"{str(recorded.get('train'))[:12]}, dev {str(recorded.get('dev'))[:12]})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {"hashes": dict(self.hashes), "counts": dict(self.counts)}


def _read_split_file(path: str | Path) -> dict[str, list[str]]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"split file {path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise DatasetError(f"split file {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(side), list) for side in ("train", "dev")
    ):
        raise DatasetError(
            f'split file {path} must be a JSON object {{"train": [keys], "dev": [keys]}}'
        )
    overlap = set(data["train"]) & set(data["dev"])
    if overlap:
        raise DatasetError(
            f"split file {path}: {len(overlap)} key(s) are in both train and dev, "
            f"e.g. {sorted(overlap)[0]!r}"
        )
    return {"train": [str(k) for k in data["train"]], "dev": [str(k) for k in data["dev"]]}


def split_documents(docs: list[ReceiptDocument], config: DatasetConfig = DatasetConfig()) -> Split:
    """Split by receipt: the frozen key list of ``config.split_file``, else a ``split_seed``
    shuffle of the sorted keys with ``round(n * dev_ratio)`` receipts (at least one when there are
    two or more) in dev."""
    if not isinstance(docs, DocumentSet):
        docs = DocumentSet(docs)
    by_key: dict[str, ReceiptDocument] = {}
    for doc in docs:
        if doc.key in by_key:
            raise DatasetError(f"two receipts share the key {doc.key!r}; keys must be unique")
        by_key[doc.key] = doc
    if not by_key:
        raise DatasetError("no receipts to split; the dataset is empty")
    counts: dict[str, int] = {}
    if config.split_file:
        frozen = _read_split_file(config.split_file)
        missing = [k for k in frozen["train"] + frozen["dev"] if k not in by_key]
        if missing:
            log.warning(
                "%d key(s) of the split file are not in the dataset, e.g. %r",
                len(missing),
                missing[0],
            )
        train_keys = [k for k in frozen["train"] if k in by_key]
        dev_keys = [k for k in frozen["dev"] if k in by_key]
        counts["missing"] = len(missing)
        counts["left_out"] = len(by_key) - len(train_keys) - len(dev_keys)
    else:
        keys = sorted(by_key)
        random.Random(config.split_seed).shuffle(keys)
        n_dev = round(len(keys) * config.dev_ratio)
        if config.dev_ratio > 0 and len(keys) >= 2:
            n_dev = min(max(n_dev, 1), len(keys) - 1)
        dev_keys, train_keys = keys[:n_dev], keys[n_dev:]
    if not train_keys:
        raise DatasetError("the training split is empty; lower the dev share or add receipts")
    counts["train"] = len(train_keys)
    counts["dev"] = len(dev_keys)
    return Split(
        train=docs.subset(train_keys),
        dev=docs.subset(dev_keys),
        hashes={"train": keys_hash(train_keys), "dev": keys_hash(dev_keys)},
        counts=counts,
    )
