"""The raw images bucket's Lambda: an S3 object-created event → Image + OCRJob + OCR message.

Each record is registered with ``receipt_cloud.ocr_submit.register_uploaded_image`` (the same
function ``receipt-ocr submit`` uses), so the ids are derived the same way and an event repeated
by S3, or fired for an image ``submit`` already registered, sends nothing twice. Objects that are
not images are logged and skipped (nothing to label); other failures raise, so S3's
asynchronous invocation retries the event.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote_plus

from receipt_cloud.handlers._lambda_env import settings_from_environment
from receipt_cloud.ocr_submit import (
    RAW_PREFIX,
    InvalidImageUploadError,
    open_location,
    register_uploaded_image,
)
from receipt_cloud.settings import Settings

logger = logging.getLogger("receipt_cloud.handlers.upload")

SKIPPED_PREFIXES = ("ocr_results/", "receipts/")
"""The worker's own outputs (when they share the images bucket) are not new uploads."""


def _objects(event: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for record in event.get("Records") or []:
        s3 = record.get("s3") or {}
        bucket = (s3.get("bucket") or {}).get("name")
        key = (s3.get("object") or {}).get("key")
        if bucket and key:
            # S3 event keys are URL-encoded with '+' for spaces.
            found.append((bucket, unquote_plus(key)))
    return found


def handler(
    event: dict[str, Any], context: Any = None, *, settings: Settings | None = None
) -> dict[str, Any]:
    """Register every object of the event; returns what was registered and skipped."""
    settings = settings or settings_from_environment()
    store = settings.open_store()
    queue = settings.open_queue("ocr_jobs")
    registered, skipped = [], []
    for bucket, key in _objects(event):
        if key.startswith(SKIPPED_PREFIXES) or key.endswith("/"):
            skipped.append({"s3_bucket": bucket, "s3_key": key, "reason": "not an upload"})
            continue
        objects = open_location(bucket, region=settings.region, endpoint_url=settings.endpoint_url)
        try:
            submission = register_uploaded_image(
                store, queue, bucket=bucket, key=key, data=objects.get_bytes(key)
            )
        except InvalidImageUploadError as exc:
            logger.warning("s3://%s/%s skipped: %s", bucket, key, exc)
            skipped.append({"s3_bucket": bucket, "s3_key": key, "reason": str(exc)})
            continue
        logger.info("s3://%s/%s: image %s, job %s (%s)", bucket, key, submission.image_id,
                    submission.job_id, "queued" if submission.created else "already queued")
        registered.append({**submission.message(), "s3_bucket": bucket, "s3_key": key,
                           "created": submission.created})
    return {"registered": registered, "skipped": skipped}


__all__ = ["RAW_PREFIX", "handler"]
