"""The raw images bucket's Lambda: an S3 object-created event → Image + OCRJob + OCR message.

Each record is registered with ``receipt_cloud.ocr_submit.register_uploaded_image`` (the same
function ``receipt-ocr submit`` uses), so the ids are derived the same way and an event repeated
by S3, or fired for an image ``submit`` already registered, sends nothing twice.

An event comes from outside: each record must name an object of the configured raw images store
(its bucket, or locally its root directory) under a key that passes the one URI rule
(``receipt_cloud.objects.confine``). A record that does not (another bucket, ``..``, a record
that is no object), an object that is not an image and one already gone are skipped with a
logged one-line reason while the event's other records are registered; other failures (the
store or the queue unreachable) raise, so S3's asynchronous invocation retries the event.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from receipt_cloud.errors import ObjectNotFoundError, UntrustedUriError
from receipt_cloud.handlers._lambda_env import settings_from_environment
from receipt_cloud.objects.confine import MAX_URI_CHARS, confine_object
from receipt_cloud.ocr_submit import (
    RAW_PREFIX,
    InvalidImageUploadError,
    open_location,
    register_uploaded_image,
)
from receipt_cloud.settings import Settings
from receipt_dynamo.names import shown

if TYPE_CHECKING:
    from receipt_cloud.queues import Queue
    from receipt_dynamo import ReceiptStore

logger = logging.getLogger("receipt_cloud.handlers.upload")

SKIPPED_PREFIXES = ("ocr_results/", "receipts/")
"""The worker's own outputs (when they share the images bucket) are not new uploads."""


class _Skip(Exception):
    """One record of the event is skipped; the message is the reason."""


def _bucket_and_key(record: Any) -> tuple[str, str]:
    """``(bucket, decoded key)`` of one S3 event record; ``_Skip`` when it holds none."""
    if not isinstance(record, dict):
        raise _Skip(f"the record is {type(record).__name__}, not an S3 event record object")
    s3 = record.get("s3")
    bucket = s3.get("bucket") if isinstance(s3, dict) else None
    obj = s3.get("object") if isinstance(s3, dict) else None
    name = bucket.get("name") if isinstance(bucket, dict) else None
    key = obj.get("key") if isinstance(obj, dict) else None
    if not isinstance(name, str) or not isinstance(key, str) or not name or not key:
        raise _Skip("the record has no s3.bucket.name and s3.object.key strings")
    # S3 event keys are URL-encoded with '+' for spaces.
    return name, unquote_plus(key)


def _records(event: Any) -> list[Any]:
    if not isinstance(event, dict):
        raise _Skip(f"the event is {type(event).__name__}, not an object; nothing to register")
    records = event.get("Records")
    if not isinstance(records, list):
        raise _Skip(
            f"the event's Records is {type(records).__name__}, not a list; nothing to register"
        )
    return records


def _register(settings: Settings, store: ReceiptStore, queue: Queue, record: Any) -> dict[str, Any]:
    bucket, key = _bucket_and_key(record)
    if key.startswith(SKIPPED_PREFIXES) or key.endswith("/"):
        raise _Skip("not an upload")
    try:
        confine_object(bucket, key, settings.raw_uri, what="uploaded object")
    except UntrustedUriError as exc:
        raise _Skip(str(exc)) from None
    objects = open_location(bucket, region=settings.region, endpoint_url=settings.endpoint_url)
    try:
        submission = register_uploaded_image(
            store, queue, bucket=bucket, key=key, data=objects.get_bytes(key)
        )
    except (InvalidImageUploadError, ObjectNotFoundError) as exc:
        raise _Skip(str(exc)) from None
    logger.info("%s/%s: image %s, job %s (%s)", bucket, key, submission.image_id,
                submission.job_id, "queued" if submission.created else "already queued")
    return {**submission.message(), "s3_bucket": bucket, "s3_key": key,
            "created": submission.created}


def _where(record: Any) -> dict[str, str]:
    """What a skipped record named, capped (a hostile key is not copied whole)."""
    try:
        bucket, key = _bucket_and_key(record)
    except _Skip:
        return {}
    return {"s3_bucket": bucket[:200], "s3_key": key if len(key) <= MAX_URI_CHARS else shown(key)}


def handler(
    event: dict[str, Any], context: Any = None, *, settings: Settings | None = None
) -> dict[str, Any]:
    """Register every object of the event; returns what was registered and what was skipped
    (with the reason)."""
    try:
        records = _records(event)
    except _Skip as exc:
        logger.warning("upload event skipped: %s", exc)
        return {"registered": [], "skipped": [{"reason": str(exc)}]}
    settings = settings or settings_from_environment()
    store = settings.open_store()
    queue = settings.open_queue("ocr_jobs")
    registered, skipped = [], []
    for index, record in enumerate(records):
        try:
            registered.append(_register(settings, store, queue, record))
        except _Skip as exc:
            logger.warning("upload event record %d skipped: %s", index, exc)
            skipped.append({**_where(record), "reason": str(exc)})
    return {"registered": registered, "skipped": skipped}


__all__ = ["RAW_PREFIX", "handler"]
