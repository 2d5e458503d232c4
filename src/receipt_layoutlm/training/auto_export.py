"""Auto-export after training. Locally, the end of a successful ``train`` of a job named
``layoutlm-*`` plays the role of the cloud's EventBridge rule: it hands the Job to the auto-export
handler."""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from receipt_cloud.settings import Settings
    from receipt_dynamo import Job

log = logging.getLogger(__name__)

AUTO_EXPORT_PREFIX = "layoutlm-"
AUTO_EXPORT_MODULE = "receipt_cloud.handlers.auto_export"
# The handler's contract: ``start_export_for_job(job_name=..., settings=...)`` creates the PENDING
# CoreMLExportJob and sends the export message (the cloud's EventBridge Lambda calls the same).
AUTO_EXPORT_FUNCTION = "start_export_for_job"


def wants_auto_export(job: Job) -> bool:
    """Job name starts with ``layoutlm-`` and the job is not tagged ``skip-coreml-export: true``."""
    skip = str((getattr(job, "tags", None) or {}).get("skip-coreml-export", "")).lower()
    return job.name.startswith(AUTO_EXPORT_PREFIX) and skip != "true"


def run_auto_export(job: Job, settings: Settings) -> dict[str, Any] | None:
    """Call ``receipt_cloud.handlers.auto_export`` for ``job`` when that handler is installed;
    otherwise log that auto-export is not available and return None. Failures of the handler are
    logged, never raised: training already succeeded and the export can be started by hand."""
    if not wants_auto_export(job):
        log.info("auto-export skipped for job %s (name or skip-coreml-export tag)", job.name)
        return None
    try:
        handler = importlib.import_module(AUTO_EXPORT_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name and AUTO_EXPORT_MODULE.startswith(exc.name):
            log.info(
                "auto-export is not available (%s is not installed); export by hand with "
                "layoutlm-cli export-coreml --checkpoint-uri %s",
                AUTO_EXPORT_MODULE,
                (job.results or {}).get("best_checkpoint_s3_path", "<best checkpoint>"),
            )
            return None
        raise
    try:
        return getattr(handler, AUTO_EXPORT_FUNCTION)(job_name=job.name, settings=settings)
    except Exception:
        log.exception("auto-export for job %s failed; run export-coreml by hand", job.name)
        return None
