"""The parity gate: every exported runtime against PyTorch float32 on real encoded receipts.

For each receipt, the reference (PyTorch float32) and each candidate runtime run the *same*
encoded windows; logits are compared on real tokens (padding excluded) and words are decoded with
``encoding.decode_word_labels`` — the code inference uses. A bundle is refused
(:class:`ParityGateError`) when a runtime's weights or logits hold NaN/Inf or its word-label
agreement is below the threshold of its mode.

Agreement is reported twice: on all words, and on the words the reference is sure of — whose
top-2 tag probability margin exceeds :data:`MARGIN_NOISE_FLOOR`. A barely trained model has
near-tied tags everywhere, so a faithful export (max |Δlogit| 0.009) still "disagrees" on 1–2 %
of words that are coin tosses for the reference itself; on a trained model both figures are
nearly equal. The gate requires the mode's threshold on the confident words and
``all_words_floor`` on all words.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from receipt_layoutlm.document import ReceiptDocument
from receipt_layoutlm.encoding import (
    EncodedReceipt,
    decode_word_labels,
    encode_receipt,
    top2_margins,
    word_probabilities,
)
from receipt_layoutlm.errors import ExportError, ParityGateError
from receipt_layoutlm.export.quantize import QUANTIZE_MODES
from receipt_layoutlm.runtime import Runtime

MARGIN_NOISE_FLOOR = 0.05
"""Top-2 tag probability margin of the reference at or below which a word is a coin toss: its
argmax is not a fact an export can agree or disagree with. Stated, not fitted: a logit change
of δ moves a probability margin by at most δ, so int8's typical |Δlogit| of a few hundredths
flips only words this close; the worst-case logit changes of int8 and int4 on a trained model
(3–9, docs/export.md) are why the gate still measures on every confident word."""

ALL_WORDS_FLOOR = 0.90
"""Minimum agreement over ALL words, whatever their margin (the mode's threshold applies to the
confident ones)."""


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
    margin_floor: float = MARGIN_NOISE_FLOOR
    """Words whose reference top-2 probability margin is at or below this count only in the
    all-words agreement."""
    all_words_floor: float = ALL_WORDS_FLOOR
    """Minimum agreement over all words."""

    def for_mode(self, mode: str) -> float:
        if mode not in QUANTIZE_MODES:
            names = ", ".join(QUANTIZE_MODES)
            raise ExportError(f"no parity threshold for mode {mode!r}; modes: {names}")
        return float(getattr(self, mode))

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
    """Agreement required by the gate on the confident words."""
    margin_floor: float = MARGIN_NOISE_FLOOR
    """A word is confident when the reference's top-2 probability margin exceeds this."""
    all_words_floor: float = ALL_WORDS_FLOOR
    """Agreement required on all words."""
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
    """Fraction of ALL words whose decoded tag equals the reference's."""
    confident_words: int = 0
    """Words whose reference top-2 margin exceeds ``margin_floor``."""
    confident_agreement: float = 1.0
    """Agreement on the confident words (1.0 when there are none: nothing to disagree on)."""
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
        if self.confident_agreement < self.threshold:
            out.append(
                f"{self.runtime} ({self.mode}) word-label agreement {self.confident_agreement:.4%}"
                f" on the {self.confident_words} words with a reference margin > "
                f"{self.margin_floor:g} < threshold {self.threshold:.2%}"
            )
        if self.word_agreement < self.all_words_floor:
            out.append(
                f"{self.runtime} ({self.mode}) word-label agreement {self.word_agreement:.4%} "
                f"on all words < floor {self.all_words_floor:.2%}"
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
            f"{'agreement':>10} {'confident':>10} {'threshold':>10} {'status':>6}"
        )
        floor = self.results[0].margin_floor if self.results else MARGIN_NOISE_FLOOR
        lines = [
            f"parity vs {self.reference} on {self.receipts} receipts / {self.words} words "
            f"({self.source}); agreement: all words, confident: words with a reference "
            f"top-2 margin > {floor:g}",
            head,
            "-" * len(head),
        ]
        for r in self.results:
            lines.append(
                f"{r.runtime:<12} {r.mode:<8} {r.max_abs_logit_diff:>12.3g} "
                f"{r.mean_abs_logit_diff:>13.3g} {r.word_agreement:>10.4%} "
                f"{r.confident_agreement:>10.4%} {r.threshold:>10.2%} "
                f"{'ok' if r.passed else 'FAIL':>6}"
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
    confident = [
        top2_margins(word_probabilities(e, logits)) > thresholds.margin_floor
        for e, logits in zip(encoded, ref_logits, strict=True)
    ]
    reference_side = (ref_logits, ref_tags, confident)
    results = [_compare(runtime, encoded, reference_side, thresholds) for runtime in candidates]
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
    reference_side: tuple[list[list[np.ndarray]], list[list[str]], list[np.ndarray]],
    thresholds: ParityThresholds,
) -> RuntimeParity:
    ref_logits, ref_tags, confident = reference_side
    result = RuntimeParity(
        runtime=runtime.name,
        mode=runtime.quantize,
        threshold=thresholds.for_mode(runtime.quantize),
        margin_floor=thresholds.margin_floor,
        all_words_floor=thresholds.all_words_floor,
        nonfinite_weights=runtime.nonfinite_weights()[:10],
    )
    start = time.perf_counter()
    abs_sum = 0.0
    max_diff = 0.0
    finite = True
    agree = agree_confident = 0
    for enc, reference, tags, sure in zip(encoded, ref_logits, ref_tags, confident, strict=True):
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
        same = [p.tag == t for p, t in zip(predicted, tags, strict=True)]
        agree += sum(same)
        agree_confident += sum(ok for ok, s in zip(same, sure, strict=True) if s)
        result.confident_words += int(sure.sum())
        result.words += len(tags)
        result.receipts += 1
    result.seconds = round(time.perf_counter() - start, 3)
    result.max_abs_logit_diff = max_diff if finite else float("nan")
    result.mean_abs_logit_diff = abs_sum / max(result.logits, 1) if finite else float("nan")
    result.word_agreement = agree / max(result.words, 1)
    if result.confident_words:
        result.confident_agreement = agree_confident / result.confident_words
    return result
