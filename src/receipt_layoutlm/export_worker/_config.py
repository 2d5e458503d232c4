"""``ExportWorkerOptions``: how the worker exports (the same for every message it serves)."""

from __future__ import annotations

from dataclasses import dataclass, field

from receipt_layoutlm.bundles.rollout import DEFAULT_ROLLOUT, ROLLOUT_POLICIES
from receipt_layoutlm.export.parity import ParityThresholds


@dataclass(frozen=True)
class ExportWorkerOptions:
    """Export settings a message does not carry; defaults match ``export-coreml``'s."""

    formats: tuple[str, ...] = ("coreml", "onnx")
    """Artefacts each bundle carries (``coreml`` and/or ``onnx``)."""
    seq_length: int = 512
    """Fixed sequence length of the exported model."""
    model_name: str = "LayoutLM"
    """Name of the ``.mlpackage`` (the seed's consumers expect ``LayoutLM``)."""
    parity_receipts: int = 20
    """Receipts the parity gate runs."""
    parity_data: str | None = None
    """JSONL parity receipts; None: the environment's store, else the training dataset file."""
    thresholds: ParityThresholds = field(default_factory=ParityThresholds)
    """Minimum word-label agreement per quantize mode (the gate refuses below it)."""
    weight_threshold: int = 2048
    """Weights with fewer elements are not quantized (biases, norms)."""
    make_zip: bool = True
    """Also publish ``<bundle>.zip``."""
    rollout: str = DEFAULT_ROLLOUT
    """After a bundle passes: ``never`` (wait for ``promote``), ``on-pass`` (promote it) or
    ``if-better`` (promote it when its job's dev F1 is no worse than the active bundle's on the
    same labels); a training Job's ``coreml-rollout`` tag overrides it for its exports."""

    def __post_init__(self) -> None:
        if self.rollout not in ROLLOUT_POLICIES:
            raise ValueError(
                f"rollout must be one of {', '.join(ROLLOUT_POLICIES)}, got {self.rollout!r}"
            )
