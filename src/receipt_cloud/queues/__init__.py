"""Message queues: SQLite-backed local queues and SQS behind one ``Queue`` interface.

    queue = open_queue("local:///abs/.receipts/queues.sqlite3#ocr-jobs")  # or an SQS URL
    queue.send({"image_id": "...", "job_id": "..."})
    for message in queue.receive(max_messages=10, wait_seconds=20):
        handle(message.json())
        queue.delete(message)

The SQS backend (and boto3) loads only when an SQS URL is opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from receipt_cloud.errors import QueueNotFoundError, StaleReceiptHandleError
from receipt_cloud.queues._base import Message, Queue
from receipt_cloud.queues._open import open_queue, register_queue_scheme
from receipt_cloud.queues.local import LocalQueue, local_queue_url, parse_local_url

if TYPE_CHECKING:
    from receipt_cloud.queues.sqs import SqsQueue, create_queue_with_dlq

__all__ = [
    "LocalQueue",
    "Message",
    "Queue",
    "QueueNotFoundError",
    "SqsQueue",
    "StaleReceiptHandleError",
    "create_queue_with_dlq",
    "local_queue_url",
    "open_queue",
    "parse_local_url",
    "register_queue_scheme",
]


def __getattr__(name: str) -> Any:
    if name in ("SqsQueue", "create_queue_with_dlq"):
        from receipt_cloud.queues import sqs

        return getattr(sqs, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
