"""What one report shows, gathered before any HTML is written (so tests can read it directly)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class BundleSummary:
    """One exported bundle of the job, read from its ``manifest.json``."""

    uri: str
    """Bundle directory (local path or ``s3://`` prefix)."""
    export_id: str
    """The export's id."""
    quantize: str
    """Quantize mode (``float16``, ``int8``…)."""
    export_time: str
    """When it was exported (ISO 8601)."""
    total_bytes: int
    """Sum of every file in the bundle."""
    sizes: dict[str, int]
    """Per artefact: ``mlpackage_bytes``, ``onnx_bytes``, ``onnx_int8_bytes``."""
    parity_passed: bool
    """Whether the parity gate released it."""
    parity_source: str
    """Where the gate's receipts came from."""
    parity: list[dict[str, Any]]
    """One row per runtime: runtime, mode, word_agreement, threshold, max_abs_logit_diff, passed."""
    active: bool = False
    """True when ``bundles/active.json`` points at it."""


@dataclass
class LabelledPhoto:
    """One receipt the labelling worker labelled: its photo with boxes, and its fields."""

    name: str
    """The photo's original file name when the results JSON records it, else the results
    JSON's key in the raw store."""
    image_bytes: bytes
    """The photo with each word's box drawn in its label's colour (PNG or JPEG bytes)."""
    image_mime: str
    """``image/png`` or ``image/jpeg``."""
    fields: list[tuple[str, str, float | None]]
    """(field, value, confidence) extracted by the worker."""
    labels: list[tuple[str, int]]
    """(label, words) counts, for the legend."""
    note: str = ""
    """How the picture was made when the original photo was not found."""
    model: str = ""
    """Which model labelled it, when the results JSON says (``label_proposed_by``…)."""
    results_key: str = ""
    """The results JSON's key in the raw store (shown under the name)."""


@dataclass
class ReportData:
    """Everything the HTML report shows; each part may be empty (the report says so)."""

    job_name: str
    job: dict[str, Any]
    """status, job_id, created_at, updated_at, best_f1, best_epoch, checkpoint, status_message."""
    epochs: list[dict[str, Any]] = field(default_factory=list)
    """One row per epoch: epoch, loss, learning_rate, eval_loss, eval_precision, eval_recall,
    eval_f1."""
    per_label: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Entity scores per label (evaluation when given, else the training's best epoch)."""
    per_label_source: str = ""
    """Which of the two ``per_label`` is."""
    confusion: tuple[list[str], list[list[int]]] | None = None
    """(labels, matrix) of the training's dev set, rows true, columns predicted."""
    evaluation_dir: str | None = None
    """The evaluate output directory read, or None when the job was not evaluated."""
    evaluation: dict[str, Any] = field(default_factory=dict)
    """Headline numbers of the evaluation (receipts, entity F1, token accuracy, task-3 F1)."""
    task3_per_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    """SROIE task-3 precision/recall/F1 per field."""
    mismatches: list[dict[str, str]] | None = None
    """The worst task-3 mismatches (receipt, key, predicted, expected); None = not recorded."""
    bundles: list[BundleSummary] = field(default_factory=list)
    photos: list[LabelledPhoto] = field(default_factory=list)
    photos_total: int = 0
    """Results JSON files found (the report shows at most ``max_photos`` of them)."""
    problems: list[str] = field(default_factory=list)
    """Inputs that could not be read, one line each (shown in the report, never fatal)."""
