"""The four Lambda functions (one package, one role each) and what invokes them:
start-training (invoked by hand), auto-export (EventBridge: a ``layoutlm-*`` training job
completed), export-results (SQS, partial batch responses) and upload (S3 object created under
the upload prefix of the raw bucket)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from receipt_cloud.settings import FIELD_SOURCES
from receipt_stack import iam
from receipt_stack._opts import child
from receipt_stack.config import HANDLERS, StackConfig
from receipt_stack.events import training_completed_pattern

LAMBDA_RESERVED_VARIABLES = frozenset({"AWS_REGION", "AWS_DEFAULT_REGION"})
"""Set by Lambda itself; a function may not define them."""
RUNTIME = "python3.11"
TRAINING_JOBS = "training-job/layoutlm-*"
"""The only SageMaker training jobs the functions may create or read (auto-export's scope)."""


def settings_environment(stack: str, values: Mapping[str, pulumi.Input[str]]) -> dict[str, Any]:
    """``RECEIPTS_ENV`` plus each settings variable with its stack value, so
    ``resolve_settings(os.environ["RECEIPTS_ENV"])`` in a function needs no ``pulumi``."""
    env: dict[str, Any] = {"RECEIPTS_ENV": stack}
    for source in FIELD_SOURCES:
        reserved = source.env_var in LAMBDA_RESERVED_VARIABLES
        if source.env_var and source.field in values and not reserved:
            env[source.env_var] = values[source.field]
    return env


def _training_jobs(v: dict[str, Any]) -> str:
    return f"arn:{v['partition']}:sagemaker:{v['region']}:{v['account']}:{TRAINING_JOBS}"


def function_statements(key: str, v: dict[str, Any]) -> list[iam.Statement]:
    """What each function may do; ``v`` holds the resolved ARNs (see ``Functions``)."""
    read_write = iam.table_statement(v["table"], iam.DYNAMO_READ + iam.DYNAMO_WRITE)
    statements = [iam.log_statement(v[f"log:{key}"])]
    if key == "start-training":
        statements += [
            iam.table_statement(
                v["table"],
                (
                    *iam.DYNAMO_READ,
                    "dynamodb:PutItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:BatchWriteItem",
                ),
            ),
            iam.statement(
                [
                    "sagemaker:CreateTrainingJob",
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:AddTags",
                ],
                [_training_jobs(v)],
            ),
            iam.statement(
                ["iam:PassRole"],
                [v["training_role"]],
                condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
            iam.statement(["ecr:DescribeImages"], [v["repo"]]),
        ]
    elif key == "auto-export":
        statements += [
            read_write,
            iam.statement(iam.SQS_SEND, [v["queue:coreml_export_job_queue_url"]]),
            iam.statement(
                ["sagemaker:DescribeTrainingJob", "sagemaker:ListTags"], [_training_jobs(v)]
            ),
            iam.statement(["sqs:SendMessage"], [v["async_failures"]]),
        ]
    elif key == "export-results":
        statements += [
            read_write,
            iam.statement(iam.SQS_CONSUME, [v["queue:coreml_export_results_queue_url"]]),
        ]
    elif key == "upload":
        statements += [
            read_write,
            iam.object_statement(v["raw"], ("s3:GetObject",), v["upload_prefix"]),
            # HeadBucket (the S3 store's bucket check) needs ListBucket with no prefix.
            iam.list_statement(v["raw"]),
            iam.statement(iam.SQS_SEND, [v["queue:ocr_job_queue_url"]]),
            iam.statement(["sqs:SendMessage"], [v["async_failures"]]),
        ]
    else:
        raise KeyError(f"no policy for function {key!r}; add one to function_statements")
    return statements


class Functions(pulumi.ComponentResource):
    """``functions[key]``, ``roles[key]``, ``environments[key]`` for every ``HANDLERS`` key."""

    def __init__(
        self,
        name: str,
        config: StackConfig,
        *,
        code: Path,
        settings_values: Mapping[str, pulumi.Input[str]],
        extra_environment: Mapping[str, Mapping[str, pulumi.Input[str]]],
        arns: Mapping[str, pulumi.Input[str]],
        raw_bucket_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("receipt:stack:Functions", name, None, opts)
        self.config = config
        archive = pulumi.FileArchive(str(code))
        self.functions: dict[str, aws.lambda_.Function] = {}
        self.roles: dict[str, iam.ServiceRole] = {}
        self.environments: dict[str, dict[str, Any]] = {}
        common = settings_environment(config.stack, settings_values)
        for key, spec in HANDLERS.items():
            function_name = f"receipt-labeler-{config.stack}-{key}"
            log_group = aws.cloudwatch.LogGroup(
                f"{name}-{key}-logs",
                name=f"/aws/lambda/{function_name}",
                retention_in_days=config.log_retention_days,
                opts=child(self),
            )
            role = iam.ServiceRole(
                f"{name}-{key}",
                "lambda.amazonaws.com",
                {**arns, f"log:{key}": log_group.arn, "upload_prefix": config.upload_prefix},
                lambda v, key=key: function_statements(key, v),
                opts=child(self),
            )
            env = {**common, "LOG_LEVEL": "INFO", **extra_environment.get(key, {})}
            asynchronous = key in ("auto-export", "upload")
            self.functions[key] = aws.lambda_.Function(
                f"{name}-{key}",
                name=function_name,
                runtime=RUNTIME,
                architectures=["arm64"],
                handler=f"{spec.module}.handler",
                code=archive,
                role=role.arn,
                timeout=spec.timeout,
                memory_size=spec.memory,
                environment={"variables": env},
                dead_letter_config={"target_arn": arns["async_failures"]} if asynchronous else None,
                opts=child(self, depends_on=[log_group, role]),
            )
            self.roles[key] = role
            self.environments[key] = env
        self._auto_export_rule(name, arns)
        self._export_results_source(name, arns)
        self._upload_notification(name, arns, raw_bucket_id)
        self.register_outputs({k: f.name for k, f in self.functions.items()})

    def _auto_export_rule(self, name: str, arns: Mapping[str, pulumi.Input[str]]) -> None:
        function = self.functions["auto-export"]
        rule = aws.cloudwatch.EventRule(
            f"{name}-training-completed",
            description="A layoutlm-* SageMaker training job completed: export it",
            event_pattern=json.dumps(training_completed_pattern()),
            opts=child(self),
        )
        permission = aws.lambda_.Permission(
            f"{name}-auto-export-from-events",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="events.amazonaws.com",
            source_arn=rule.arn,
            opts=child(self),
        )
        aws.sqs.QueuePolicy(
            f"{name}-async-failures-from-events",
            queue_url=arns["async_failures_url"],
            policy=pulumi.Output.all(arns["async_failures"], rule.arn).apply(
                lambda v: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Action": "sqs:SendMessage",
                                "Resource": v[0],
                                "Condition": {"ArnEquals": {"aws:SourceArn": v[1]}},
                            }
                        ],
                    }
                )
            ),
            opts=child(self),
        )
        self.auto_export_rule = rule
        aws.cloudwatch.EventTarget(
            f"{name}-auto-export",
            rule=rule.name,
            arn=function.arn,
            retry_policy={"maximum_retry_attempts": 4, "maximum_event_age_in_seconds": 3600},
            dead_letter_config={"arn": arns["async_failures"]},
            opts=child(self, depends_on=[permission]),
        )

    def _export_results_source(self, name: str, arns: Mapping[str, pulumi.Input[str]]) -> None:
        self.export_results_source = aws.lambda_.EventSourceMapping(
            f"{name}-export-results-source",
            event_source_arn=arns["queue:coreml_export_results_queue_url"],
            function_name=self.functions["export-results"].arn,
            batch_size=10,
            maximum_batching_window_in_seconds=5,
            function_response_types=["ReportBatchItemFailures"],
            opts=child(self),
        )

    def _upload_notification(
        self, name: str, arns: Mapping[str, pulumi.Input[str]], raw_bucket_id: pulumi.Input[str]
    ) -> None:
        function = self.functions["upload"]
        permission = aws.lambda_.Permission(
            f"{name}-upload-from-s3",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="s3.amazonaws.com",
            source_arn=arns["raw"],
            source_account=arns["account"],
            opts=child(self),
        )
        self.upload_notification = aws.s3.BucketNotification(
            f"{name}-raw-uploads",
            bucket=raw_bucket_id,
            lambda_functions=[
                {
                    "lambda_function_arn": function.arn,
                    "events": ["s3:ObjectCreated:*"],
                    "filter_prefix": self.config.upload_prefix,
                }
            ],
            opts=child(self, depends_on=[permission]),
        )
