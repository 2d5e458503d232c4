"""Export: bundles of plug-in formats (Core ML, ONNX), quantization, the parity gate and
publishing.

Public API (heavy modules — torch, coremltools, onnx — load on first use, so importing this
package stays cheap)::

    export_bundle(ExportOptions(checkpoint=..., output=...), documents=None, settings=None)
        -> ExportResult                                 # .artifacts: format -> Artifact
    run_parity(reference, candidates, documents, thresholds=..., source=...) -> ParityReport
    get_exporter(name) -> Exporter; bundle_format.ARTIFACT_FORMATS  # the format plug-ins
    convert_to_coreml(model, path, spec, CoreMLOptions(...)); export_onnx(model, path)
    QUANTIZE_MODES / get_quantize_mode(name) -> QuantizeSpec

The bundle's file names live in :mod:`receipt_layoutlm.bundle_format`; reading a bundle (the
registry, the active pointer, promote, manifest verification) in :mod:`receipt_layoutlm.bundles`;
the runtimes that run one (and the MIL interpreter) in :mod:`receipt_layoutlm.runtime`.
"""

from __future__ import annotations

import importlib
from typing import Any

from receipt_layoutlm.bundle_format import DEFAULT_MODEL_NAME, find_mlpackage, mlpackage_name
from receipt_layoutlm.export.exporter import (
    BuildContext,
    BundleFile,
    Exporter,
    exporter_class,
    get_exporter,
)
from receipt_layoutlm.export.quantize import (
    DEFAULT_QUANTIZE,
    QUANTIZE_MODES,
    QuantizeSpec,
    get_quantize_mode,
)

_LAZY = {
    "Artifact": "receipt_layoutlm.export.options",
    "DEFAULT_FORMATS": "receipt_layoutlm.export.options",
    "ExportOptions": "receipt_layoutlm.export.options",
    "ExportResult": "receipt_layoutlm.export.options",
    "export_bundle": "receipt_layoutlm.export.bundle",
    "ParityReport": "receipt_layoutlm.export.parity",
    "ParityThresholds": "receipt_layoutlm.export.parity",
    "RuntimeParity": "receipt_layoutlm.export.parity",
    "run_parity": "receipt_layoutlm.export.parity",
    "load_parity_documents": "receipt_layoutlm.export.parity_data",
    "synthetic_documents": "receipt_layoutlm.export.parity_data",
    "CoreMLExporter": "receipt_layoutlm.export.coreml",
    "CoreMLOptions": "receipt_layoutlm.export.coreml",
    "convert_to_coreml": "receipt_layoutlm.export.coreml",
    "OnnxExporter": "receipt_layoutlm.export.onnx_export",
    "export_onnx": "receipt_layoutlm.export.onnx_export",
    "quantize_onnx_int8": "receipt_layoutlm.export.onnx_export",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "DEFAULT_MODEL_NAME",
    "DEFAULT_QUANTIZE",
    "QUANTIZE_MODES",
    "BuildContext",
    "BundleFile",
    "Exporter",
    "QuantizeSpec",
    "exporter_class",
    "find_mlpackage",
    "get_exporter",
    "get_quantize_mode",
    "mlpackage_name",
    *sorted(_LAZY),
]
