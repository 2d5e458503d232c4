"""K seeded receipt-level folds for cross-validation (``benchmarks/quality_bench.py``).

Each fold holds out one share of the receipts; a model trained on the rest is scored on it, so
over K folds every receipt is scored exactly once by a model that never saw it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from receipt_layoutlm.errors import DatasetError


@dataclass(frozen=True)
class Fold:
    """One cross-validation fold: the held-out receipts and the receipts a model trains on."""

    index: int
    """0-based fold number."""
    train: tuple[str, ...]
    """Keys the fold's model may learn from (sorted); never overlaps ``held_out``."""
    held_out: tuple[str, ...]
    """Keys the fold's model is scored on (sorted)."""

    def split_json(self, inner_dev: int = 0, seed: int = 0) -> dict[str, list[str]]:
        """A ``--split-file`` payload training on this fold: ``{"train": ..., "dev": ...}``.

        ``dev`` is ``inner_dev`` receipts drawn (seeded) from the TRAINING side, for checkpoint
        selection, so the held-out receipts play no part in training or model selection."""
        if not 0 <= inner_dev < len(self.train):
            raise DatasetError(
                f"fold {self.index}: inner dev of {inner_dev} receipts needs 0 <= n < "
                f"{len(self.train)} (its training side)"
            )
        keys = list(self.train)
        random.Random(seed * 1000 + self.index).shuffle(keys)
        return {"train": sorted(keys[inner_dev:]), "dev": sorted(keys[:inner_dev])}

    def write_split(self, path: str | Path, inner_dev: int = 0, seed: int = 0) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.split_json(inner_dev, seed), indent=1) + "\n", "utf-8")
        return path


def kfold(keys: Iterable[str], k: int, seed: int = 42) -> list[Fold]:
    """``k`` folds of ``keys``: a ``seed`` shuffle of the sorted unique keys dealt round-robin, so
    fold sizes differ by at most one and the folds do not depend on the input order."""
    unique = sorted(set(keys))
    if k < 2:
        raise DatasetError(f"cross-validation needs at least 2 folds, got {k}")
    if len(unique) < k:
        raise DatasetError(f"{len(unique)} receipt(s) cannot fill {k} folds; use fewer folds")
    random.Random(seed).shuffle(unique)
    held = [sorted(unique[i::k]) for i in range(k)]
    everything = set(unique)
    return [
        Fold(index=i, train=tuple(sorted(everything - set(h))), held_out=tuple(h))
        for i, h in enumerate(held)
    ]
