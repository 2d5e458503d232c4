"""Dynamic padding for LayoutLM windows: pad each batch to its longest window, not to 512."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from receipt_layoutlm.encoding import IGNORE_INDEX, PAD_BOX


@dataclass
class LayoutLMCollator:
    """Pads ``input_ids`` with the tokenizer's pad id, ``attention_mask``/``token_type_ids`` with
    0, ``bbox`` with :data:`PAD_BOX` and ``labels`` with -100; keeps a mix's ``dataset`` column,
    drops the other bookkeeping columns."""

    pad_token_id: int
    """Id of [PAD] in the tokenizer's vocabulary."""
    pad_to_multiple_of: int | None = None
    """Round the batch length up (8 helps tensor cores on GPU)."""
    pad_to_length: int | None = None
    """Pad every batch to this length (the fixed-shape baseline the benchmark compares with)."""

    def __call__(self, features: Sequence[dict[str, Any]]) -> dict[str, Any]:
        import torch

        longest = max(len(f["input_ids"]) for f in features)
        length = self.pad_to_length or longest
        if self.pad_to_multiple_of and length % self.pad_to_multiple_of:
            length += self.pad_to_multiple_of - length % self.pad_to_multiple_of
        pads = {
            "input_ids": self.pad_token_id,
            "attention_mask": 0,
            "token_type_ids": 0,
            "labels": IGNORE_INDEX,
        }
        batch: dict[str, Any] = {}
        for name, pad in pads.items():
            if name not in features[0]:
                continue
            batch[name] = torch.tensor(
                [list(f[name]) + [pad] * (length - len(f[name])) for f in features],
                dtype=torch.long,
            )
        batch["bbox"] = torch.tensor(
            [
                [list(b) for b in f["bbox"]] + [list(PAD_BOX)] * (length - len(f["bbox"]))
                for f in features
            ],
            dtype=torch.long,
        )
        if "dataset" in features[0]:
            # A --mix window's dataset picks its label mask in the loss (training.label_masks).
            batch["dataset"] = torch.tensor([f["dataset"] for f in features], dtype=torch.long)
        return batch
