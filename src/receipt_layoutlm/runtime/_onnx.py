"""ONNX Runtime (CPU) over a bundle's ``model.onnx`` or ``model.int8.onnx``."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from receipt_layoutlm.bundle_format import ONNX_FILE, ONNX_INT8_FILE
from receipt_layoutlm.errors import CheckpointError
from receipt_layoutlm.runtime._base import Runtime, load_bundle_text_side


class OnnxRuntime(Runtime):
    name = "onnx"
    speed_rank = 1
    needs = ONNX_FILE
    threaded = True
    model_file = ONNX_FILE
    weights = "float32"

    @classmethod
    def can_run(cls, model_dir: Path) -> bool:
        return (
            importlib.util.find_spec("onnxruntime") is not None
            and (model_dir / cls.model_file).is_file()
        )

    def __init__(
        self,
        bundle_dir: str | Path,
        *,
        threads: int | None = None,
        session_config: Mapping[str, str] | None = None,
    ) -> None:
        """``threads``: intra-op threads (ONNX Runtime's default when None). ``session_config``:
        ONNX Runtime session config entries, e.g. ``{"session.intra_op.allow_spinning": "0"}``
        (docs/export.md measures it: with every core busy, spin-waiting threads cost the time
        the other thread needs)."""
        import onnxruntime as ort

        bundle_dir = Path(bundle_dir)
        tokenizer, labels, encoding_config = load_bundle_text_side(bundle_dir)
        self.model_path = bundle_dir / self.model_file
        if not self.model_path.is_file():
            raise CheckpointError(
                f"bundle {bundle_dir} has no {self.model_file}; export it with --formats "
                "including onnx"
            )
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        for key, value in (session_config or {}).items():
            options.add_session_config_entry(str(key), str(value))
        self.session = ort.InferenceSession(
            str(self.model_path), options, providers=["CPUExecutionProvider"]
        )
        self._input_names = [i.name for i in self.session.get_inputs()]
        super().__init__(
            tokenizer=tokenizer,
            labels=labels,
            encoding_config=encoding_config,
            source=bundle_dir,
            quantize=self.weights,
        )

    def run_window(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        feeds = {name: np.asarray(arrays[name], dtype=np.int64) for name in self._input_names}
        return self.session.run(None, feeds)[0][0]

    def nonfinite_weights(self) -> list[str]:
        import onnx
        from onnx import numpy_helper

        model = onnx.load(str(self.model_path))
        bad = []
        for init in model.graph.initializer:
            arr = numpy_helper.to_array(init)
            if arr.dtype.kind == "f" and not np.isfinite(arr).all():
                bad.append(init.name)
        return bad


class OnnxInt8Runtime(OnnxRuntime):
    name = "onnx-int8"
    speed_rank = 0
    needs = ONNX_INT8_FILE
    model_file = ONNX_INT8_FILE
    weights = "int8"
