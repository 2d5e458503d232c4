"""Cloud plumbing shared by every worker and CLI: object stores, queues and settings.

Each piece works embedded on one machine (a directory, a SQLite queue file) or on AWS (S3, SQS)
behind the same interface; ``receipt_cloud.settings`` picks which from ``--env``. Importing this
package loads neither boto3 nor receipt_dynamo; backends load when first opened.
"""

from __future__ import annotations

from receipt_cloud.errors import (
    BucketNotFoundError,
    MissingSettingError,
    ObjectNotFoundError,
    QueueNotFoundError,
    ReceiptCloudError,
    StaleReceiptHandleError,
    UnknownSchemeError,
    UnsafeKeyError,
)
from receipt_cloud.objects import ObjectStore, open_object_store, resolve_uri
from receipt_cloud.queues import Message, Queue, open_queue
from receipt_cloud.settings import (
    Settings,
    add_settings_arguments,
    resolve_settings,
    settings_from_args,
)

__all__ = [
    "BucketNotFoundError",
    "Message",
    "MissingSettingError",
    "ObjectNotFoundError",
    "ObjectStore",
    "Queue",
    "QueueNotFoundError",
    "ReceiptCloudError",
    "Settings",
    "StaleReceiptHandleError",
    "UnknownSchemeError",
    "UnsafeKeyError",
    "add_settings_arguments",
    "open_object_store",
    "open_queue",
    "resolve_settings",
    "resolve_uri",
    "settings_from_args",
]
