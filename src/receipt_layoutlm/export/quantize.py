"""Quantize modes: how each one converts, what it needs on device, and its parity threshold."""

from __future__ import annotations

from dataclasses import dataclass

from receipt_dynamo.vocabulary import QuantizeMode as ModeName
from receipt_layoutlm.errors import ExportError


@dataclass(frozen=True)
class QuantizeMode:
    """One ``--quantize`` choice."""

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

    def deployment_target(self) -> dict[str, str]:
        return {"iOS": self.ios_target, "macOS": self.macos_target}


# float32/float16/int8 (constexpr_affine_dequantize) exist since iOS16; iOS17 is the floor we
# support. Linear int4 with per-block scales is constexpr_blockwise_shift_scale: iOS18/macOS15.
# Names come from the record vocabulary, so a CoreMLExportJob's ``quantize`` always has a mode.
_MODES = (
    QuantizeMode(ModeName.FLOAT32, "float32", None, "iOS17", "macOS14", 0.999, 4.0),
    QuantizeMode(ModeName.FLOAT16, "float16", None, "iOS17", "macOS14", 0.999, 2.0),
    QuantizeMode(ModeName.INT8, "float16", "int8", "iOS17", "macOS14", 0.99, 1.0),
    QuantizeMode(ModeName.INT4, "float16", "int4", "iOS18", "macOS15", 0.97, 0.5),
)
QUANTIZE_MODES: dict[str, QuantizeMode] = {str(mode.name): mode for mode in _MODES}
DEFAULT_QUANTIZE = ModeName.FLOAT16.value


def get_quantize_mode(name: str) -> QuantizeMode:
    """The mode called ``name``; :class:`ExportError` listing the valid names otherwise."""
    try:
        return QUANTIZE_MODES[name]
    except KeyError:
        raise ExportError(
            f"unknown quantize mode {name!r}; choose one of {', '.join(QUANTIZE_MODES)}"
        ) from None
