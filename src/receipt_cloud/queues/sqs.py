"""Amazon SQS queues through boto3 (also any SQS-compatible endpoint such as a moto server)."""

from __future__ import annotations

import json
import logging
import math
import os
import re
import time
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from receipt_cloud.errors import QueueNotFoundError, StaleReceiptHandleError
from receipt_cloud.queues._base import (
    Message,
    Queue,
    check_delay,
    check_receive_args,
    check_visibility,
    encode_body,
    handle_of,
)

logger = logging.getLogger(__name__)

# SQS caps one long poll at 20 s; longer waits are several polls.
MAX_LONG_POLL_SECONDS = 20
_MISSING_QUEUE_CODES = {
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "NonExistentQueue",
}
_STALE_HANDLE_CODES = {
    "ReceiptHandleIsInvalid",
    "AWS.SimpleQueueService.MessageNotInflight",
    "MessageNotInflight",
}
# InvalidParameterValue also covers bad timeouts etc.; only its receipt-handle form is stale.
_HANDLE_PARAMETER_CODES = {"InvalidParameterValue", "AWS.SimpleQueueService.InvalidParameterValue"}
_REGION_RES = (
    re.compile(r"^sqs\.([a-z0-9-]+)\.amazonaws\.com"),
    re.compile(r"^([a-z0-9-]+)\.queue\.amazonaws\.com"),
)


def region_from_url(url: str) -> str | None:
    """``us-east-1`` from ``https://sqs.us-east-1.amazonaws.com/...``; None for other hosts."""
    host = urlsplit(url).hostname or ""
    for pattern in _REGION_RES:
        match = pattern.match(host)
        if match:
            return match.group(1)
    return None


def make_sqs_client(
    *, url: str | None = None, region: str | None = None, endpoint_url: str | None = None
) -> Any:
    """An SQS client for ``url``: region from the URL, endpoint from the URL when not AWS."""
    region = region or (region_from_url(url) if url else None)
    if (
        endpoint_url is None
        and url
        and not (os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_SQS"))
    ):
        parts = urlsplit(url)
        if not (parts.hostname or "").endswith("amazonaws.com"):
            # The JSON protocol sends requests to the client's endpoint, not the QueueUrl's
            # host, so a queue on moto or ElasticMQ needs its host as the endpoint.
            endpoint_url = f"{parts.scheme}://{parts.netloc}"
    # Long polls hold the connection for up to 20 s; keep the read timeout above that.
    config = Config(retries={"mode": "standard", "max_attempts": 5}, read_timeout=60)
    return boto3.session.Session().client(
        "sqs", region_name=region, endpoint_url=endpoint_url, config=config
    )


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _is_stale_handle(err: ClientError) -> bool:
    code = _code(err)
    if code in _STALE_HANDLE_CODES:
        return True
    message = str(err.response.get("Error", {}).get("Message", "")).lower()
    return code in _HANDLE_PARAMETER_CODES and (
        "receipt handle" in message or "receipthandle" in message
    )


class SqsQueue(Queue):
    """An SQS queue addressed by its URL.

    Dead-lettering is the queue's RedrivePolicy (set by infra, or ``create_queue_with_dlq``).
    A stale handle on ``change_visibility`` raises ``StaleReceiptHandleError``; a stale
    ``delete`` is accepted by SQS without deleting anything (AWS documents this), so it raises
    nothing here.
    """

    def __init__(
        self,
        url: str,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        client: Any | None = None,
    ) -> None:
        self._url = url
        self.client = client or make_sqs_client(url=url, region=region, endpoint_url=endpoint_url)

    @property
    def url(self) -> str:
        return self._url

    def _call(self, operation: str, handle: str | None = None, **params: Any) -> Any:
        try:
            return getattr(self.client, operation)(QueueUrl=self._url, **params)
        except ClientError as err:
            code = _code(err)
            if code in _MISSING_QUEUE_CODES:
                raise QueueNotFoundError(self._url) from None
            if handle is not None and _is_stale_handle(err):
                raise StaleReceiptHandleError(self._url, handle) from None
            raise

    def send(self, body: str | dict[str, Any], *, delay_seconds: int = 0) -> str:
        check_delay(delay_seconds)
        response = self._call(
            "send_message", MessageBody=encode_body(body), DelaySeconds=int(delay_seconds)
        )
        return str(response["MessageId"])

    def receive(
        self,
        max_messages: int = 1,
        wait_seconds: float = 0,
        visibility_timeout: float | None = None,
    ) -> list[Message]:
        check_receive_args(max_messages, wait_seconds, visibility_timeout)
        params: dict[str, Any] = {
            "MaxNumberOfMessages": max_messages,
            "MessageSystemAttributeNames": ["ApproximateReceiveCount"],
        }
        if visibility_timeout is not None:
            params["VisibilityTimeout"] = math.ceil(visibility_timeout)
        deadline = time.monotonic() + wait_seconds
        while True:
            remaining = deadline - time.monotonic()
            wait = min(MAX_LONG_POLL_SECONDS, math.ceil(max(remaining, 0)))
            response = self._call("receive_message", WaitTimeSeconds=wait, **params)
            messages = [
                Message(
                    message_id=item["MessageId"],
                    body=item["Body"],
                    receipt_handle=item["ReceiptHandle"],
                    receive_count=int(item.get("Attributes", {}).get("ApproximateReceiveCount", 1)),
                )
                for item in response.get("Messages", ())
            ]
            if messages or deadline - time.monotonic() <= 0:
                return messages

    def delete(self, message: Message | str) -> None:
        handle = handle_of(message)
        self._call("delete_message", handle, ReceiptHandle=handle)

    def change_visibility(self, message: Message | str, seconds: float) -> None:
        check_visibility(seconds)
        handle = handle_of(message)
        self._call(
            "change_message_visibility",
            handle,
            ReceiptHandle=handle,
            VisibilityTimeout=math.ceil(seconds),
        )

    def attributes(self, *names: str) -> dict[str, str]:
        """The queue's attributes (all of them when no names are given)."""
        response = self._call("get_queue_attributes", AttributeNames=list(names) or ["All"])
        return dict(response.get("Attributes", {}))

    def approximate_count(self) -> int:
        return int(self.attributes("ApproximateNumberOfMessages")["ApproximateNumberOfMessages"])

    def dead_letter_queue(self) -> SqsQueue | None:
        policy = self.attributes("RedrivePolicy").get("RedrivePolicy")
        if not policy:
            return None
        arn = json.loads(policy)["deadLetterTargetArn"]
        # arn:aws:sqs:<region>:<account>:<name>
        _, _, _, _, account, name = arn.split(":", 5)
        try:
            url = self.client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)
        except ClientError as err:
            if _code(err) in _MISSING_QUEUE_CODES:
                raise QueueNotFoundError(arn) from None
            raise
        return SqsQueue(url["QueueUrl"], client=self.client)

    def apply_redrive(self, max_receives: int, *, visibility_timeout: float) -> SqsQueue:
        # The redrive policy is infra's: only checked, so a missing one is not silent.
        if self.dead_letter_queue() is None:
            logger.warning(
                "queue %s has no dead-letter queue (redrive policy); poison messages will be "
                "received again and again — give it one (infra does)",
                self.url,
            )
        return self


def create_queue_with_dlq(
    name: str,
    max_receives: int,
    *,
    visibility_timeout: int = 30,
    region: str | None = None,
    endpoint_url: str | None = None,
    client: Any | None = None,
) -> SqsQueue:
    """Create queue ``name`` and ``<name>-dlq``, redriving after ``max_receives`` receives.

    For tests and scripts; deployed queues come from infra. Idempotent when the attributes match.
    """
    if max_receives < 1:
        raise ValueError(f"max_receives must be >= 1, got {max_receives}")
    client = client or make_sqs_client(region=region, endpoint_url=endpoint_url)
    dlq_url = client.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)}
    url = client.create_queue(
        QueueName=name,
        Attributes={
            "RedrivePolicy": json.dumps(redrive),
            "VisibilityTimeout": str(int(visibility_timeout)),
        },
    )["QueueUrl"]
    return SqsQueue(url, client=client)
