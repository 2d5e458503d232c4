"""Training: hyperparameters, model initialisation, the Trainer run, Job records, artifacts.

Importing this package is light; torch and transformers load inside the functions that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from receipt_layoutlm.training._config import TrainingConfig, config_from_strings

if TYPE_CHECKING:
    from receipt_layoutlm.training.model_init import ModelInit, build_model
    from receipt_layoutlm.training.run_context import TrainResult
    from receipt_layoutlm.training.trainer import train

__all__ = [
    "ModelInit",
    "TrainResult",
    "TrainingConfig",
    "build_model",
    "config_from_strings",
    "run_auto_export",
    "train",
]

_LAZY = {
    "ModelInit": "receipt_layoutlm.training.model_init",
    "build_model": "receipt_layoutlm.training.model_init",
    "TrainResult": "receipt_layoutlm.training.run_context",
    "train": "receipt_layoutlm.training.trainer",
    "run_auto_export": "receipt_layoutlm.training.auto_export",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'receipt_layoutlm.training' has no attribute {name!r}")
