"""Least-privilege IAM: statement builders naming actions and resources, and one role per
principal with one inline policy.

A ``"*"`` resource appears only with actions AWS cannot scope to a resource
(``ACTIONS_WITHOUT_RESOURCES``); every data action names its table, bucket prefix, queue,
repository or training-job pattern.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pulumi
import pulumi_aws as aws

from receipt_stack._opts import child

Statement = dict[str, Any]

ACTIONS_WITHOUT_RESOURCES = frozenset({"ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"})
"""The only actions a statement may grant on ``"*"`` (they support no resource ARNs)."""

DYNAMO_READ = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:DescribeTable")
DYNAMO_WRITE = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)
SQS_SEND = ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")
SQS_CONSUME = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
)
ECR_PULL = (
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchCheckLayerAvailability",
)
ECR_PUSH = (
    *ECR_PULL,
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:DescribeImages",
)


def statement(
    actions: tuple[str, ...] | list[str],
    resources: list[str],
    *,
    condition: Mapping[str, Any] | None = None,
) -> Statement:
    """An Allow statement."""
    out: Statement = {"Effect": "Allow", "Action": sorted(set(actions)), "Resource": resources}
    if condition:
        out["Condition"] = dict(condition)
    return out


def table_statement(table_arn: str, actions: tuple[str, ...]) -> Statement:
    """``actions`` on the table and its indexes."""
    return statement(actions, [table_arn, f"{table_arn}/index/*"])


def object_statement(bucket_arn: str, actions: tuple[str, ...], prefix: str = "") -> Statement:
    """Object actions under ``prefix`` of a bucket."""
    return statement(actions, [f"{bucket_arn}/{prefix}*"])


def list_statement(bucket_arn: str, prefix: str = "") -> Statement:
    """``s3:ListBucket`` on a bucket, limited to ``prefix`` when one is given."""
    condition = {"StringLike": {"s3:prefix": [f"{prefix}*"]}} if prefix else None
    return statement(["s3:ListBucket"], [bucket_arn], condition=condition)


def log_statement(log_group_arn: str) -> Statement:
    """Write to one log group (its streams)."""
    return statement(
        ["logs:CreateLogStream", "logs:PutLogEvents"], [log_group_arn, f"{log_group_arn}:*"]
    )


def assume_role_policy(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def policy_json(statements: list[Statement]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


class ServiceRole(pulumi.ComponentResource):
    """A role ``service`` assumes, with one inline policy built from resolved ``inputs``."""

    def __init__(
        self,
        name: str,
        service: str,
        inputs: Mapping[str, pulumi.Input[Any]],
        statements: Callable[[dict[str, Any]], list[Statement]],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("receipt:stack:ServiceRole", name, None, opts)
        self.role = aws.iam.Role(
            name, assume_role_policy=assume_role_policy(service), opts=child(self)
        )
        document = pulumi.Output.all(**inputs).apply(lambda v: policy_json(statements(v)))
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy", role=self.role.id, policy=document, opts=child(self)
        )
        self.arn = self.role.arn
        self.register_outputs({"arn": self.arn})
