"""The one place that reads an ``ExportResult`` (its fields are being reshaped upstream)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ExportOutputs:
    """What a finished export leaves for the record and the result message."""

    bundle_uri: str
    """The published bundle directory."""
    mlpackage_uri: str | None
    """The ``.mlpackage`` inside it (None when Core ML was not built)."""
    model_size_bytes: int
    """Size of the model file (``.mlpackage``, else ``model.onnx``)."""
    export_duration_seconds: float
    """Wall time of the export."""


def outputs_of(result: Any) -> ExportOutputs:
    """``ExportOutputs`` of an ``export_bundle`` result."""
    return ExportOutputs(
        bundle_uri=result.bundle_uri,
        mlpackage_uri=result.mlpackage_uri,
        model_size_bytes=int(result.model_size_bytes),
        export_duration_seconds=float(result.export_duration_seconds),
    )


def outputs_of_manifest(bundle_uri: str, manifest: dict[str, Any]) -> ExportOutputs:
    """``ExportOutputs`` of a bundle already published (an earlier attempt that died after the
    upload, before its record was written)."""
    sizes = manifest.get("sizes") or {}
    mlpackage = manifest.get("mlpackage")
    timings = manifest.get("timings") or {}
    return ExportOutputs(
        bundle_uri=bundle_uri.rstrip("/"),
        mlpackage_uri=f"{bundle_uri.rstrip('/')}/{mlpackage}" if mlpackage else None,
        model_size_bytes=int(sizes.get("mlpackage_bytes", sizes.get("onnx_bytes", 0))),
        export_duration_seconds=float(
            sum(v for v in timings.values() if isinstance(v, int | float))
        ),
    )
