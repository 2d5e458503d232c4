"""Fixtures shared by the receipt_layoutlm tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def minilm_path() -> Path:
    """The MiniLM directory of the ``[minilm]`` extra (``make test`` installs it)."""
    from receipt_layoutlm.pretrained import minilm_dir

    return minilm_dir()


@pytest.fixture(scope="session")
def tokenizer(minilm_path: Path) -> Any:
    """The MiniLM WordPiece tokenizer, loaded once the way every runtime loads it."""
    from receipt_layoutlm.encoding import load_tokenizer

    return load_tokenizer(minilm_path)
