"""How the labelling worker is set up: ``OcrWorkerOptions`` (what it labels with) and
``OCR_LOOP`` (its queue handling, a ``WorkerConfig``). Light on purpose: ``receipt-ocr`` builds
its flags from these without loading the OCR engines or a model runtime."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from receipt_cloud.worker import WorkerConfig


@dataclass(frozen=True)
class OcrWorkerOptions:
    """How the labelling worker labels (its queue handling is a ``WorkerConfig``: :data:`OCR_LOOP`).
    The docstrings are ``receipt-ocr``'s help lines."""

    model_dir: str | None = None
    """a bundle, a checkpoint, or a model cache folder (serves the bundle the cache holds as
    current) instead of the active bundle"""
    cache_path: str | None = None
    """model cache for the active bundle (default $LAYOUTLM_CACHE_PATH, else ~/.models/layoutlm)"""
    runtime: str | None = None
    """model runtime (default: the fastest available for the model)"""
    engine: str | None = None
    """OCR engine (default: vision on macOS, tesseract elsewhere)"""
    ocr_language: str | None = None
    """Tesseract languages joined by + (default eng+msa; eng reads about 2x faster and fewer
    words, docs/ocr.md)"""


OCR_LOOP = WorkerConfig(mode="batch", visibility_timeout=120.0, wait_seconds=2.0)
"""The labelling worker's queue handling: the seed's batch of up to 10 jobs, a taken job hidden
for 2 minutes, 3 receives; short polls, since a batch or a drain ends on an empty receive."""
SERVE_WAIT_SECONDS = 20.0
"""Long-poll wait when serving (``--serve`` waits for work instead of ending)."""


def ocr_loop(**changes: Any) -> WorkerConfig:
    """:data:`OCR_LOOP` with ``changes``; serving polls for :data:`SERVE_WAIT_SECONDS` unless
    ``wait_seconds`` is given."""
    if changes.get("mode") == "serve":
        changes.setdefault("wait_seconds", SERVE_WAIT_SECONDS)
    return dataclasses.replace(OCR_LOOP, **changes)
