"""Quantize specs: for each record ``QuantizeMode`` name, how it converts, what it needs on
device, and its parity threshold."""

from __future__ import annotations

from dataclasses import dataclass

from receipt_dynamo.vocabulary import QuantizeMode
from receipt_layoutlm.errors import ExportError


@dataclass(frozen=True)
class QuantizeSpec:
    """What one ``--quantize`` mode (a record :class:`~receipt_dynamo.vocabulary.QuantizeMode`)
    means for the export."""

    name: str
    """The CLI name (``float32``, ``float16``, ``int8``, ``int4``)."""
    compute_precision: str
    """Core ML compute precision of the converted program: ``float32`` or ``float16``."""
    weight_dtype: str | None
    """Linear weight quantization applied to the float16 program (``int8``/``int4``), or None."""
    ios_target: str
    """Minimum iOS the ML program runs on (``iOS17``, ``iOS18``)."""
    macos_target: str
    """Minimum macOS the ML program runs on (``macOS14``, ``macOS15``)."""
    default_agreement: float
    """Default minimum word-label agreement with PyTorch float32 for the parity gate."""
    max_bytes_per_parameter: float
    """Ceiling on the ML program's size per model parameter (checked by the benchmark)."""

    def deployment_target(self, enumerated_lengths: bool = False) -> dict[str, str]:
        """Where the program runs. Enumerated sequence lengths on several inputs need
        iOS18/macOS15 (coremltools refuses them below), whatever the weights need."""
        if not enumerated_lengths:
            return {"iOS": self.ios_target, "macOS": self.macos_target}
        return {
            "iOS": _later(self.ios_target, "iOS18"),
            "macOS": _later(self.macos_target, "macOS15"),
        }


def _later(a: str, b: str) -> str:
    """The later of two ``iOS17``/``macOS15``-style targets of one platform."""
    return max(a, b, key=lambda name: int(name.lstrip("iOSmac")))


# float32/float16/int8 (constexpr_affine_dequantize) exist since iOS16; iOS17 is the floor we
# support. Linear int4 with per-block scales is constexpr_blockwise_shift_scale: iOS18/macOS15.
# Names come from the record vocabulary, so a CoreMLExportJob's ``quantize`` always has a mode.
_MODES = (
    QuantizeSpec(QuantizeMode.FLOAT32, "float32", None, "iOS17", "macOS14", 0.999, 4.0),
    QuantizeSpec(QuantizeMode.FLOAT16, "float16", None, "iOS17", "macOS14", 0.999, 2.0),
    QuantizeSpec(QuantizeMode.INT8, "float16", "int8", "iOS17", "macOS14", 0.99, 1.0),
    QuantizeSpec(QuantizeMode.INT4, "float16", "int4", "iOS18", "macOS15", 0.97, 0.5),
)
QUANTIZE_MODES: dict[str, QuantizeSpec] = {str(mode.name): mode for mode in _MODES}
DEFAULT_QUANTIZE = QuantizeMode.FLOAT16.value


def get_quantize_mode(name: str) -> QuantizeSpec:
    """The spec of the mode called ``name``; :class:`ExportError` listing the names otherwise."""
    try:
        return QUANTIZE_MODES[name]
    except KeyError:
        raise ExportError(
            f"unknown quantize mode {name!r}; choose one of {', '.join(QUANTIZE_MODES)}"
        ) from None
