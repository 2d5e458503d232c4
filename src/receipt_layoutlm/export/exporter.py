"""The exporter plug-in point: one :class:`Exporter` per artefact format, registered by name.

An exporter builds its files into the bundle's staging directory and names the runtimes (from
:mod:`receipt_layoutlm.runtime`) that the parity gate runs over them. ``export_bundle`` loops over
the requested ones; it knows no format by name. Adding a format (OpenVINO, TensorRT) is one new
module with an exporter class and one line in :data:`EXPORTERS` (plus, for its runtime, one
module and one line in ``receipt_layoutlm.runtime``).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from receipt_layoutlm.errors import ExportError, UnknownExporterError

if TYPE_CHECKING:
    from transformers import LayoutLMForTokenClassification

    from receipt_layoutlm.export.options import ExportOptions
    from receipt_layoutlm.export.quantize import QuantizeSpec


@dataclass(frozen=True)
class BundleFile:
    """One file or directory an exporter writes at the root of the bundle."""

    name: str
    """Its name inside the bundle (``model.onnx``, ``LayoutLM.mlpackage``)."""
    size_key: str
    """Its key in the manifest's ``sizes`` table (``onnx_bytes``, ``mlpackage_bytes``)."""


@dataclass(frozen=True)
class BuildContext:
    """What an exporter builds from and into."""

    model: LayoutLMForTokenClassification
    """The checkpoint's model (eval mode, CPU)."""
    staging: Path
    """The bundle's staging directory; the exporter writes its files at its root."""
    quantize: QuantizeSpec
    """The ``--quantize`` mode's spec."""
    options: ExportOptions
    """The whole export request (sequence length, model name, quantization knobs)."""


class Exporter(Protocol):
    """One artefact format of a bundle."""

    name: ClassVar[str]
    """The registry name (a ``--formats`` value); also the key of its timings and artifacts."""

    def files(self, options: ExportOptions) -> tuple[BundleFile, ...]:
        """What :meth:`build` writes, the primary artefact (the one a device loads) first."""
        ...

    def export_info(self, options: ExportOptions) -> dict[str, Any]:
        """Fields this format adds to ``config.json``'s ``export`` block and the manifest."""
        ...

    def build(self, context: BuildContext) -> None:
        """Write :meth:`files` into ``context.staging``; :class:`ExportError` when it fails."""
        ...

    def gate_runtimes(self) -> tuple[str, ...]:
        """Runtime names the parity gate loads over the staged bundle on this machine."""
        ...


EXPORTERS: dict[str, tuple[str, str]] = {
    "onnx": ("receipt_layoutlm.export.onnx_export", "OnnxExporter"),
    "coreml": ("receipt_layoutlm.export.coreml", "CoreMLExporter"),
}
"""Registered exporters, name -> (module, class); modules load on first use (torch, coremltools).
The gate runs the formats in this order (the fast ONNX runtimes first)."""
FORMATS: tuple[str, ...] = tuple(EXPORTERS)
"""Every artefact format a bundle can carry."""


def get_exporter(name: str) -> Exporter:
    """The exporter registered as ``name``; :class:`UnknownExporterError` listing the names."""
    try:
        module_name, class_name = EXPORTERS[name]
    except KeyError:
        raise UnknownExporterError(
            f"unknown export format {name!r}; choose from {', '.join(FORMATS)}"
        ) from None
    return getattr(importlib.import_module(module_name), class_name)()


def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """The requested formats in registry order; unknown names and an empty list are refused."""
    if not formats:
        raise ExportError(f"no export formats given; choose from {', '.join(FORMATS)}")
    unknown = [name for name in formats if name not in EXPORTERS]
    if unknown:
        raise UnknownExporterError(
            f"unknown export format(s) {', '.join(map(repr, unknown))}; "
            f"choose from {', '.join(FORMATS)}"
        )
    return tuple(name for name in EXPORTERS if name in formats)
