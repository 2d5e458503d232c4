"""An OCR engine that remembers what it read: one JSON file per (image pixels, engine settings).

Benchmarks and the OCR-realistic training pipeline read the same images many times while only
the model or the field extraction changes; Tesseract at the worker's settings costs seconds per
image on this machine. :class:`CachingEngine` wraps the real engine and answers a repeat from
disk, so everything downstream (``labelling.label_image``: encoding, model, fields) still runs
the worker's own code. The key is a sha256 of the pixels, their mode and size and the engine's
``describe()``, so a changed setting or image never reads a stale entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_ocr.engines import OcrEngine, OcrLine, OcrResult, OcrWord

if TYPE_CHECKING:
    from PIL.Image import Image

CACHE_FORMAT = 1
"""Version of the cached JSON layout (part of the key, so a new layout starts a new cache)."""


def ocr_result_to_dict(result: OcrResult) -> dict[str, Any]:
    """JSON-ready form of ``result`` (boxes and confidences as floats)."""
    return {
        "format": CACHE_FORMAT,
        "width": result.width,
        "height": result.height,
        "engine": result.engine,
        "lines": [
            [{"text": w.text, "box": list(w.box), "confidence": w.confidence} for w in line.words]
            for line in result.lines
        ],
    }


def ocr_result_from_dict(data: dict[str, Any]) -> OcrResult:
    """The :class:`OcrResult` :func:`ocr_result_to_dict` wrote."""
    lines = tuple(
        OcrLine(tuple(
            OcrWord(str(w["text"]), tuple(float(v) for v in w["box"]), float(w["confidence"]))
            for w in line
        ))
        for line in data["lines"]
    )
    return OcrResult(int(data["width"]), int(data["height"]), lines, str(data.get("engine", "")))


def image_key(image: Image, engine_description: str) -> str:
    """The cache key of ``image`` read by an engine described as ``engine_description``."""
    digest = hashlib.sha256()
    digest.update(f"{CACHE_FORMAT}|{engine_description}|{image.mode}|{image.size}|".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


class CachingEngine(OcrEngine):
    """``engine`` with its results kept under ``cache_dir`` (created when missing)."""

    name = "cached"

    def __init__(self, engine: OcrEngine, cache_dir: str | Path) -> None:
        self.engine = engine
        self.cache_dir = Path(cache_dir)
        self.hits = 0
        self.misses = 0

    def recognize(self, image: Image) -> OcrResult:
        path = self.cache_dir / f"{image_key(image, self.engine.describe())}.json"
        if path.is_file():
            self.hits += 1
            return ocr_result_from_dict(json.loads(path.read_text(encoding="utf-8")))
        result = self.engine.recognize(image)
        self.misses += 1
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        # Written whole then renamed: a reader (or a killed run) never sees half an entry.
        with tempfile.NamedTemporaryFile("w", dir=self.cache_dir, suffix=".tmp", delete=False,
                                         encoding="utf-8") as handle:
            json.dump(ocr_result_to_dict(result), handle)
        os.replace(handle.name, path)
        return result

    def describe(self) -> str:
        return self.engine.describe()
