"""Export: Core ML + ONNX bundles, quantization, the parity gate, manifests and the registry.

Public API (heavy modules — torch, coremltools, onnx — load on first use, so importing this
package stays cheap)::

    export_bundle(ExportOptions(checkpoint=..., output=...), documents=None, settings=None)
        -> ExportResult
    verify_bundle(bundle_dir) -> Verification          # manifest sizes + sha256
    BundleRegistry.from_uri(bundles_root).promote(bundle_uri) / .list_bundles() / .active()
    run_parity(reference, candidates, documents, thresholds=..., source=...) -> ParityReport
    MILInterpreter(mlpackage).predict(feeds)           # Core ML ML program on any OS
    convert_to_coreml(model, path, mode, CoreMLOptions(...)); export_onnx(model, path)
    QUANTIZE_MODES / get_quantize_mode(name)
"""

from __future__ import annotations

import importlib
from typing import Any

from receipt_layoutlm.export.layout import DEFAULT_MODEL_NAME, find_mlpackage, mlpackage_name
from receipt_layoutlm.export.manifest import Verification, read_manifest, verify_bundle
from receipt_layoutlm.export.parity import ParityReport, ParityThresholds, RuntimeParity
from receipt_layoutlm.export.quantize import (
    DEFAULT_QUANTIZE,
    QUANTIZE_MODES,
    QuantizeMode,
    get_quantize_mode,
)

_LAZY = {
    "ExportOptions": "receipt_layoutlm.export.bundle",
    "ExportResult": "receipt_layoutlm.export.bundle",
    "FORMATS": "receipt_layoutlm.export.bundle",
    "export_bundle": "receipt_layoutlm.export.bundle",
    "BundleRegistry": "receipt_layoutlm.export.registry",
    "BundleEntry": "receipt_layoutlm.export.registry",
    "run_parity": "receipt_layoutlm.export.parity",
    "load_parity_documents": "receipt_layoutlm.export.parity_data",
    "synthetic_documents": "receipt_layoutlm.export.parity_data",
    "MILInterpreter": "receipt_layoutlm.export.mil_interpreter",
    "CoreMLOptions": "receipt_layoutlm.export.coreml",
    "convert_to_coreml": "receipt_layoutlm.export.coreml",
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
    "ParityReport",
    "ParityThresholds",
    "QuantizeMode",
    "RuntimeParity",
    "Verification",
    "find_mlpackage",
    "get_quantize_mode",
    "mlpackage_name",
    "read_manifest",
    "verify_bundle",
    *sorted(_LAZY),
]
