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
from typing import Any

from receipt_layoutlm.errors import CheckpointError
from receipt_layoutlm.reporting.model import BundleSummary, ReportData

log = logging.getLogger(__name__)

EPOCH_COLUMNS = ("loss", "learning_rate", "eval_loss", "eval_precision", "eval_recall", "eval_f1")
WORST_MISMATCHES = 15
"""Mismatches shown in the report."""


def _status(job: Any) -> str:
    return str(getattr(job.status, "value", job.status))


def job_summary(job: Any) -> dict[str, Any]:
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


def epoch_rows(metrics: list[Any]) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
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


def _read_json(objects: Any, key: str, problems: list[str]) -> dict[str, Any] | None:
    try:
        if not objects.exists(key):
            return None
        return json.loads(objects.get_bytes(key))
    except (OSError, ValueError) as exc:
        problems.append(f"{objects.uri(key)}: {exc}")
        return None


def read_evaluation(data: ReportData, directory: Path) -> None:
    """Fill the evaluation parts of ``data`` from ``directory/report.json`` (``evaluate``)."""
    path = directory / "report.json"
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))["metrics"]
    except (OSError, ValueError, KeyError) as exc:
        data.problems.append(f"{path}: cannot read the evaluation ({exc})")
        return
    data.evaluation_dir = str(directory)
    entity = metrics.get("entity") or {}
    task3 = metrics.get("sroie_task3") or {}
    runtime = metrics.get("runtime")
    if isinstance(runtime, dict):  # runtime.describe(): name and quantize mode say enough here
        runtime = " ".join(str(runtime[k]) for k in ("runtime", "quantize") if runtime.get(k))
    data.evaluation = {
        "receipts": metrics.get("receipts"),
        "runtime": runtime,
        "entity_f1": entity.get("f1"),
        "token_accuracy": metrics.get("token_accuracy"),
        "task3_f1": task3.get("f1"),
    }
    if entity.get("per_label"):
        data.per_label, data.per_label_source = dict(entity["per_label"]), "evaluation"
    data.task3_per_key = dict(task3.get("per_key") or {})
    found = task3.get("mismatches", task3.get("worst_mismatches"))
    if isinstance(found, list):
        from receipt_layoutlm.evaluation.sroie import Mismatch, worst_mismatches

        try:
            ranked = worst_mismatches([Mismatch(**m) for m in found], WORST_MISMATCHES)
        except TypeError as exc:
            data.problems.append(f"{path}: unexpected mismatch entries ({exc})")
        else:
            data.mismatches = [vars(m).copy() for m in ranked]


def read_training_report(data: ReportData, runs: Any) -> None:
    """The confusion matrix of the training's dev set (``runs/<job>/report.json``)."""
    report = _read_json(runs, f"runs/{data.job_name}/report.json", data.problems)
    matrix = (report or {}).get("confusion_matrix")
    if matrix and matrix.get("labels") and matrix.get("matrix"):
        data.confusion = (list(matrix["labels"]), [list(r) for r in matrix["matrix"]])


def _bundle(uri: str, manifest: dict[str, Any], active_uri: str | None) -> BundleSummary:
    from receipt_layoutlm.export.registry import canonical_uri

    parity = manifest.get("parity") or {}
    return BundleSummary(
        uri=uri,
        export_id=str(manifest.get("export_id", "")),
        quantize=str(manifest.get("quantize", "")),
        export_time=str(manifest.get("export_time", "")),
        total_bytes=int(manifest.get("total_size_bytes", 0)),
        sizes={k: int(v) for k, v in (manifest.get("sizes") or {}).items()},
        parity_passed=bool(parity.get("passed", False)),
        parity_source=str(parity.get("source", "")),
        parity=[dict(r) for r in parity.get("results") or []],
        active=bool(active_uri) and canonical_uri(uri) == canonical_uri(str(active_uri)),
    )


def read_bundles(data: ReportData, settings: Any) -> None:
    """Every bundle exported from this job, newest first, via the registry's object store."""
    from receipt_layoutlm.bundle_format import MANIFEST_FILE
    from receipt_layoutlm.export.registry import BUNDLES_PREFIX, BundleRegistry

    registry = BundleRegistry.from_settings(settings)
    try:
        active = registry.active() or {}
    except CheckpointError as exc:  # a broken pointer must not hide the bundles themselves
        data.problems.append(f"active bundle pointer: {exc}")
        active = {}
    prefix = f"{BUNDLES_PREFIX}/{data.job_name}/"
    for key in registry.store.list(prefix):
        if not key.endswith(f"/{MANIFEST_FILE}") or key.count("/") != 3:
            continue
        manifest = _read_json(registry.store, key, data.problems)
        if manifest is not None:
            uri = registry.store.uri(key[: -len(MANIFEST_FILE) - 1])
            data.bundles.append(_bundle(uri, manifest, active.get("bundle_uri")))
    data.bundles.sort(key=lambda b: b.export_time, reverse=True)


def collect_report(job_name: str, settings: Any, *, evaluation_dir: str | Path | None = None,
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
    if best in per_label:
        data.per_label, data.per_label_source = dict(per_label[best]), f"training, epoch {best}"
    read_training_report(data, settings.open_objects("runs"))
    if evaluation_dir is None:
        default = Path(settings.data_dir) / "evaluation" / job_name
        evaluation_dir = default if (default / "report.json").is_file() else None
    if evaluation_dir is not None:
        read_evaluation(data, Path(evaluation_dir))
    read_bundles(data, settings)
    read_labelled_photos(data, settings.open_objects("raw"), limit=max_photos)
    return data
