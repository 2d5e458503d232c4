"""The runtime interface: encode with the spec, run windows, decode words — for every backend."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from receipt_layoutlm.bundle_format import CONFIG_FILE, ENCODING_FILE, LABEL_MAP_FILE
from receipt_layoutlm.checkpoint import read_label_map
from receipt_layoutlm.document import ReceiptDocument
from receipt_layoutlm.encoding import (
    EncodedReceipt,
    EncodingConfig,
    WordPrediction,
    decode_word_labels,
    encode_receipt,
    load_bundle_tokenizer,
    special_ids,
)
from receipt_layoutlm.errors import CheckpointError, EncodingError
from receipt_layoutlm.fields import load_fitted_fields

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


class Runtime(ABC):
    """One loaded model that turns receipts into word predictions.

    Every backend shares :meth:`encode`, :meth:`predict_windows` and :meth:`predict`; only
    :meth:`run_window` (one window's arrays → logits) differs. Fixed-shape backends (Core ML)
    set ``seq_length`` and get windows padded to it; outputs are trimmed back to each window.
    """

    name: ClassVar[str]
    """The registry name (``torch``, ``onnx``, ``onnx-int8``, ``coreml``, ``coreml-mil``)."""
    speed_rank: ClassVar[int | None] = None
    """Lower is faster: a worker picks the runnable runtime with the lowest rank. None: never
    picked by itself (a runtime for tests or the parity gate only)."""
    needs: ClassVar[str] = ""
    """What it needs to find in a directory, as an error message names it (``model.onnx``)."""
    threaded: ClassVar[bool] = False
    """Its constructor takes ``threads=`` (how many cores one model may use)."""

    @classmethod
    def can_run(cls, model_dir: Path) -> bool:
        """Whether ``model_dir`` holds what this runtime loads and this machine has what it
        runs on (library, platform), without loading either."""
        return False

    def __init__(
        self,
        *,
        tokenizer: PreTrainedTokenizerBase,
        labels: list[str],
        encoding_config: EncodingConfig,
        source: Path,
        quantize: str,
        seq_length: int | None = None,
    ) -> None:
        self.tokenizer = tokenizer
        self.labels = list(labels)
        self.encoding_config = encoding_config
        self.source = Path(source)
        self.quantize = quantize
        self.seq_length = seq_length
        self._pad_id = special_ids(tokenizer)["pad"]
        # A checkpoint/bundle from before the picker has none: fields are read as before.
        fitted = load_fitted_fields(self.source)
        self.total_picker = fitted.total_picker
        self.line_classifier = fitted.line_classifier
        self.known_values = fitted.known_values
        self.key_lexicon = fitted.key_lexicon

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.labels))

    def encode(self, doc: ReceiptDocument) -> EncodedReceipt:
        return encode_receipt(doc, self.tokenizer, self.encoding_config)

    @abstractmethod
    def run_window(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        """Logits ``[tokens, num_labels]`` for one window given as ``EncodedWindow.as_arrays``."""

    def predict_windows(self, encoded: EncodedReceipt) -> list[np.ndarray]:
        """Logits per window, each ``[window tokens, num_labels]`` float32 (padding removed)."""
        outputs: list[np.ndarray] = []
        for window in encoded.windows:
            n = len(window)
            length = self.window_length(n)
            if length is not None:
                if n > length:
                    raise EncodingError(
                        f"receipt {encoded.key}: a window of {n} tokens does not fit the "
                        f"{self.name} model's fixed length {length}; encode with "
                        f"max_seq_length <= {length}"
                    )
                window = window.padded(length, self._pad_id)
            logits = np.asarray(self.run_window(window.as_arrays()), dtype=np.float32)
            if logits.ndim == 3:
                logits = logits[0]
            outputs.append(logits[:n])
        return outputs

    def window_length(self, tokens: int) -> int | None:
        """The length a window of ``tokens`` tokens is padded to: ``seq_length`` for a
        fixed-shape model, None (no padding) for one with a dynamic sequence axis."""
        return self.seq_length

    def predict(self, doc: ReceiptDocument) -> list[WordPrediction]:
        """One prediction per word, in reading order, through the spec's decoding."""
        encoded = self.encode(doc)
        return decode_word_labels(encoded, self.predict_windows(encoded), self.labels)

    def nonfinite_weights(self) -> list[str]:
        """Names of weight tensors that hold NaN/Inf (checked by the parity gate)."""
        return []

    def describe(self) -> dict[str, Any]:
        return {
            "runtime": self.name,
            "quantize": self.quantize,
            "source": str(self.source),
            "seq_length": self.seq_length,
            "labels": len(self.labels),
        }


def read_bundle_config(bundle_dir: Path) -> dict[str, Any]:
    path = bundle_dir / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError(f"bundle {bundle_dir} has no {CONFIG_FILE}; re-export the bundle")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc})") from None


def load_bundle_text_side(
    bundle_dir: str | Path,
) -> tuple[PreTrainedTokenizerBase, list[str], EncodingConfig]:
    """Tokenizer (from ``vocab.txt`` + ``tokenizer_config.json``), labels and encoding spec of a
    bundle directory — exactly what the device side reads."""
    bundle_dir = Path(bundle_dir)
    if not bundle_dir.is_dir():
        raise CheckpointError(f"bundle directory {bundle_dir} does not exist")
    labels = read_label_map(bundle_dir / LABEL_MAP_FILE)
    try:
        encoding_config = EncodingConfig.read_json(bundle_dir / ENCODING_FILE)
        # No transformers (and so no torch) for a bundle: most of a cold start was that import.
        tokenizer = load_bundle_tokenizer(bundle_dir)
    except EncodingError as exc:
        raise CheckpointError(f"bundle {bundle_dir}: {exc}") from None
    return tokenizer, labels, encoding_config
