"""The start-training payload and settings: validation, defaults, string hyperparameters."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any

from receipt_cloud.errors import MissingSettingError, ReceiptCloudError, UntrustedUriError
from receipt_cloud.objects.confine import confine_uri
from receipt_cloud.training_launch._hyperparameters import (
    RULES,
    HyperparameterError,
    check_combination,
    hyperparameter_string,
    number_of,
)
from receipt_dynamo.names import is_name, shown

JOB_NAME_PREFIX = "layoutlm-"
"""Auto-export only exports completed jobs whose name starts with this."""
# SageMaker's TrainingJobName pattern; its 63-character limit is the name rule's.
_SAGEMAKER_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*\Z")
_INSTANCE_TYPE = re.compile(r"ml\.[a-z0-9]+\.[a-z0-9]+\Z")
MAX_TAGS = 50
"""SageMaker's limit of tags per training job (keys up to 128 characters, values up to 256)."""
MAX_DESCRIPTION_CHARS = 1024

SKIP_EXPORT_TAG = "skip-coreml-export"
CHECKPOINT_LOCAL_PATH = "/opt/ml/checkpoints"
CHECKPOINT_PREFIX = "sagemaker-checkpoints/"
"""Runs-bucket prefix SageMaker syncs ``/opt/ml/checkpoints`` to (expired by the lifecycle rule;
the verified ``runs/<job>/best/`` the Job points at lives elsewhere and is never expired)."""
OUTPUT_PREFIX = "sagemaker-output/"
INIT_CHANNEL = "init"
INIT_CHANNEL_DIR = f"/opt/ml/input/data/{INIT_CHANNEL}"
CREATED_BY = "start-training"
MAX_RUNTIME_HOURS = 28 * 24
"""SageMaker's MaxRuntimeInSeconds limit (28 days)."""

DEFAULT_HYPERPARAMETERS: dict[str, Any] = {
    "epochs": 10,
    "batch_size": 8,
    "learning_rate": 5e-5,
    "warmup_ratio": 0.1,
    "early_stopping_patience": 2,
    "merge_amounts": False,
}
"""The seed payload's hyperparameters and their defaults (always sent)."""

_KIND_NAMES = {"choice": "str", "metric": "str", "merges": "json", "labels": "json"}
HYPERPARAMETER_KINDS: dict[str, str] = {
    name: "positive_int"
    if rule.kind == "int" and (rule.low or 0) >= 1
    else _KIND_NAMES.get(rule.kind, rule.kind)
    for name, rule in RULES.items()
}
"""Every hyperparameter a payload may set and the kind of value it takes (``RULES`` holds each
one's range); anything else is refused."""

MERGE_PRESETS = ("none", "amounts", "date_time", "address_phone", "sroie")
"""``DatasetConfig.merge_preset`` names (the container would fail late on any other)."""

PAYLOAD_KEYS = frozenset(
    {
        "job_name",
        "use_spot",
        "hyperparameters",
        "instance_type",
        "instance_count",
        "max_runtime_hours",
        "merge_preset",
        "init_from",
        "skip_coreml_export",
        "tags",
        "description",
    }
)


class TrainingLaunchError(ReceiptCloudError, ValueError):
    """A start-training request was refused; the message says why and what to send instead."""


@dataclasses.dataclass(frozen=True)
class LaunchSettings:
    """What the start-training Lambda reads from its environment (set by the Pulumi stack)."""

    table_name: str
    """DynamoDB table for the Job record (``DYNAMO_TABLE_NAME``)."""
    runs_bucket: str
    """Training runs bucket: checkpoints, output, ``init_from`` sources (``RUNS_BUCKET_NAME``)."""
    image_uri: str
    """Training image ``<repo>:<content-hash tag>`` (``TRAINING_IMAGE_URI``); never ``:latest``."""
    role_arn: str
    """Execution role SageMaker assumes for the job (``SAGEMAKER_ROLE_ARN``)."""
    region: str | None = None
    """AWS region (``AWS_REGION``); None lets boto3 decide."""
    endpoint_url: str | None = None
    """AWS endpoint override, e.g. a moto server (``AWS_ENDPOINT_URL``)."""
    instance_type: str = "ml.g5.xlarge"
    """Default instance type (``TRAINING_INSTANCE_TYPE``)."""
    max_runtime_hours: float = 24.0
    """Default MaxRuntime in hours (``TRAINING_MAX_RUNTIME_HOURS``)."""
    spot_wait_factor: float = 2.0
    """Spot MaxWaitTime = this × MaxRuntime (``TRAINING_SPOT_WAIT_FACTOR``, at least 1)."""
    volume_size_gb: int = 50
    """EBS volume per instance (``TRAINING_VOLUME_GB``)."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> LaunchSettings:
        """Read the variables above; every missing required one is named in one error."""
        required = {
            "table_name": "DYNAMO_TABLE_NAME",
            "runs_bucket": "RUNS_BUCKET_NAME",
            "image_uri": "TRAINING_IMAGE_URI",
            "role_arn": "SAGEMAKER_ROLE_ARN",
        }
        missing = [f"{field}: set {var}" for field, var in required.items() if not environ.get(var)]
        if missing:
            raise MissingSettingError("start-training", missing)
        values: dict[str, Any] = {field: environ[var] for field, var in required.items()}
        runs = values["runs_bucket"]
        values["runs_bucket"] = runs.removeprefix("s3://").split("/", 1)[0]
        values["region"] = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
        values["endpoint_url"] = environ.get("AWS_ENDPOINT_URL") or None
        optional = {
            "instance_type": ("TRAINING_INSTANCE_TYPE", str),
            "max_runtime_hours": ("TRAINING_MAX_RUNTIME_HOURS", float),
            "spot_wait_factor": ("TRAINING_SPOT_WAIT_FACTOR", float),
            "volume_size_gb": ("TRAINING_VOLUME_GB", int),
        }
        for field, (var, convert) in optional.items():
            if environ.get(var):
                values[field] = convert(environ[var])
        return cls(**values)


@dataclasses.dataclass(frozen=True)
class TrainingRequest:
    """A validated start-training payload."""

    job_name: str
    """``layoutlm-*`` name, also the SageMaker training job name."""
    use_spot: bool
    """Managed spot training (with MaxWaitTime and resume from checkpoints)."""
    hyperparameters: dict[str, str]
    """String values as SageMaker passes them (defaults filled in)."""
    instance_type: str
    """SageMaker instance type."""
    instance_count: int
    """Number of instances."""
    max_runtime_seconds: int
    """MaxRuntimeInSeconds."""
    init_from: str | None
    """``s3://`` prefix in the runs bucket mounted as the ``init`` channel, or None."""
    tags: dict[str, str]
    """Tags for the SageMaker job and the Job record (``skip-coreml-export`` when asked)."""
    description: str = ""
    """Free text stored on the Job."""


# --- payload validation ------------------------------------------------------------------------


def check_job_name(name: Any) -> str:
    """A name that follows the name rule (``receipt_dynamo.names``, as the CLI's
    ``--job-name``), starts with ``layoutlm-`` (auto-export ignores any other) and is a valid
    SageMaker training job name (no '.' or '_')."""
    if not isinstance(name, str) or not name:
        raise TrainingLaunchError(
            f"job_name is required (a string like 'layoutlm-...'), got {shown(name)}"
        )
    if not is_name(name):
        raise TrainingLaunchError(
            f"job_name {shown(name)} is not allowed: use 1-63 letters, digits and hyphens, "
            "starting and ending with a letter or digit (the CLI's --job-name rule)"
        )
    if not name.startswith(JOB_NAME_PREFIX):
        raise TrainingLaunchError(
            f"job_name {name!r} must start with {JOB_NAME_PREFIX!r}: auto-export only exports "
            f"completed {JOB_NAME_PREFIX}* jobs, so this one would silently never be exported; "
            f"use e.g. {(JOB_NAME_PREFIX + name)[:63]!r}"
        )
    if not _SAGEMAKER_NAME.match(name):
        raise TrainingLaunchError(
            f"job_name {name!r} is not a valid SageMaker training job name: at most 63 letters, "
            "digits and hyphens, starting and ending with a letter or digit"
        )
    return name


def _hyperparameters(raw: Any, merge_preset: Any, *, warm_start_given: bool) -> dict[str, str]:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise TrainingLaunchError(f"hyperparameters must be a JSON object, got {shown(raw)}")
    unknown = sorted(str(k) for k in set(raw) - set(RULES))
    if unknown:
        raise TrainingLaunchError(
            f"unknown hyperparameter(s) {shown(', '.join(unknown))[1:-1]}; allowed: "
            f"{', '.join(sorted(RULES))} (merge_preset, init_from, instance_type, "
            "instance_count and max_runtime_hours go at the top level of the payload)"
        )
    values = {**DEFAULT_HYPERPARAMETERS, **raw}
    try:
        out = {name: hyperparameter_string(name, value) for name, value in values.items()}
        check_combination(out, warm_start_given=warm_start_given)
    except HyperparameterError as exc:
        raise TrainingLaunchError(str(exc)) from None
    if merge_preset is not None:
        if merge_preset not in MERGE_PRESETS:
            raise TrainingLaunchError(
                f"merge_preset {shown(merge_preset)} is unknown; choose one of "
                f"{', '.join(MERGE_PRESETS)}"
            )
        out["merge_preset"] = merge_preset
    return out


def _tags(payload: Mapping[str, Any]) -> dict[str, str]:
    raw = payload.get("tags") or {}
    if (
        not isinstance(raw, Mapping)
        or len(raw) >= MAX_TAGS
        or not all(
            isinstance(k, str) and isinstance(v, str) and 0 < len(k) <= 128 and len(v) <= 256
            for k, v in raw.items()
        )
    ):
        raise TrainingLaunchError(
            f"tags must be an object of fewer than {MAX_TAGS} string keys (1-128 characters) to "
            f"string values (up to 256), got {shown(raw)}"
        )
    tags = dict(raw)
    skip = payload.get("skip_coreml_export", False)
    if not isinstance(skip, bool):
        raise TrainingLaunchError(
            f"skip_coreml_export must be true or false, got {shown(skip)}"
        )
    if skip:
        tags[SKIP_EXPORT_TAG] = "true"
    return tags


def _init_from(value: Any, runs_bucket: str) -> str | None:
    if value is None:
        return None
    prefix = f"s3://{runs_bucket}/"
    try:
        confine_uri(value, prefix.rstrip("/"), what="init_from")
    except UntrustedUriError as exc:
        raise TrainingLaunchError(
            f"init_from must be an s3:// prefix inside the runs bucket ({prefix}...), the only "
            f"bucket the training role reads; copy the checkpoint there first ({exc.reason})"
        ) from None
    assert isinstance(value, str)
    return value.rstrip("/") + "/"


def _positive(payload: Mapping[str, Any], key: str, default: float) -> float:
    value = payload.get(key, default)
    number = number_of(value) if not isinstance(value, str) else None
    if number is None or not math.isfinite(number) or number <= 0:
        raise TrainingLaunchError(f"{key} must be a positive number, got {shown(value)}")
    return number


def parse_request(payload: Any, settings: LaunchSettings) -> TrainingRequest:
    """Validate a payload; every refusal is a TrainingLaunchError naming the field."""
    if not isinstance(payload, Mapping):
        raise TrainingLaunchError(
            f"the payload must be a JSON object, got {type(payload).__name__}"
        )
    unknown = sorted(str(k) for k in set(payload) - PAYLOAD_KEYS)
    if unknown:
        raise TrainingLaunchError(
            f"unknown payload key(s) {shown(', '.join(unknown))[1:-1]}; allowed: "
            f"{', '.join(sorted(PAYLOAD_KEYS))}"
        )
    use_spot = payload.get("use_spot", False)
    if not isinstance(use_spot, bool):
        raise TrainingLaunchError(f"use_spot must be true or false, got {shown(use_spot)}")
    count = _positive(payload, "instance_count", 1)
    if not count.is_integer() or count > 100:
        raise TrainingLaunchError(f"instance_count must be an integer up to 100, got {count!r}")
    instance_type = payload.get("instance_type", settings.instance_type)
    if not isinstance(instance_type, str) or not _INSTANCE_TYPE.match(instance_type):
        raise TrainingLaunchError(
            f"instance_type must be a SageMaker instance type like 'ml.g5.xlarge', got "
            f"{shown(instance_type)}"
        )
    hours = _positive(payload, "max_runtime_hours", settings.max_runtime_hours)
    if hours > MAX_RUNTIME_HOURS:
        raise TrainingLaunchError(
            f"max_runtime_hours {hours:g} exceeds SageMaker's limit of {MAX_RUNTIME_HOURS} hours"
        )
    description = payload.get("description", "")
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION_CHARS:
        raise TrainingLaunchError(
            f"description must be a string of at most {MAX_DESCRIPTION_CHARS} characters, got "
            f"{shown(description)}"
        )
    return TrainingRequest(
        job_name=check_job_name(payload.get("job_name")),
        use_spot=use_spot,
        hyperparameters=_hyperparameters(
            payload.get("hyperparameters"), payload.get("merge_preset"),
            warm_start_given=payload.get("init_from") is not None,
        ),
        instance_type=instance_type,
        instance_count=int(count),
        max_runtime_seconds=max(60, round(hours * 3600)),
        init_from=_init_from(payload.get("init_from"), settings.runs_bucket),
        tags=_tags(payload),
        description=description,
    )
