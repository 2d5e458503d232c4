"""Core ML over a bundle's ``.mlpackage``: ``predict`` on macOS, the MIL interpreter elsewhere."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from receipt_layoutlm.bundle_format import MLPACKAGE_SUFFIX, find_mlpackage
from receipt_layoutlm.errors import RuntimeUnavailableError
from receipt_layoutlm.runtime._base import Runtime, load_bundle_text_side, read_bundle_config
from receipt_layoutlm.runtime.mil_interpreter import MILInterpreter, input_shapes


def _feeds(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    # The ML program declares int32 inputs.
    return {name: np.asarray(value, dtype=np.int32) for name, value in arrays.items()}


class _CoreMLBase(Runtime):
    seq_lengths: tuple[int, ...] = ()
    """The program's sequence lengths, ascending (several when exported with enumerated
    lengths); a window runs at the smallest that holds it."""

    def __init__(self, bundle_dir: str | Path) -> None:
        bundle_dir = Path(bundle_dir)
        tokenizer, labels, encoding_config = load_bundle_text_side(bundle_dir)
        self.mlpackage = find_mlpackage(bundle_dir)
        config = read_bundle_config(bundle_dir)
        export = config.get("export", {})
        super().__init__(
            tokenizer=tokenizer,
            labels=labels,
            encoding_config=encoding_config,
            source=bundle_dir,
            quantize=str(export.get("quantize", "unknown")),
            seq_length=int(export.get("seq_length", encoding_config.max_seq_length)),
        )


    def _set_lengths(self, shapes: dict[str, tuple[tuple[int, ...], ...]]) -> None:
        self.seq_lengths = tuple(shape[1] for shape in shapes["input_ids"])
        self.seq_length = self.seq_lengths[-1]

    def window_length(self, tokens: int) -> int | None:
        return next((n for n in self.seq_lengths if n >= tokens), self.seq_length)


class CoreMLRuntime(_CoreMLBase):
    """Apple's Core ML framework (macOS only)."""

    name = "coreml"
    speed_rank = 2
    needs = f"{MLPACKAGE_SUFFIX} on macOS"

    @classmethod
    def can_run(cls, model_dir: Path) -> bool:
        return sys.platform == "darwin" and any(model_dir.glob(f"*{MLPACKAGE_SUFFIX}"))

    def __init__(self, bundle_dir: str | Path) -> None:
        if sys.platform != "darwin":
            raise RuntimeUnavailableError(
                "the coreml runtime needs macOS (Core ML predict is not available on "
                f"{sys.platform}); use 'onnx', or 'coreml-mil' to run the ML program through "
                "the MIL reference interpreter (slow, for testing)"
            )
        super().__init__(bundle_dir)
        import coremltools as ct

        self.model = ct.models.MLModel(str(self.mlpackage), compute_units=ct.ComputeUnit.ALL)
        self._set_lengths(input_shapes(self.model.get_spec()))

    def run_window(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(self.model.predict(_feeds(arrays))["logits"])[0]


class CoreMLMILRuntime(_CoreMLBase):
    """The ML program run op by op by :class:`~receipt_layoutlm.runtime.MILInterpreter`."""

    name = "coreml-mil"
    needs = MLPACKAGE_SUFFIX

    @classmethod
    def can_run(cls, model_dir: Path) -> bool:
        # Slow (op by op in numpy): never picked by a worker, so it has no speed rank.
        return any(model_dir.glob(f"*{MLPACKAGE_SUFFIX}"))

    def __init__(self, bundle_dir: str | Path) -> None:
        super().__init__(bundle_dir)
        self.interpreter = MILInterpreter(self.mlpackage)
        self._set_lengths(self.interpreter.input_shapes)

    def run_window(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        return self.interpreter.predict(_feeds(arrays))["logits"][0]

    def nonfinite_weights(self) -> list[str]:
        return list(self.interpreter.nonfinite_constants)

    def describe(self) -> dict:
        out = super().describe()
        out["ops"] = json.loads(json.dumps(dict(self.interpreter.op_counts)))
        return out
