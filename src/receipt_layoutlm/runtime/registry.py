"""Runtimes registered by name, which of them can run a directory on this machine, and which
one a worker runs it with (:func:`choose_runtime`).

Importing this module loads no runtime library (torch, onnxruntime, coremltools): the runtime
classes say what they need (:meth:`Runtime.can_run`, :attr:`Runtime.speed_rank`) without
loading anything, and load their library only when one is constructed. A new runtime is one
module in this package (a :class:`Runtime` subclass) and one line in :data:`RUNTIMES`.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_layoutlm.errors import CheckpointError, RuntimeUnavailableError

if TYPE_CHECKING:
    from receipt_layoutlm.checkpoint import Checkpoint
    from receipt_layoutlm.runtime._base import Runtime

RUNTIMES: dict[str, str] = {
    "torch": "receipt_layoutlm.runtime._torch:TorchRuntime",
    "onnx": "receipt_layoutlm.runtime._onnx:OnnxRuntime",
    "onnx-int8": "receipt_layoutlm.runtime._onnx:OnnxInt8Runtime",
    "coreml": "receipt_layoutlm.runtime._coreml:CoreMLRuntime",
    "coreml-mil": "receipt_layoutlm.runtime._coreml:CoreMLMILRuntime",
}
"""Registered runtimes, name -> ``module:Class``."""


def runtime_names() -> tuple[str, ...]:
    """Every registered runtime name."""
    return tuple(RUNTIMES)


def runtime_class(name: str) -> type[Runtime]:
    """The class registered as ``name``; :class:`RuntimeUnavailableError` listing the names."""
    try:
        module_name, class_name = RUNTIMES[name].split(":")
    except KeyError:
        raise RuntimeUnavailableError(
            f"unknown runtime {name!r}; choose one of {', '.join(runtime_names())}"
        ) from None
    return getattr(importlib.import_module(module_name), class_name)


def load_runtime(name: str, path: str | Path | Checkpoint, **kwargs: Any) -> Runtime:
    """Load runtime ``name`` from ``path`` (a checkpoint dir for ``torch``, a bundle dir for the
    others). Unknown names and platform mismatches raise :class:`RuntimeUnavailableError`."""
    return runtime_class(name)(path, **kwargs)


def ranked_runtimes() -> tuple[str, ...]:
    """Runtimes a worker may pick by itself (those with a speed rank), fastest first."""
    ranked = [(cls.speed_rank, name) for name in RUNTIMES
              if (cls := runtime_class(name)).speed_rank is not None]  # fmt: skip
    return tuple(name for _, name in sorted(ranked, key=lambda pair: pair[0]))


def runnable_runtimes(model_dir: Path) -> list[str]:
    """The ranked runtimes that can run ``model_dir`` on this machine, fastest first."""
    return [name for name in ranked_runtimes() if runtime_class(name).can_run(model_dir)]


def runtime_needs() -> list[str]:
    """What each ranked runtime needs to find, fastest first (for "nothing can run" errors)."""
    return [runtime_class(name).needs for name in ranked_runtimes()]


def choose_runtime(model_dir: Path, requested: str | None = None) -> str:
    """``requested`` when given (checked), else the fastest runtime the directory supports
    (:class:`CheckpointError` when it is unknown, cannot run it here, or nothing can)."""
    choices = ranked_runtimes()
    if requested is not None and requested not in choices:
        raise CheckpointError(
            f"unknown runtime {requested!r}; choose one of {', '.join(choices)}"
        )
    options = runnable_runtimes(model_dir)
    if requested is not None:
        if requested not in options:
            raise CheckpointError(
                f"runtime {requested} cannot run {model_dir} here (available: "
                f"{', '.join(options) or 'none'}); pick another --runtime or export the bundle "
                "with that format"
            )
        return requested
    if not options:
        *most, last = runtime_needs()
        raise CheckpointError(
            f"{model_dir} holds no model this machine can run (no {', '.join(most)}, "
            f"or {last})"
        )
    return options[0]
