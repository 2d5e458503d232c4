"""Read one job's report data from the environment: the Job and its JobMetric rows (store), the
training report (``runs/<job>/report.json``), an ``evaluate`` output directory, the job's
bundles (``bundles/<job>/*/manifest.json``) and the labelling worker's results (``ocr_results/``).

Anything missing is left empty (the report says so); anything unreadable is one line in
``ReportData.problems``. Only a job that does not exist is an error.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_layoutlm.errors import CheckpointError
from receipt_layoutlm.reporting.model import BundleSummary, ReportData

if TYPE_CHECKING:
    from receipt_cloud.objects import ObjectStore
    from receipt_cloud.settings import Settings
    from receipt_dynamo import Job, JobMetric
    from receipt_layoutlm.reporting.inputs import BundleManifest

log = logging.getLogger(__name__)

EPOCH_COLUMNS = ("loss", "learning_rate", "eval_loss", "eval_precision", "eval_recall", "eval_f1")
WORST_MISMATCHES = 15
"""Mismatches shown in the report."""


def _status(job: Job) -> str:
    return str(getattr(job.status, "value", job.status))


def job_summary(job: Job) -> dict[str, Any]:
    results = job.results or {}
    return {
        "job_id": job.job_id,
        "status": _status(job),
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "best_f1": results.get("best_f1"),
        "best_epoch": results.get("best_epoch"),
        "checkpoint": results.get("best_checkpoint_s3_path"),
        "status_message": job.status_message,
    }


def epoch_rows(metrics: list[JobMetric]) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """JobMetric rows → one scalar row per epoch, and the per-label dicts by epoch."""
    rows: dict[int, dict[str, Any]] = {}
    per_label: dict[int, dict[str, Any]] = {}
    for m in metrics:
        if m.epoch is None:
            continue
        if m.metric_name in EPOCH_COLUMNS and isinstance(m.value, int | float):
            rows.setdefault(m.epoch, {"epoch": m.epoch})[m.metric_name] = float(m.value)
        elif m.metric_name == "eval_per_label" and isinstance(m.value, dict):
            per_label[m.epoch] = m.value
    return [rows[e] for e in sorted(rows)], per_label


def _read_json(objects: ObjectStore, key: str, problems: list[str]) -> Any:
    try:
        if not objects.exists(key):
            return None
        return json.loads(objects.get_bytes(key))
    except (OSError, ValueError, RecursionError) as exc:
        problems.append(f"{objects.uri(key)}: {type(exc).__name__}: {exc}".replace("\n", " "))
        return None


def read_evaluation(data: ReportData, directory: Path) -> None:
    """Fill the evaluation parts of ``data`` from ``directory/report.json`` (``evaluate``)."""
    from receipt_layoutlm.reporting.inputs import EvaluationReport, parse

    path = directory / "report.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        data.problems.append(f"{path}: cannot read the evaluation ({exc})")
        return
    report = parse(EvaluationReport, raw, f"{path}: not an evaluation report", data.problems)
    if report is None:
        return
    metrics = report.metrics
    data.evaluation_dir = str(directory)
    runtime = metrics.runtime
    if isinstance(runtime, dict):  # runtime.describe(): name and quantize mode say enough here
        runtime = " ".join(str(runtime[k]) for k in ("runtime", "quantize") if runtime.get(k))
    task3 = metrics.sroie_task3
    data.evaluation = {
        "receipts": metrics.receipts,
        "runtime": runtime,
        "entity_f1": metrics.entity.f1,
        "token_accuracy": metrics.token_accuracy,
        "task3_f1": task3.f1,
    }
    if metrics.entity.per_label:
        data.per_label = {k: v.model_dump() for k, v in metrics.entity.per_label.items()}
        data.per_label_source = "evaluation"
    data.task3_per_key = {k: v.model_dump() for k, v in task3.per_key.items()}
    found = task3.mismatches if task3.mismatches is not None else task3.worst_mismatches
    if found is not None:
        from receipt_layoutlm.evaluation.sroie import Mismatch, worst_mismatches

        ranked = worst_mismatches([Mismatch(**m.model_dump()) for m in found], WORST_MISMATCHES)
        data.mismatches = [vars(m).copy() for m in ranked]


def read_training_report(data: ReportData, runs: ObjectStore) -> None:
    """The confusion matrix of the training's dev set (``runs/<job>/report.json``)."""
    from receipt_layoutlm.reporting.inputs import TrainingReport, parse

    key = f"runs/{data.job_name}/report.json"
    raw = _read_json(runs, key, data.problems)
    if raw is None:
        return
    report = parse(TrainingReport, raw, f"{runs.uri(key)}: not a training report", data.problems)
    matrix = report.confusion_matrix if report is not None else None
    if matrix is not None and matrix.labels:
        data.confusion = (list(matrix.labels), [list(r) for r in matrix.matrix])


def _bundle(uri: str, manifest: BundleManifest, active_uri: str | None) -> BundleSummary:
    from receipt_layoutlm.bundles.locations import canonical_uri

    return BundleSummary(
        uri=uri,
        export_id=manifest.export_id,
        quantize=manifest.quantize,
        export_time=manifest.export_time,
        total_bytes=manifest.total_size_bytes,
        sizes=dict(manifest.sizes),
        parity_passed=manifest.parity.passed,
        parity_source=manifest.parity.source,
        parity=[r.model_dump() for r in manifest.parity.results],
        active=bool(active_uri) and canonical_uri(uri) == canonical_uri(str(active_uri)),
    )


def read_bundles(data: ReportData, settings: Settings) -> None:
    """Every bundle exported from this job, newest first, via the registry's object store."""
    from receipt_layoutlm.bundle_format import MANIFEST_FILE
    from receipt_layoutlm.bundles.registry import BundleRegistry
    from receipt_layoutlm.reporting.inputs import BundleManifest, parse

    registry = BundleRegistry.from_settings(settings)
    try:
        active = registry.active() or {}
        if not isinstance(active, dict):
            raise CheckpointError(f"{registry.store.uri('bundles/active.json')} is not an object")
    except CheckpointError as exc:  # a broken pointer must not hide the bundles themselves
        data.problems.append(f"active bundle pointer: {exc}")
        active = {}
    for key in registry.manifest_keys(data.job_name):
        raw = _read_json(registry.store, key, data.problems)
        where = f"{registry.store.uri(key)}: not a bundle manifest"
        manifest = parse(BundleManifest, raw, where, data.problems) if raw is not None else None
        if manifest is not None:
            uri = registry.store.uri(key[: -len(MANIFEST_FILE) - 1])
            data.bundles.append(_bundle(uri, manifest, active.get("bundle_uri")))
    data.bundles.sort(key=lambda b: b.export_time, reverse=True)


def collect_report(job_name: str, settings: Settings, *, evaluation_dir: str | Path | None = None,
                   max_photos: int = 12) -> ReportData:
    """Gather :class:`ReportData` for ``job_name`` (EntityNotFoundError when no such Job).

    ``evaluation_dir`` defaults to ``<data-dir>/evaluation/<job>`` when that exists (where
    ``scripts/demo.sh`` evaluates to)."""
    from receipt_layoutlm.reporting.photos import read_labelled_photos

    store = settings.open_store()
    job = store.get_job_by_name(job_name)
    data = ReportData(job_name=job_name, job=job_summary(job))
    data.epochs, per_label = epoch_rows(store.list_job_metrics(job.job_id))
    best = data.job.get("best_epoch")
    if isinstance(best, int) and best in per_label:
        from receipt_layoutlm.reporting.inputs import TrainingScores, parse

        where = f"Job {job_name} JobMetric eval_per_label of epoch {best}: not per-label scores"
        scores = parse(TrainingScores, {"per_label": per_label[best]}, where, data.problems)
        if scores is not None:
            data.per_label = {k: v.model_dump() for k, v in scores.per_label.items()}
            data.per_label_source = f"training, epoch {best}"
    read_training_report(data, settings.open_objects("runs"))
    if evaluation_dir is None:
        default = Path(settings.data_dir) / "evaluation" / job_name
        evaluation_dir = default if (default / "report.json").is_file() else None
    if evaluation_dir is not None:
        read_evaluation(data, Path(evaluation_dir))
    read_bundles(data, settings)
    read_labelled_photos(data, settings.open_objects("raw"), limit=max_photos)
    return data
