"""The versions of Python and the libraries a run or an export was made with (for provenance)."""

from __future__ import annotations

import importlib.metadata as md
import platform

DISTRIBUTIONS = (
    "receipt-labeler",
    "torch",
    "transformers",
    "datasets",
    "accelerate",
    "coremltools",
    "onnx",
    "onnxruntime",
)
"""Distributions whose versions change what a model computes or how it is stored."""


def library_versions(distributions: tuple[str, ...] = DISTRIBUTIONS) -> dict[str, str]:
    """``{"python": "3.11.9", "torch": "2.13.0", ...}``; distributions that are not installed
    are left out (a Lambda or a CPU worker need not carry every one of them)."""
    out = {"python": platform.python_version()}
    for dist in distributions:
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            continue
    return out
