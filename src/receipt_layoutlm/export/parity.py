"""The parity gate: every exported runtime against PyTorch float32 on real encoded receipts.

For each receipt, the reference (PyTorch float32) and each candidate runtime run the *same*
encoded windows; logits are compared on real tokens (padding excluded) and words are decoded with
``encoding.decode_word_labels`` — the code inference uses. A bundle is refused
(:class:`ParityGateError`) when a runtime's weights or logits hold NaN/Inf or its word-label
agreement is below the threshold of its mode.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from receipt_layoutlm.document import ReceiptDocument
from receipt_layoutlm.encoding import EncodedReceipt, decode_word_labels, encode_receipt
from receipt_layoutlm.errors import ExportError, ParityGateError
from receipt_layoutlm.export.quantize import QUANTIZE_MODES
from receipt_layoutlm.runtime import Runtime


@dataclass(frozen=True)
class ParityThresholds:
    """Minimum word-label agreement with PyTorch float32, per mode (a fraction in [0, 1])."""

    # Defaults come from QUANTIZE_MODES (one source for the CLI help, the gate and the docs).
    float32: float = QUANTIZE_MODES["float32"].default_agreement
    """Float32 Core ML and ONNX fp32."""
    float16: float = QUANTIZE_MODES["float16"].default_agreement
    """Float16 Core ML."""
    int8: float = QUANTIZE_MODES["int8"].default_agreement
    """Int8 weights (Core ML linear int8, ONNX dynamic int8)."""
    int4: float = QUANTIZE_MODES["int4"].default_agreement
    """4-bit weights (Core ML linear int4)."""

    def for_mode(self, mode: str) -> float:
        try:
            return float(getattr(self, mode))
        except AttributeError:
            names = ", ".join(f.name for f in fields(self))
            raise ExportError(f"no parity threshold for mode {mode!r}; modes: {names}") from None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not 0.0 <= float(value) <= 1.0:
                raise ExportError(
                    f"parity threshold for {f.name} must be a fraction in [0, 1], got {value}"
                )


@dataclass
class RuntimeParity:
    """How one runtime compares with PyTorch float32."""

    runtime: str
    """Runtime name (``onnx``, ``onnx-int8``, ``coreml-mil``, ``coreml``)."""
    mode: str
    """Weight precision of that runtime's model (quantize mode)."""
    threshold: float
    """Agreement required by the gate."""
    receipts: int = 0
    windows: int = 0
    words: int = 0
    tokens: int = 0
    logits: int = 0
    """Number of logits compared (real tokens × labels)."""
    max_abs_logit_diff: float = 0.0
    """Largest |logit − reference| over real tokens (NaN when the outputs hold NaN)."""
    mean_abs_logit_diff: float = 0.0
    word_agreement: float = 0.0
    """Fraction of words whose decoded tag equals the reference's."""
    nonfinite_outputs: int = 0
    """Number of NaN/Inf logits over real tokens."""
    nonfinite_weights: list[str] = field(default_factory=list)
    """Weight tensors holding NaN/Inf (first few names)."""
    seconds: float = 0.0
    """Wall time of this runtime over all receipts."""

    @property
    def failures(self) -> list[str]:
        out = []
        if self.nonfinite_weights:
            out.append(
                f"{self.runtime} ({self.mode}) weights hold NaN/Inf: "
                f"{', '.join(self.nonfinite_weights[:3])}"
            )
        if self.nonfinite_outputs:
            out.append(
                f"{self.runtime} ({self.mode}) produced {self.nonfinite_outputs} NaN/Inf logits "
                f"of {self.logits}"
            )
        if self.word_agreement < self.threshold:
            out.append(
                f"{self.runtime} ({self.mode}) word-label agreement {self.word_agreement:.4%} "
                f"< threshold {self.threshold:.2%}"
            )
        return out

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["passed"] = self.passed
        for key in ("max_abs_logit_diff", "mean_abs_logit_diff"):
            value = d[key]
            d[key] = None if not np.isfinite(value) else float(value)
        return d


@dataclass
class ParityReport:
    """The gate's measurements for one export."""

    source: str
    """Where the receipts came from: ``jsonl:PATH``, ``store:ENV``, ``documents`` or
    ``synthetic`` (only when nothing else exists)."""
    reference: str
    """The reference runtime (``torch-float32``)."""
    receipts: int
    words: int
    results: list[RuntimeParity]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> list[str]:
        return [msg for r in self.results for msg in r.failures]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "reference": self.reference,
            "receipts": self.receipts,
            "words": self.words,
            "passed": self.passed,
            "results": [r.to_dict() for r in self.results],
        }

    def table(self) -> str:
        """A fixed-width table of every runtime's numbers (printed by the CLI)."""
        head = (
            f"{'runtime':<12} {'mode':<8} {'max|Δlogit|':>12} {'mean|Δlogit|':>13} "
            f"{'agreement':>10} {'threshold':>10} {'status':>6}"
        )
        lines = [
            f"parity vs {self.reference} on {self.receipts} receipts / {self.words} words "
            f"({self.source})",
            head,
            "-" * len(head),
        ]
        for r in self.results:
            lines.append(
                f"{r.runtime:<12} {r.mode:<8} {r.max_abs_logit_diff:>12.3g} "
                f"{r.mean_abs_logit_diff:>13.3g} {r.word_agreement:>10.4%} "
                f"{r.threshold:>10.2%} {'ok' if r.passed else 'FAIL':>6}"
            )
        return "\n".join(lines)

    def enforce(self) -> None:
        """Raise :class:`ParityGateError` listing every failure (measured values included)."""
        if not self.passed:
            raise ParityGateError(
                "parity gate refused the bundle: " + "; ".join(self.failures) + "\n" + self.table()
            )


def run_parity(
    reference: Runtime,
    candidates: Sequence[Runtime],
    documents: Sequence[ReceiptDocument],
    *,
    thresholds: ParityThresholds = ParityThresholds(),
    source: str = "documents",
) -> ParityReport:
    """Compare each candidate runtime with ``reference`` on ``documents`` encoded with the
    first candidate's tokenizer and encoding spec (the bundle's — what the device will use)."""
    if not documents:
        raise ExportError("parity needs at least one receipt; pass --parity-receipts >= 1")
    spec_owner = candidates[0] if candidates else reference
    encoded: list[EncodedReceipt] = [
        encode_receipt(doc, spec_owner.tokenizer, spec_owner.encoding_config) for doc in documents
    ]
    ref_logits = [reference.predict_windows(e) for e in encoded]
    ref_tags = [
        [p.tag for p in decode_word_labels(e, logits, reference.labels)]
        for e, logits in zip(encoded, ref_logits, strict=True)
    ]
    results = [
        _compare(runtime, encoded, ref_logits, ref_tags, thresholds) for runtime in candidates
    ]
    return ParityReport(
        source=source,
        reference=f"{reference.name}-{reference.quantize}",
        receipts=len(encoded),
        words=sum(e.num_words for e in encoded),
        results=results,
    )


def _compare(
    runtime: Runtime,
    encoded: list[EncodedReceipt],
    ref_logits: list[list[np.ndarray]],
    ref_tags: list[list[str]],
    thresholds: ParityThresholds,
) -> RuntimeParity:
    result = RuntimeParity(
        runtime=runtime.name,
        mode=runtime.quantize,
        threshold=thresholds.for_mode(runtime.quantize),
        nonfinite_weights=runtime.nonfinite_weights()[:10],
    )
    start = time.perf_counter()
    abs_sum = 0.0
    max_diff = 0.0
    finite = True
    agree = 0
    for enc, reference, tags in zip(encoded, ref_logits, ref_tags, strict=True):
        logits = runtime.predict_windows(enc)
        for got, want in zip(logits, reference, strict=True):
            diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
            result.logits += diff.size
            result.nonfinite_outputs += int((~np.isfinite(got)).sum())
            finite = finite and bool(np.isfinite(diff).all())
            if diff.size:
                max_diff = max(max_diff, float(np.nanmax(diff)) if finite else 0.0)
            abs_sum += float(diff.sum())
            result.tokens += got.shape[0]
            result.windows += 1
        predicted = decode_word_labels(enc, logits, runtime.labels)
        agree += sum(p.tag == t for p, t in zip(predicted, tags, strict=True))
        result.words += len(tags)
        result.receipts += 1
    result.seconds = round(time.perf_counter() - start, 3)
    result.max_abs_logit_diff = max_diff if finite else float("nan")
    result.mean_abs_logit_diff = abs_sum / max(result.logits, 1) if finite else float("nan")
    result.word_agreement = agree / max(result.words, 1)
    return result
