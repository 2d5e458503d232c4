"""A SageMaker training job's status and its CloudWatch log streams, for ``jobs show``.

boto3 only (no torch): the CLI and Lambda handlers may call it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from receipt_cloud.settings import Settings

SAGEMAKER_LOG_GROUP = "/aws/sagemaker/TrainingJobs"
"""The CloudWatch log group SageMaker writes training containers' output to."""


def _client(service: str, settings: Settings) -> Any:
    import boto3

    return boto3.client(service, region_name=settings.region, endpoint_url=settings.endpoint_url)


def training_job_status(job_name: str, settings: Settings) -> dict[str, Any]:
    """``status``, ``secondary_status``, ``failure_reason``, ``log_group`` and ``log_streams``
    of SageMaker training job ``job_name`` (region and endpoint from ``settings``).

    Never raises: an absent job, missing permissions or no network give ``{"error": ...}``, and
    a log listing that fails gives ``log_streams_error`` beside the job's status — this is a
    diagnostic for a human, and the Job record it accompanies is already printed."""
    try:
        desc = _client("sagemaker", settings).describe_training_job(TrainingJobName=job_name)
    except Exception as exc:  # absent job, no permissions, no network: say so and go on
        return {"error": f"{type(exc).__name__}: {exc}"}
    status: dict[str, Any] = {
        "status": desc.get("TrainingJobStatus"),
        "secondary_status": desc.get("SecondaryStatus"),
        "failure_reason": desc.get("FailureReason"),
        "log_group": SAGEMAKER_LOG_GROUP,
    }
    try:
        streams = _client("logs", settings).describe_log_streams(
            logGroupName=SAGEMAKER_LOG_GROUP, logStreamNamePrefix=f"{job_name}/"
        )["logStreams"]
        status["log_streams"] = [s["logStreamName"] for s in streams]
    except Exception as exc:  # no logs yet, or no permission: the job status still helps
        status["log_streams_error"] = f"{type(exc).__name__}: {exc}"
    return status
