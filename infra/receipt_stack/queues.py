"""Work queues, each with a dead-letter queue, and the DLQ for failed asynchronous Lambda
invocations (S3 and EventBridge events that still fail after their retries)."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from receipt_stack._opts import child
from receipt_stack.config import QUEUES, QueueSpec

RETENTION_SECONDS = 4 * 24 * 3600
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
"""SQS's maximum, so a poison message can be inspected for two weeks."""


class QueueWithDlq(pulumi.ComponentResource):
    """One queue redriving to its own DLQ after ``max_receives`` receives."""

    def __init__(self, name: str, spec: QueueSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__("receipt:stack:QueueWithDlq", name, None, opts)
        self.spec = spec
        self.dlq = aws.sqs.Queue(
            f"{name}-dlq",
            message_retention_seconds=DLQ_RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
            opts=child(self),
        )
        self.queue = aws.sqs.Queue(
            name,
            visibility_timeout_seconds=spec.visibility_timeout,
            message_retention_seconds=RETENTION_SECONDS,
            receive_wait_time_seconds=20,
            sqs_managed_sse_enabled=True,
            redrive_policy=self.dlq.arn.apply(
                lambda arn: json.dumps(
                    {"deadLetterTargetArn": arn, "maxReceiveCount": spec.max_receives}
                )
            ),
            opts=child(self),
        )
        self.url = self.queue.url
        self.arn = self.queue.arn
        self.register_outputs({"url": self.url, "dlq_url": self.dlq.url})


class Queues(pulumi.ComponentResource):
    """``by_field[settings field]`` -> QueueWithDlq, plus ``async_failures`` (a DLQ)."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("receipt:stack:Queues", name, None, opts)
        self.by_field = {
            spec.field: QueueWithDlq(f"{name}-{spec.name}", spec, opts=child(self))
            for spec in QUEUES
        }
        self.async_failures = aws.sqs.Queue(
            f"{name}-async-failures-dlq",
            message_retention_seconds=DLQ_RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
            opts=child(self),
        )
        self.register_outputs({f: q.url for f, q in self.by_field.items()})
