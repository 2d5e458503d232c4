"""``ExportWorkerOptions``: how the worker exports (the same for every message it serves)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from receipt_layoutlm.bundles.rollout import DEFAULT_ROLLOUT, ROLLOUT_POLICIES
from receipt_layoutlm.export.options import ExportOptions


def _template(**fields: Any) -> ExportOptions:
    # Checkpoint and destination come with each message (dataclasses.replace in the handler).
    return ExportOptions(checkpoint="", output="", **fields)


@dataclass(frozen=True)
class ExportWorkerOptions:
    """Export settings a message does not carry; defaults are ``export-coreml``'s."""

    template: ExportOptions = field(default_factory=_template)
    """The ``ExportOptions`` every export starts from (formats, sequence length, model name,
    parity gate, quantization knobs, zip); each message replaces its checkpoint, destination,
    quantize mode, export id and training job."""
    rollout: str = DEFAULT_ROLLOUT
    """After a bundle passes: ``never`` (wait for ``promote``), ``on-pass`` (promote it) or
    ``if-better`` (promote it when its job's dev F1 is no worse than the active bundle's on the
    same labels); a training Job's ``coreml-rollout`` tag overrides it for its exports."""

    def __post_init__(self) -> None:
        if self.rollout not in ROLLOUT_POLICIES:
            raise ValueError(
                f"rollout must be one of {', '.join(ROLLOUT_POLICIES)}, got {self.rollout!r}"
            )

    @classmethod
    def of(cls, *, rollout: str = DEFAULT_ROLLOUT, **export: Any) -> ExportWorkerOptions:
        """Options from ``ExportOptions`` field values (those a message sets left out)."""
        return cls(template=_template(**export), rollout=rollout)
