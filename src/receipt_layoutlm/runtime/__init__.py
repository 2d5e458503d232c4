"""Inference runtimes behind one interface: ``load_runtime(name, path).predict(doc)``.

=============  ==============================  =========================================
name           loads from                      runs on
=============  ==============================  =========================================
``torch``      checkpoint directory            PyTorch float32 (the reference)
``onnx``       bundle directory                ONNX Runtime, ``model.onnx``
``onnx-int8``  bundle directory                ONNX Runtime, ``model.int8.onnx``
``coreml``     bundle directory                Core ML ``predict`` (macOS only)
``coreml-mil`` bundle directory                the ML program through the MIL interpreter
=============  ==============================  =========================================

All of them encode with the bundle's/checkpoint's ``encoding.json`` and tokenizer and decode
with ``encoding.decode_word_labels``; only the forward pass differs. A new backend is one module
here (a :class:`Runtime` subclass) and one line in ``_RUNTIMES``.

``MILInterpreter(mlpackage).predict(feeds)`` runs a Core ML ML program on any OS (what
``coreml-mil`` uses).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from receipt_layoutlm.checkpoint import Checkpoint
from receipt_layoutlm.errors import RuntimeUnavailableError
from receipt_layoutlm.runtime._base import Runtime
from receipt_layoutlm.runtime.mil_interpreter import MILInterpreter

_RUNTIMES: dict[str, tuple[str, str]] = {
    "torch": ("receipt_layoutlm.runtime._torch", "TorchRuntime"),
    "onnx": ("receipt_layoutlm.runtime._onnx", "OnnxRuntime"),
    "onnx-int8": ("receipt_layoutlm.runtime._onnx", "OnnxInt8Runtime"),
    "coreml": ("receipt_layoutlm.runtime._coreml", "CoreMLRuntime"),
    "coreml-mil": ("receipt_layoutlm.runtime._coreml", "CoreMLMILRuntime"),
}
RUNTIME_NAMES: tuple[str, ...] = tuple(_RUNTIMES)


def runtime_class(name: str) -> type[Runtime]:
    try:
        module_name, class_name = _RUNTIMES[name]
    except KeyError:
        raise RuntimeUnavailableError(
            f"unknown runtime {name!r}; choose one of {', '.join(RUNTIME_NAMES)}"
        ) from None
    return getattr(importlib.import_module(module_name), class_name)


def load_runtime(name: str, path: str | Path | Checkpoint, **kwargs: Any) -> Runtime:
    """Load runtime ``name`` from ``path`` (a checkpoint dir for ``torch``, a bundle dir for the
    others). Unknown names and platform mismatches raise :class:`RuntimeUnavailableError`."""
    return runtime_class(name)(path, **kwargs)


__all__ = [
    "RUNTIME_NAMES",
    "MILInterpreter",
    "Runtime",
    "RuntimeUnavailableError",
    "load_runtime",
    "runtime_class",
]
