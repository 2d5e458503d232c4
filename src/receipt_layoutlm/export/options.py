"""What an export is asked to do (:class:`ExportOptions`) and what it produced
(:class:`ExportResult`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from receipt_layoutlm.bundle_format import (
    DEFAULT_FORMATS,
    DEFAULT_MODEL_NAME,
    artifact_format,
    format_names,
)
from receipt_layoutlm.errors import ExportError
from receipt_layoutlm.export.exporter import check_formats
from receipt_layoutlm.export.int4_recipe import DEFAULT_INT4_BLOCK_SIZE, DEFAULT_INT4_INT8_LAYERS
from receipt_layoutlm.export.parity import ParityReport, ParityThresholds
from receipt_layoutlm.export.quantize import DEFAULT_QUANTIZE, QuantizeSpec, get_quantize_mode

MIN_SEQ_LENGTH = 8


@dataclass(frozen=True)
class ExportOptions:
    """One export: where from, where to, how."""

    checkpoint: str
    """Checkpoint directory or ``s3://`` prefix (written by ``save_checkpoint``)."""
    output: str
    """Destination: a local directory (must be absent or empty) or an ``s3://`` prefix (must hold
    no objects). The bundle's files go directly under it; the zip goes to ``<output>.zip``."""
    quantize: str = DEFAULT_QUANTIZE
    """``float32``, ``float16``, ``int8`` or ``int4`` (Core ML weights)."""
    formats: tuple[str, ...] = DEFAULT_FORMATS
    """Which artifacts to build: registered format names (``bundle_format.ARTIFACT_FORMATS``:
    ``coreml``, ``onnx``, which adds ``model.int8.onnx``); default ``DEFAULT_FORMATS``."""
    seq_length: int = 512
    """Fixed Core ML sequence length; also the bundle's encoding ``max_seq_length``."""
    coreml_seq_lengths: tuple[int, ...] = ()
    """Shorter sequence lengths the Core ML program also takes (e.g. ``(128, 256)``), as
    enumerated shapes beside ``seq_length``: the device runs each window at the smallest that
    holds it, so a short receipt does not pay for 512 positions and stays eligible for the
    Neural Engine. Needs iOS18/macOS15. Empty: one fixed ``seq_length``."""
    model_name: str = DEFAULT_MODEL_NAME
    """Name of the ``.mlpackage`` (``<model_name>.mlpackage``)."""
    parity_receipts: int = 20
    """How many receipts the parity gate runs."""
    parity_data: str | None = None
    """JSONL dataset file (importers.jsonl) with the parity receipts."""
    thresholds: ParityThresholds = field(default_factory=ParityThresholds)
    """Minimum word-label agreement per mode."""
    int4_block_size: int = DEFAULT_INT4_BLOCK_SIZE
    """Input channels per scale for int4 (0: one scale per output channel)."""
    int4_int8_layers: tuple[str, ...] = DEFAULT_INT4_INT8_LAYERS
    """The int4 recipe's 8-bit layers: ``fnmatch`` patterns of PyTorch module names (Linear or
    Embedding, e.g. ``classifier``, ``layoutlm.encoder.layer.*.output.dense``) whose weights are
    quantized to int8 per channel in int4 mode; ``()`` puts every weight at int4. The default is
    the set measured to pass the int4 gate on a fine-tuned model (docs/export.md)."""
    weight_threshold: int = 2048
    """Weights with fewer elements are not quantized (biases, norms)."""
    export_id: str | None = None
    """Export id (a new uuid4 when None); the export worker passes the queue message's."""
    job_name: str | None = None
    """Training Job name; read from the checkpoint's metadata when None."""
    make_zip: bool = True
    """Write ``<output>.zip`` beside the bundle."""
    work_dir: str | None = None
    """Where the staging directory is made (None: the system temp folder). The export worker
    passes a folder it owns and sweeps, so a killed export leaves nothing in system temp."""

    def check(self) -> QuantizeSpec:
        """Refuse bad values with one clear :class:`ExportError`; returns the quantize spec."""
        spec = get_quantize_mode(self.quantize)
        check_formats(self.formats)
        if self.seq_length < MIN_SEQ_LENGTH:
            raise ExportError(f"--seq-length {self.seq_length} is too small (>= {MIN_SEQ_LENGTH})")
        outside = [n for n in self.coreml_seq_lengths if not MIN_SEQ_LENGTH <= n <= self.seq_length]
        if outside:
            raise ExportError(
                f"--coreml-seq-lengths {outside} must lie in {MIN_SEQ_LENGTH}..{self.seq_length} "
                "(--seq-length, the longest window)"
            )
        if self.parity_receipts < 1:
            raise ExportError("--parity-receipts must be >= 1: every export runs the parity gate")
        if not self.model_name or "/" in self.model_name:
            raise ExportError(f"--model-name {self.model_name!r} must be a plain file name")
        if self.int4_block_size < 0:
            raise ExportError("int4 block size must be >= 0 (0 = per channel)")
        return spec


@dataclass(frozen=True)
class Artifact:
    """The primary file of one format in a published bundle."""

    name: str
    """File or directory name inside the bundle (``LayoutLM.mlpackage``, ``model.onnx``)."""
    uri: str
    """Where it now lives (local path or ``s3://`` URI)."""
    size_bytes: int
    """Its size (a directory: the sum of its files)."""


@dataclass
class ExportResult:
    """What an export produced (also the export worker's result message fields)."""

    export_id: str
    bundle_uri: str
    """Where the bundle directory now lives (local path or ``s3://`` prefix)."""
    artifacts: dict[str, Artifact]
    """Format name (``coreml``, ``onnx``) -> its primary artifact, for every format built."""
    zip_uri: str | None
    manifest: dict[str, Any]
    parity: ParityReport
    model_size_bytes: int
    """Size of the ``.mlpackage`` (or ``model.onnx`` when Core ML was not built)."""
    export_duration_seconds: float

    def artifact_uri(self, name: str) -> str | None:
        """URI of format ``name``'s primary artefact; None when that format was not built."""
        artifact = self.artifacts.get(name)
        return artifact.uri if artifact is not None else None

    def artifact_uris(self) -> dict[str, str | None]:
        """``{uri_key: URI}`` of every registered format, by format name (None: not built):
        the artifact keys ``export-coreml --json`` prints (``mlpackage_uri``, ``onnx_uri``)."""
        return {
            artifact_format(name).uri_key: self.artifact_uri(name)
            for name in sorted(format_names())
        }
