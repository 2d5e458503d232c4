"""PyTorch runtime: the float32 reference, loaded from a checkpoint directory."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from receipt_layoutlm.bundle_format import WEIGHT_FILES
from receipt_layoutlm.checkpoint import Checkpoint, load_checkpoint
from receipt_layoutlm.runtime._base import Runtime


class TorchRuntime(Runtime):
    name = "torch"
    speed_rank = 3
    needs = "PyTorch checkpoint"

    @classmethod
    def can_run(cls, model_dir: Path) -> bool:
        return any((model_dir / name).is_file() for name in WEIGHT_FILES)

    def __init__(self, checkpoint: str | Path | Checkpoint) -> None:
        """``checkpoint``: a checkpoint directory or an already loaded ``Checkpoint``."""
        if not isinstance(checkpoint, Checkpoint):
            checkpoint = load_checkpoint(Path(checkpoint))
        self.checkpoint = checkpoint
        self.model = checkpoint.model.eval()
        super().__init__(
            tokenizer=checkpoint.tokenizer,
            labels=checkpoint.labels,
            encoding_config=checkpoint.encoding_config,
            source=checkpoint.path,
            quantize="float32",
        )

    def run_window(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            tensors = {
                k: torch.from_numpy(np.asarray(v, dtype=np.int64)) for k, v in arrays.items()
            }
            logits = self.model(**tensors).logits
        return logits[0].float().numpy()

    def nonfinite_weights(self) -> list[str]:
        import torch

        return [
            name
            for name, t in self.model.state_dict().items()
            if t.is_floating_point() and not bool(torch.isfinite(t).all())
        ]
