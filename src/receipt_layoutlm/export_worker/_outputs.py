"""The one place that reads an ``ExportResult`` (its fields are being reshaped upstream)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from receipt_layoutlm.bundle_format import model_size_bytes


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


def outputs_of(result: Any, bundle_uri: str) -> ExportOutputs:
    """``ExportOutputs`` of an ``export_bundle`` result published at ``bundle_uri``.

    URIs are recorded as the message gave the destination (``s3://`` or ``file://``), whatever
    spelling ``export_bundle`` returns for a local one.
    """
    bundle_uri = bundle_uri.rstrip("/")
    mlpackage = result.artifact_uri("coreml")
    return ExportOutputs(
        bundle_uri=bundle_uri,
        mlpackage_uri=f"{bundle_uri}/{mlpackage.rstrip('/').rsplit('/', 1)[-1]}"
        if mlpackage
        else None,
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
        model_size_bytes=model_size_bytes(sizes),
        export_duration_seconds=float(
            sum(v for v in timings.values() if isinstance(v, int | float))
        ),
    )
