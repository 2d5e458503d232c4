"""A test runtime whose model gives each word logits chosen by the test: every sub-token row of
word ``w`` (reading order) gets ``logits_of(text, w)``. It encodes with the real encoding spec, so
``predict_document``, decoding and the parity gate read it exactly as they read a model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from receipt_layoutlm.encoding import EncodingConfig, encode_receipt


class WordLogitsRuntime:
    """What ``prediction.predict_document`` and ``export.parity`` use of a runtime; no fitted
    field files (the picker, line classifier and known values are absent)."""

    def __init__(self, labels: Sequence[str], tokenizer: Any,
                 logits_of: Callable[[str, int], Sequence[float]], *, name: str = "torch",
                 encoding_config: EncodingConfig | None = None) -> None:
        self.name, self.quantize = name, "float32" if name == "torch" else "int8"
        self.labels, self.tokenizer = list(labels), tokenizer
        self.encoding_config = encoding_config or EncodingConfig(max_seq_length=64, stride=8)
        self._logits_of = logits_of

    def encode(self, doc: Any) -> Any:
        return encode_receipt(doc, self.tokenizer, self.encoding_config)

    def predict_windows(self, encoded: Any) -> list[np.ndarray]:
        out = []
        for window in encoded.windows:
            rows = np.zeros((len(window), len(self.labels)), dtype=np.float32)
            for pos, w in enumerate(window.word_index):
                if w is not None:
                    rows[pos] = self._logits_of(encoded.words[w].text, w)
            out.append(rows)
        return out

    def nonfinite_weights(self) -> list[str]:
        return []
