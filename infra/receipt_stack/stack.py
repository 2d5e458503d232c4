"""``build_stack``: every component wired together, and the outputs ``--env <stack>`` reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from receipt_cloud.settings import FIELD_SOURCES
from receipt_stack.buckets import Buckets
from receipt_stack.config import StackConfig
from receipt_stack.lambda_package import build_lambda_package
from receipt_stack.lambdas import Functions
from receipt_stack.queues import Queues
from receipt_stack.sources import repo_root as default_repo_root
from receipt_stack.table import ReceiptTable
from receipt_stack.training_image import TrainingImage
from receipt_stack.training_role import training_role

EXTRA_OUTPUTS = (
    "start_training_function_name",
    "training_image_uri",
    "training_image_project",
    "sagemaker_role_arn",
    "async_failures_queue_url",
)
"""Outputs besides the settings ones, for the deploy guide (``--env`` ignores them)."""


class ReceiptStack:
    """The components and ``outputs`` (stack output name -> value)."""

    def __init__(
        self,
        config: StackConfig,
        *,
        repo_root: Path | None = None,
        build_dir: Path | None = None,
        lambda_zip: Path | None = None,
    ):
        root = repo_root or default_repo_root()
        build = build_dir or root / "infra" / ".build"
        if lambda_zip is None:
            lambda_zip = build_lambda_package(build / "lambda.zip", root).path
        prefix = f"receipt-labeler-{config.stack}"
        self.config = config
        self.table = ReceiptTable(f"{prefix}-table", config)
        self.buckets = Buckets(prefix, config)
        self.queues = Queues(prefix)
        self.image = TrainingImage(
            f"{prefix}-training-image",
            config,
            runs=self.buckets.runs,
            runs_events=self.buckets.runs_to_eventbridge,
            repo_root=root,
            build_dir=build,
        )
        identity = aws.get_caller_identity_output()
        partition = aws.get_partition_output().partition
        where = {"account": identity.account_id, "partition": partition, "region": config.region}
        self.training_role = training_role(
            f"{prefix}-sagemaker",
            {
                **where,
                "table": self.table.arn,
                "runs": self.buckets.runs.arn,
                "repo": self.image.repository.arn,
            },
        )
        self.settings_values: dict[str, pulumi.Input[str]] = {
            "table_name": self.table.name,
            "raw_uri": self.buckets.raw.name,
            "runs_uri": self.buckets.runs.name,
            "bundles_uri": self.buckets.bundles.name,
            "region": config.region,
            **{field: queue.url for field, queue in self.queues.by_field.items()},
        }
        arns: dict[str, pulumi.Input[str]] = {
            **where,
            "table": self.table.arn,
            "raw": self.buckets.raw.arn,
            "runs": self.buckets.runs.arn,
            "bundles": self.buckets.bundles.arn,
            "repo": self.image.repository.arn,
            "training_role": self.training_role.arn,
            "async_failures": self.queues.async_failures.arn,
            "async_failures_url": self.queues.async_failures.url,
            **{f"queue:{f}": q.arn for f, q in self.queues.by_field.items()},
        }
        self.functions = Functions(
            f"{prefix}-fn",
            config,
            code=lambda_zip,
            settings_values=self.settings_values,
            extra_environment={
                "start-training": {
                    "TRAINING_IMAGE_URI": self.image.image_uri,
                    "SAGEMAKER_ROLE_ARN": self.training_role.arn,
                    "TRAINING_INSTANCE_TYPE": config.training_instance_type,
                    "TRAINING_MAX_RUNTIME_HOURS": str(config.training_max_runtime_hours),
                },
                "upload": {"UPLOAD_PREFIX": config.upload_prefix},
            },
            arns=arns,
            raw_bucket_id=self.buckets.raw.bucket.id,
        )
        self.outputs = self._outputs()

    def _outputs(self) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        for source in FIELD_SOURCES:
            if source.output is None:
                continue
            if source.field not in self.settings_values:
                raise KeyError(
                    f"the stack has no value for settings field {source.field!r} (stack output "
                    f"{source.output!r}); add it to ReceiptStack.settings_values"
                )
            outputs[source.output] = self.settings_values[source.field]
        outputs.update(
            {
                "start_training_function_name": self.functions.functions["start-training"].name,
                "training_image_uri": self.image.image_uri,
                "training_image_project": self.image.project.name,
                "sagemaker_role_arn": self.training_role.arn,
                "async_failures_queue_url": self.queues.async_failures.url,
            }
        )
        return outputs


def build_stack(config: StackConfig, **kwargs: Any) -> ReceiptStack:
    """Declare every resource of one stack (see ``ReceiptStack``)."""
    return ReceiptStack(config, **kwargs)
