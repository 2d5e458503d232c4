"""Listing export records the way users ask for them: by training job, by status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from receipt_cloud.exports.records import resolve_job

if TYPE_CHECKING:
    from receipt_dynamo import ReceiptStore


def list_exports(
    store: ReceiptStore, *, job: str | None = None, status: str | None = None
) -> list[Any]:
    """Export records, oldest first; ``job`` is a Job name or id (records made with either are
    found), ``status`` one of PENDING, RUNNING, SUCCEEDED, FAILED."""
    from receipt_dynamo import ExportStatus

    wanted = ExportStatus(status.upper()) if status else None
    if job is None:
        exports = (
            store.list_export_jobs_by_status(wanted) if wanted else store.list_export_jobs()
        )
    else:
        found = resolve_job(store, job)
        refs = {job} | ({found.name, found.job_id} if found else set())
        by_id = {e.export_id: e for ref in refs for e in store.list_export_jobs_for_job(ref)}
        exports = [e for e in by_id.values() if wanted is None or e.status == wanted]
    return sorted(exports, key=lambda e: e.created_at)


def export_summary(export: Any) -> dict[str, Any]:
    """The fields ``exports list --json`` prints (one JSON object per export)."""
    return {
        "export_id": export.export_id,
        "job_id": export.job_id,
        "status": export.status.value,
        "quantize": export.quantize.value,
        "model_s3_uri": export.model_s3_uri,
        "output_s3_prefix": export.output_s3_prefix,
        "bundle_s3_uri": export.bundle_s3_uri,
        "mlpackage_s3_uri": export.mlpackage_s3_uri,
        "model_size_bytes": export.model_size_bytes,
        "export_duration_seconds": export.export_duration_seconds,
        "created_at": export.created_at,
        "updated_at": export.updated_at,
        "error_message": export.error_message,
        "rollout": export.rollout,
    }
