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
here (a :class:`Runtime` subclass) and one line in ``registry.RUNTIMES``; it declares what it
needs to run a directory (``can_run``) and its speed rank, which the labelling worker reads to
pick the fastest runtime a bundle allows.

``MILInterpreter(mlpackage).predict(feeds)`` runs a Core ML ML program on any OS (what
``coreml-mil`` uses).
"""

from __future__ import annotations

from receipt_layoutlm.errors import RuntimeUnavailableError
from receipt_layoutlm.runtime._base import Runtime
from receipt_layoutlm.runtime.mil_interpreter import MILInterpreter
from receipt_layoutlm.runtime.registry import (
    RUNTIMES,
    choose_runtime,
    load_runtime,
    ranked_runtimes,
    runnable_runtimes,
    runtime_class,
    runtime_names,
)

RUNTIME_NAMES: tuple[str, ...] = runtime_names()
"""The runtimes registered when this package was imported (``runtime_names()`` is live)."""

__all__ = [
    "RUNTIMES",
    "RUNTIME_NAMES",
    "MILInterpreter",
    "Runtime",
    "RuntimeUnavailableError",
    "choose_runtime",
    "load_runtime",
    "ranked_runtimes",
    "runnable_runtimes",
    "runtime_class",
    "runtime_names",
]
