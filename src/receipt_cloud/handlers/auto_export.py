"""Auto-export: a completed ``layoutlm-*`` training job gets a PENDING export and a queued message.

``handler`` is the Lambda behind the EventBridge rule for "SageMaker Training Job State Change";
``start_export_for_job`` is what it calls, and what a local ``layoutlm-cli train`` calls when it
ends (see ``receipt_layoutlm.training.auto_export``). Errors raise (EventBridge retries the event);
deliberate skips return ``{"skipped": reason}``.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from receipt_cloud.errors import ReceiptCloudError
from receipt_cloud.exports import (
    DEFAULT_QUANTIZE,
    QUANTIZE_NAMES,
    ExportRequest,
    bundle_output_prefix,
    create_pending_export,
    record_failure,
)
from receipt_cloud.exports.checkpoint_alias import resolve_checkpoint_uri
from receipt_cloud.handlers._lambda_env import settings_from_environment
from receipt_cloud.settings import Settings
from receipt_dynamo.names import is_name, shown

logger = logging.getLogger("receipt_cloud.handlers.auto_export")

JOB_PREFIX = "layoutlm-"
SKIP_TAG = "skip-coreml-export"
QUANTIZE_TAG = "coreml-quantize"
COMPLETED = "Completed"


class AutoExportError(ReceiptCloudError):
    """The Job cannot be exported: unknown, no verified best checkpoint, or a bad tag."""


def _quantize_for(tags: dict[str, str], override: str | None) -> str:
    quantize = override or tags.get(QUANTIZE_TAG) or DEFAULT_QUANTIZE
    if quantize not in QUANTIZE_NAMES:
        raise AutoExportError(
            f"quantize {quantize!r} (tag {QUANTIZE_TAG}) is not one of {', '.join(QUANTIZE_NAMES)}"
        )
    return quantize


def start_export_for_job(
    *, job_name: str, settings: Settings, quantize: str | None = None
) -> dict[str, Any]:
    """Create the PENDING CoreMLExportJob of Job ``job_name``'s best checkpoint and send its
    export message; returns the message sent.

    Quantize: ``quantize``, else the Job's ``coreml-quantize`` tag, else float16. Raises
    ``AutoExportError`` when the Job is unknown or has no ``best_checkpoint_s3_path``.
    """
    from receipt_dynamo import EntityNotFoundError

    store = settings.open_store()
    try:
        job = store.get_job_by_name(job_name)
    except EntityNotFoundError:
        raise AutoExportError(
            f"no Job named {job_name!r} in {settings.table_name}; was it trained with this "
            "environment's store?"
        ) from None
    checkpoint = (job.results or {}).get("best_checkpoint_s3_path")
    if not checkpoint:
        raise AutoExportError(
            f"Job {job_name!r} has no best_checkpoint_s3_path in its results (status "
            f"{job.status.value}): nothing verified to export"
        )
    export_id = str(uuid.uuid4())
    request = ExportRequest(
        export_id=export_id,
        job_ref=job.name,
        checkpoint_uri=resolve_checkpoint_uri(str(checkpoint)),
        quantize=_quantize_for(job.tags or {}, quantize),
        bundle_uri=bundle_output_prefix(settings.bundles_uri, job.name, export_id),
    )
    create_pending_export(store, request)
    try:
        settings.open_queue("coreml_export_jobs").send(request.to_message())
    except Exception as exc:
        # No message will ever move this record: say so on it, then let the event be retried.
        record_failure(store, export_id, f"could not queue the export message: {exc}")
        raise
    logger.info(
        "queued export %s of job %s (%s)%s",
        export_id,
        job.name,
        request.quantize,
        "; run `layoutlm-cli export-worker --once` to build it" if settings.is_local else "",
    )
    return request.to_message()


def _training_job_tags(detail: dict[str, Any], settings: Settings) -> dict[str, str]:
    import boto3

    arn = detail.get("TrainingJobArn")
    if not arn:
        return {}
    client = boto3.client(
        "sagemaker", region_name=settings.region, endpoint_url=settings.endpoint_url
    )
    tags: dict[str, str] = {}
    kwargs: dict[str, Any] = {"ResourceArn": arn}
    while True:
        page = client.list_tags(**kwargs)
        tags.update({t["Key"]: t["Value"] for t in page.get("Tags", [])})
        if not page.get("NextToken"):
            return tags
        kwargs["NextToken"] = page["NextToken"]


def handler(
    event: dict[str, Any], context: Any = None, *, settings: Settings | None = None
) -> dict:
    """EventBridge "SageMaker Training Job State Change" -> ``start_export_for_job``.

    Skips (returns ``{"skipped": reason}``) a status other than Completed, a name without the
    ``layoutlm-`` prefix, and a job tagged ``skip-coreml-export: true`` (read with ListTags).
    """
    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(detail, dict):
        raise AutoExportError(
            f"event has no detail object (got {type(event).__name__}); not a SageMaker "
            "Training Job State Change event"
        )
    name = detail.get("TrainingJobName")
    status = detail.get("TrainingJobStatus")
    if not name:
        raise AutoExportError(f"event has no detail.TrainingJobName: {event!r}"[:500])
    if not is_name(name):
        raise AutoExportError(f"event's detail.TrainingJobName {shown(name)} is not a job name")
    if status != COMPLETED:
        return {"skipped": f"training job {name} is {status}, not {COMPLETED}"}
    if not name.startswith(JOB_PREFIX):
        return {"skipped": f"training job {name} does not start with {JOB_PREFIX!r}"}
    settings = settings or settings_from_environment()
    tags = _training_job_tags(detail, settings)
    if tags.get(SKIP_TAG, "").strip().lower() == "true":
        return {"skipped": f"training job {name} is tagged {SKIP_TAG}: true"}
    message = start_export_for_job(
        job_name=name, settings=settings, quantize=tags.get(QUANTIZE_TAG) or None
    )
    return {"queued": message}
