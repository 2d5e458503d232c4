"""Installed versions of the libraries a model was trained or exported with."""

from __future__ import annotations

from importlib import metadata

LIBRARIES = (
    "receipt-labeler",
    "torch",
    "transformers",
    "coremltools",
    "onnx",
    "onnxruntime",
    "tokenizers",
)
"""Distributions whose versions go into run.json and the bundle manifest."""


def library_versions() -> dict[str, str]:
    """``{distribution: version}`` of :data:`LIBRARIES`; libraries not installed are omitted."""
    out: dict[str, str] = {}
    for dist in LIBRARIES:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out
