"""The CreateTrainingJob request built from a validated payload, and sending it."""

from __future__ import annotations

import dataclasses
import uuid
from typing import TYPE_CHECKING, Any

from receipt_cloud.training_launch._payload import (
    CHECKPOINT_LOCAL_PATH,
    CHECKPOINT_PREFIX,
    CREATED_BY,
    INIT_CHANNEL,
    INIT_CHANNEL_DIR,
    OUTPUT_PREFIX,
    LaunchSettings,
    TrainingLaunchError,
    TrainingRequest,
    parse_request,
)

if TYPE_CHECKING:
    from receipt_dynamo import ReceiptStore


@dataclasses.dataclass(frozen=True)
class LaunchResult:
    """What ``launch_training`` started."""

    job_id: str
    job_name: str
    training_job_arn: str
    image_uri: str
    use_spot: bool

    def to_dict(self) -> dict[str, Any]:
        return {"status": "started", **dataclasses.asdict(self)}


# --- the CreateTrainingJob request -------------------------------------------------------------


def image_reference(image_uri: str) -> tuple[str, str, str]:
    """``(registry_id, repository, tag)`` of an ECR image URI; ``:latest`` and untagged refused."""
    host, _, path = image_uri.partition("/")
    repository, _, tag = path.rpartition(":")
    if not host or not repository or not tag or "/" in tag:
        raise TrainingLaunchError(
            f"training image {image_uri!r} must be '<registry>/<repository>:<content-hash tag>' "
            "(TRAINING_IMAGE_URI, set by the stack)"
        )
    if tag == "latest":
        raise TrainingLaunchError(
            f"training image {image_uri!r} uses ':latest'; a job must name the content-hash tag "
            "the CodeBuild project pushed, so a rebuilt image never changes a job silently"
        )
    return host.split(".", 1)[0], repository, tag


def create_training_job_request(
    request: TrainingRequest, settings: LaunchSettings
) -> dict[str, Any]:
    """Keyword arguments for ``sagemaker.create_training_job``."""
    runs = f"s3://{settings.runs_bucket}/"
    stopping: dict[str, int] = {"MaxRuntimeInSeconds": request.max_runtime_seconds}
    if request.use_spot:
        wait = max(1.0, settings.spot_wait_factor) * request.max_runtime_seconds
        stopping["MaxWaitTimeInSeconds"] = int(wait)
    hyperparameters = dict(request.hyperparameters)
    kwargs: dict[str, Any] = {
        "TrainingJobName": request.job_name,
        "AlgorithmSpecification": {
            "TrainingImage": settings.image_uri,
            "TrainingInputMode": "File",
        },
        "RoleArn": settings.role_arn,
        "OutputDataConfig": {"S3OutputPath": runs + OUTPUT_PREFIX},
        "ResourceConfig": {
            "InstanceType": request.instance_type,
            "InstanceCount": request.instance_count,
            "VolumeSizeInGB": settings.volume_size_gb,
        },
        "StoppingCondition": stopping,
        "EnableManagedSpotTraining": request.use_spot,
        # Always set: a spot reclaim or a failed run restarted under this name resumes from here.
        "CheckpointConfig": {
            "S3Uri": f"{runs}{CHECKPOINT_PREFIX}{request.job_name}/",
            "LocalPath": CHECKPOINT_LOCAL_PATH,
        },
        # The container's train.py reads the deployed table and runs bucket from these.
        "Environment": {
            "DYNAMO_TABLE_NAME": settings.table_name,
            "RUNS_BUCKET_NAME": settings.runs_bucket,
            **({"AWS_DEFAULT_REGION": settings.region} if settings.region else {}),
        },
    }
    if request.tags:
        kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(request.tags.items())]
    if request.init_from:
        kwargs["InputDataConfig"] = [
            {
                "ChannelName": INIT_CHANNEL,
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": request.init_from,
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
                "InputMode": "File",
            }
        ]
        hyperparameters["init_from"] = INIT_CHANNEL_DIR
    kwargs["HyperParameters"] = hyperparameters
    return kwargs


# --- sending it --------------------------------------------------------------------------------


def _client(service: str, settings: LaunchSettings) -> Any:
    import boto3

    return boto3.client(service, region_name=settings.region, endpoint_url=settings.endpoint_url)


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _refuse_duplicate(name: str, store: ReceiptStore, sagemaker: Any) -> None:
    from botocore.exceptions import ClientError

    from receipt_dynamo.errors import EntityNotFoundError

    try:
        job = store.get_job_by_name(name)
    except EntityNotFoundError:
        pass
    else:
        raise TrainingLaunchError(
            f"a Job named {name!r} already exists (status {job.status}); pick a new job_name"
        )
    try:
        sagemaker.describe_training_job(TrainingJobName=name)
    except ClientError as exc:
        if _error_code(exc) not in ("ValidationException", "ResourceNotFound"):
            raise
    else:
        raise TrainingLaunchError(
            f"SageMaker already has a training job named {name!r} (names are never reused); "
            "pick a new job_name"
        )


def _refuse_missing_image(settings: LaunchSettings, ecr: Any) -> None:
    from botocore.exceptions import ClientError

    registry, repository, tag = image_reference(settings.image_uri)
    try:
        ecr.describe_images(
            registryId=registry, repositoryName=repository, imageIds=[{"imageTag": tag}]
        )
    except ClientError as exc:
        if _error_code(exc) not in ("ImageNotFoundException", "RepositoryNotFoundException"):
            raise
        raise TrainingLaunchError(
            f"training image {settings.image_uri} is not built yet: the stack's CodeBuild project "
            "builds it after `pulumi up` changes its sources; wait for that build to succeed"
        ) from None


def launch_training(
    payload: Any,
    settings: LaunchSettings,
    *,
    store: ReceiptStore | None = None,
    sagemaker: Any | None = None,
    ecr: Any | None = None,
) -> LaunchResult:
    """Validate ``payload``, write the PENDING Job, call CreateTrainingJob.

    Refusals (bad name or payload, duplicate name, image not built, SageMaker rejecting the
    request) raise TrainingLaunchError and leave no Job record behind.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    from receipt_dynamo import Job, JobStatus, open_store

    request = parse_request(payload, settings)
    store = store or open_store(
        "dynamodb",
        table_name=settings.table_name,
        region=settings.region,
        endpoint_url=settings.endpoint_url,
    )
    sagemaker = sagemaker or _client("sagemaker", settings)
    _refuse_duplicate(request.job_name, store, sagemaker)
    _refuse_missing_image(settings, ecr or _client("ecr", settings))
    kwargs = create_training_job_request(request, settings)
    job = Job(
        job_id=str(uuid.uuid4()),
        name=request.job_name,
        status=JobStatus.PENDING,
        created_by=CREATED_BY,
        description=request.description,
        tags=request.tags,
        job_config={
            "hyperparameters": kwargs["HyperParameters"],
            "sagemaker": {
                "image": settings.image_uri,
                "instance_type": request.instance_type,
                "instance_count": request.instance_count,
                "use_spot": request.use_spot,
                "stopping_condition": kwargs["StoppingCondition"],
                "checkpoint_s3_uri": kwargs["CheckpointConfig"]["S3Uri"],
                "init_from": request.init_from,
            },
        },
    )
    store.add_job(job)
    try:
        arn = sagemaker.create_training_job(**kwargs)["TrainingJobArn"]
    except (ClientError, BotoCoreError) as exc:  # refused, invalid, or unreachable
        store.delete_job(job.job_id)
        raise TrainingLaunchError(
            f"SageMaker refused training job {request.job_name!r}: {exc}; no Job was recorded"
        ) from None
    return LaunchResult(
        job_id=job.job_id,
        job_name=job.name,
        training_job_arn=arn,
        image_uri=settings.image_uri,
        use_spot=request.use_spot,
    )
