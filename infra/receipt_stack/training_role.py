"""The execution role SageMaker training jobs assume: the runs bucket, the table, the training
image, and SageMaker's own log group and metric namespace."""

from __future__ import annotations

from typing import Any

import pulumi

from receipt_cloud.sagemaker_status import SAGEMAKER_LOG_GROUP
from receipt_stack import iam


def training_statements(v: dict[str, Any]) -> list[iam.Statement]:
    """``v``: table, runs, repo (ARNs), partition, region, account."""
    logs = f"arn:{v['partition']}:logs:{v['region']}:{v['account']}:log-group:{SAGEMAKER_LOG_GROUP}"
    return [
        iam.table_statement(v["table"], iam.DYNAMO_READ + iam.DYNAMO_WRITE),
        # runs/<job>/, the checkpoint sync and SageMaker's output all live in the runs bucket.
        iam.object_statement(v["runs"], ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")),
        iam.list_statement(v["runs"]),
        iam.statement(iam.ECR_PULL, [v["repo"]]),
        iam.statement(["ecr:GetAuthorizationToken"], ["*"]),
        iam.statement(
            [
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogStreams",
            ],
            [logs, f"{logs}:*"],
        ),
        iam.statement(
            ["cloudwatch:PutMetricData"],
            ["*"],
            condition={"StringEquals": {"cloudwatch:namespace": SAGEMAKER_LOG_GROUP}},
        ),
    ]


def training_role(
    name: str, inputs: dict[str, pulumi.Input[Any]], opts: pulumi.ResourceOptions | None = None
) -> iam.ServiceRole:
    return iam.ServiceRole(name, "sagemaker.amazonaws.com", inputs, training_statements, opts=opts)
