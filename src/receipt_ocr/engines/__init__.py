"""OCR engines registered by name: ``get_engine("tesseract").recognize(image)``.

===============  =====================================================  ====================
name             reads with                                              available
===============  =====================================================  ====================
``tesseract``    Tesseract 5 via tesserocr or pytesseract (one thread)   where ``tesseract`` is
``vision``       Apple Vision through ``ocrmac``                         macOS only
``stub``         a fixed, deterministic receipt (queue-flow tests)       everywhere
===============  =====================================================  ====================

Engine modules import their libraries lazily, so listing or choosing engines costs nothing.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from receipt_ocr.engines._base import OcrEngine, OcrLine, OcrResult, OcrWord
from receipt_ocr.errors import EngineOptionError, UnknownEngineError

_ENGINES: dict[str, tuple[str, str]] = {
    "tesseract": ("receipt_ocr.engines.tesseract", "TesseractEngine"),
    "vision": ("receipt_ocr.engines.vision", "VisionEngine"),
    "stub": ("receipt_ocr.engines.stub", "StubEngine"),
}
ENGINE_NAMES: tuple[str, ...] = tuple(_ENGINES)


def register_engine(name: str, module: str, class_name: str) -> None:
    """Make ``get_engine(name)`` build ``module.class_name`` (e.g. a plug-in engine)."""
    _ENGINES[name] = (module, class_name)


def engine_class(name: str) -> type[OcrEngine]:
    try:
        module_name, class_name = _ENGINES[name]
    except KeyError:
        raise UnknownEngineError(
            f"unknown OCR engine {name!r}; choose one of {', '.join(sorted(_ENGINES))}"
        ) from None
    return getattr(importlib.import_module(module_name), class_name)


def get_engine(name: str, **options: Any) -> OcrEngine:
    """Build engine ``name``; :class:`EngineUnavailableError` when it cannot run here."""
    return engine_class(name)(**options)


def build_engine(name: str | None, language: str | None = None) -> OcrEngine:
    """The engine the worker's flags ask for: ``name`` (None: :func:`default_engine_name`) and,
    for Tesseract, its ``language`` data (``eng+msa`` by default; ``eng`` reads ~2x faster and
    fewer words, docs/ocr.md)."""
    name = name or default_engine_name()
    if language is None:
        return get_engine(name)
    if name != "tesseract":
        raise EngineOptionError(
            f"--ocr-language {language} applies to the tesseract engine, not {name!r}"
        )
    return get_engine(name, language=language)


def default_engine_name() -> str:
    """Apple Vision on macOS, Tesseract elsewhere (what the worker uses without --ocr-engine)."""
    return "vision" if sys.platform == "darwin" else "tesseract"


__all__ = [
    "ENGINE_NAMES",
    "OcrEngine",
    "OcrLine",
    "OcrResult",
    "OcrWord",
    "build_engine",
    "default_engine_name",
    "engine_class",
    "get_engine",
    "register_engine",
]
