"""The exporter plug-in point: one :class:`Exporter` per artifact format, registered by name.

An exporter builds its files into the bundle's staging directory and names the runtimes (from
:mod:`receipt_layoutlm.runtime`) that the parity gate runs over them. ``export_bundle`` loops over
the requested ones; it knows no format by name. Formats are registered, torch-free, in
``bundle_format.ARTIFACT_FORMATS`` (readers of bundles need their manifest keys too): adding one
(OpenVINO, TensorRT) is one exporter module and one line there, plus its runtime module and one
line in ``receipt_layoutlm.runtime.registry``.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from receipt_layoutlm.bundle_format import ARTIFACT_FORMATS, artifact_format, format_names
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

    @classmethod
    def primary(cls, format_name: str, name: str) -> BundleFile:
        """Format ``format_name``'s primary artifact, under the size key its registry entry
        declares (the key readers of the manifest look for)."""
        return cls(name, artifact_format(format_name).size_key)


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
    manifest_keys: ClassVar[tuple[str, ...]]
    """Keys of :meth:`export_info` that every bundle's manifest carries, None when this format
    was not built (manifest format 1 keeps its keys whatever was built)."""

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


def exporter_class(name: str) -> type[Exporter]:
    """The exporter class registered as ``name`` (its module imported now);
    :class:`UnknownExporterError` listing the names."""
    try:
        module_name, class_name = ARTIFACT_FORMATS[name].exporter.split(":")
    except KeyError:
        raise UnknownExporterError(
            f"unknown export format {name!r}; choose from {', '.join(format_names())}"
        ) from None
    return getattr(importlib.import_module(module_name), class_name)


def get_exporter(name: str) -> Exporter:
    """The exporter registered as ``name``; :class:`UnknownExporterError` listing the names."""
    return exporter_class(name)()


def manifest_defaults() -> dict[str, Any]:
    """``{key: None}`` for every registered format's :attr:`Exporter.manifest_keys`."""
    return {key: None for name in format_names() for key in exporter_class(name).manifest_keys}


def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """The requested formats in registry order; unknown names and an empty list are refused."""
    known = format_names()
    if not formats:
        raise ExportError(f"no export formats given; choose from {', '.join(known)}")
    unknown = [name for name in formats if name not in known]
    if unknown:
        raise UnknownExporterError(
            f"unknown export format(s) {', '.join(map(repr, unknown))}; "
            f"choose from {', '.join(known)}"
        )
    return tuple(name for name in known if name in formats)
