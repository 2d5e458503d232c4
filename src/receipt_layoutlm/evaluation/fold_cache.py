"""Cached window logits of a fold model, so field extraction is re-scored without the model.

``write_fold_cache`` runs a model (any runtime) over receipts and stores, per receipt, its
window logits (float16, windows concatenated) in ``logits.npz`` plus ``index.json`` (receipt
keys, window lengths, labels, the encoding spec). :class:`CachedRuntime` reads them back and
answers ``predict_windows`` from the cache, so ``prediction.predict_document`` — the one
inference path — runs unchanged on them: encoding, decoding and field extraction are the real
ones, only the forward pass is replayed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from receipt_layoutlm.document import ReceiptDocument
from receipt_layoutlm.encoding import EncodedReceipt, EncodingConfig, encode_receipt
from receipt_layoutlm.errors import EvaluationError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

    from receipt_layoutlm.fields.total_picker import TotalPicker
    from receipt_layoutlm.runtime import Runtime

INDEX_FILE = "index.json"
LOGITS_FILE = "logits.npz"


def write_fold_cache(
    runtime: Runtime, docs: Iterable[ReceiptDocument], out_dir: str | Path
) -> Path:
    """Run ``runtime`` on every window of ``docs`` and store the logits under ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    receipts: list[dict[str, Any]] = []
    for n, doc in enumerate(docs):
        encoded = runtime.encode(doc)
        logits = runtime.predict_windows(encoded)
        arrays[f"r{n}"] = np.concatenate(logits).astype(np.float16)
        receipts.append({"key": doc.key, "windows": [len(x) for x in logits]})
    np.savez_compressed(out / LOGITS_FILE, **arrays)
    index = {
        "labels": list(runtime.labels),
        "encoding": runtime.encoding_config.to_dict(),
        "receipts": receipts,
    }
    (out / INDEX_FILE).write_text(json.dumps(index) + "\n", encoding="utf-8")
    return out


class CachedRuntime:
    """A runtime whose forward pass is read from a fold cache (see the module docstring)."""

    name = "cached"

    def __init__(
        self,
        cache_dir: str | Path,
        tokenizer: PreTrainedTokenizerBase,
        total_picker: TotalPicker | None = None,
    ) -> None:
        cache = Path(cache_dir)
        try:
            index = json.loads((cache / INDEX_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise EvaluationError(f"{cache} holds no fold cache ({INDEX_FILE})") from None
        self.tokenizer = tokenizer
        self.labels: list[str] = list(index["labels"])
        self.encoding_config = EncodingConfig.from_dict(index["encoding"])
        self.total_picker = total_picker
        with np.load(cache / LOGITS_FILE) as data:
            self._logits = {
                r["key"]: (data[f"r{n}"].astype(np.float32), list(r["windows"]))
                for n, r in enumerate(index["receipts"])
            }

    @property
    def keys(self) -> list[str]:
        return list(self._logits)

    def encode(self, doc: ReceiptDocument) -> EncodedReceipt:
        return encode_receipt(doc, self.tokenizer, self.encoding_config)

    def predict_windows(self, encoded: EncodedReceipt) -> list[np.ndarray]:
        try:
            logits, lengths = self._logits[encoded.key]
        except KeyError:
            raise EvaluationError(f"receipt {encoded.key} is not in the fold cache") from None
        if lengths != [len(w) for w in encoded.windows]:
            raise EvaluationError(
                f"receipt {encoded.key}: cached windows {lengths} differ from the encoding's "
                f"{[len(w) for w in encoded.windows]}; rebuild the cache"
            )
        return list(np.split(logits, np.cumsum(lengths)[:-1]))
