"""Typed stack configuration (``Pulumi.<stack>.yaml``) and the sizing of queues and functions."""

from __future__ import annotations

import dataclasses
from typing import Any

PROJECT = "receipt-labeler"
"""Pulumi project name; also the config namespace (``receipt-labeler:<key>``)."""


@dataclasses.dataclass(frozen=True)
class HandlerSpec:
    """One Lambda function."""

    key: str
    """Short name: function name suffix and resource name."""
    module: str
    """Handler module; the function's handler is ``<module>.handler``."""
    timeout: int
    """Seconds per invocation."""
    memory: int = 256
    """MiB."""


HANDLERS: dict[str, HandlerSpec] = {
    spec.key: spec
    for spec in (
        HandlerSpec("start-training", "receipt_cloud.handlers.start_training", timeout=60),
        HandlerSpec("auto-export", "receipt_cloud.handlers.auto_export", timeout=60),
        HandlerSpec("export-results", "receipt_cloud.handlers.export_results", timeout=60),
        HandlerSpec("upload", "receipt_cloud.handlers.upload", timeout=60),
    )
}
"""Every Lambda of the stack by key."""

SQS_LAMBDA_VISIBILITY_FACTOR = 6
"""AWS's advice for a queue a Lambda consumes: visibility at least 6 × the function timeout."""


@dataclasses.dataclass(frozen=True)
class QueueSpec:
    """One work queue and its dead-letter queue."""

    field: str
    """The ``Settings`` field (and stack output) holding its URL."""
    name: str
    """Resource name (the physical name gets a random suffix)."""
    visibility_timeout: int
    """Seconds a received message stays hidden; fits the consumer's longest piece of work."""
    max_receives: int
    """Receives before a message moves to the dead-letter queue."""
    consumer: str
    """Who reads it (for humans and the docs)."""


QUEUES: tuple[QueueSpec, ...] = (
    # The export worker converts and checks parity for minutes; it also extends visibility.
    QueueSpec("coreml_export_job_queue_url", "coreml-export-jobs", 900, 3, "export-worker"),
    QueueSpec(
        "coreml_export_results_queue_url",
        "coreml-export-results",
        SQS_LAMBDA_VISIBILITY_FACTOR * HANDLERS["export-results"].timeout,
        5,
        "export-results Lambda",
    ),
    # One receipt: download, OCR, model, writes; the worker extends visibility on slow ones.
    QueueSpec("ocr_job_queue_url", "ocr-jobs", 300, 3, "receipt-ocr worker"),
    QueueSpec("ocr_results_queue_url", "ocr-results", 60, 5, "clients of the labelling results"),
)
"""The four queues ``--env`` names, each with a DLQ."""


@dataclasses.dataclass(frozen=True)
class StackConfig:
    """Per-stack settings; ``from_pulumi`` reads ``receipt-labeler:*`` and ``aws:region``."""

    stack: str
    """Stack name (``dev``, ``prod``); prefixes function names, goes into ``RECEIPTS_ENV``."""
    region: str
    """AWS region (``aws:region``)."""
    protect: bool = False
    """Production safety: table deletion protection, Pulumi ``protect`` on data resources, and
    buckets/ECR that refuse to be deleted while they hold objects."""
    checkpoint_expiration_days: int = 14
    """Days before SageMaker's checkpoint sync (``sagemaker-checkpoints/``) expires."""
    build_source_expiration_days: int = 30
    """Days before uploaded training-image source archives (``codebuild-sources/``) expire."""
    training_instance_type: str = "ml.g5.xlarge"
    """Default SageMaker instance type for start-training."""
    training_max_runtime_hours: float = 24.0
    """Default MaxRuntime for start-training (spot MaxWaitTime is twice this)."""
    log_retention_days: int = 14
    """CloudWatch log retention for the functions and the image build."""
    ecr_keep_images: int = 20
    """Training images kept in ECR (older hash tags are expired)."""
    upload_prefix: str = "uploads/"
    """Raw-bucket prefix whose new objects trigger the upload Lambda (results written elsewhere
    in the bucket never re-trigger it)."""
    codebuild_compute_type: str = "BUILD_GENERAL1_LARGE"
    """CodeBuild size: the CUDA + torch image needs the large instance's disk."""

    @classmethod
    def from_pulumi(cls) -> StackConfig:
        import pulumi

        config = pulumi.Config(PROJECT)
        values: dict[str, Any] = {
            "stack": pulumi.get_stack(),
            "region": pulumi.Config("aws").require("region"),
        }
        converters = {bool: config.get_bool, int: config.get_int, float: config.get_float}
        for field in dataclasses.fields(cls):
            if field.name in values:
                continue
            key = "".join(
                part if i == 0 else part.capitalize()
                for i, part in enumerate(field.name.split("_"))
            )
            kind = type(field.default)
            value = converters.get(kind, config.get)(key)
            if value is not None:
                values[field.name] = value
        return cls(**values)
