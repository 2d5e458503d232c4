"""Submitting images for labelling: upload, Image + OCRJob records, ``{"image_id", "job_id"}``.

Torch-free (the upload Lambda runs it). ``receipt-ocr submit`` uploads local files with
:func:`submit_image`; the Lambda (``receipt_cloud.handlers.upload``) registers objects that are
already in the bucket with :func:`register_uploaded_image`. Both derive the ids the same way, so
an image that ``submit`` uploads into a bucket the Lambda watches is registered once:

- ``image_id``: the UUID in a ``raw/<uuid>.<ext>`` key (what ``submit`` writes), else
  ``uuid5(bucket/key)``;
- ``job_id``: ``uuid5(image_id:sha256 of the bytes)`` — the same bytes under the same image give
  the same job, and the OCRJob is created conditionally, so a repeated event sends nothing.

Where an image lives is recorded as ``(s3_bucket, s3_key)``: for S3 the bucket name and the full
object key; for a local object store its root directory and the key (see :func:`location`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from receipt_cloud.errors import ReceiptCloudError

logger = logging.getLogger(__name__)

RAW_PREFIX = "raw"
"""Key prefix of submitted images."""
ID_NAMESPACE = uuid.UUID("0b7f5d8e-3c2a-4e61-9f4b-7a1d2c3e4f50")
"""Namespace of derived image and job ids (never change it: events would be registered twice)."""
_RAW_KEY = re.compile(
    rf"(?:.*/)?{RAW_PREFIX}/([0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}})"
    r"\.[A-Za-z0-9]+"
)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".gif", ".heic"}


class InvalidImageUploadError(ReceiptCloudError, ValueError):
    """An uploaded object is not an image (or is empty); nothing was registered."""


@dataclass(frozen=True)
class Submission:
    """One image registered for labelling."""

    image_id: str
    job_id: str
    s3_bucket: str
    """Bucket (S3) or local store root of the image."""
    s3_key: str
    """Object key of the image."""
    created: bool
    """False when the OCRJob already existed (nothing was sent again)."""

    def message(self) -> dict[str, str]:
        """The OCR job queue message."""
        return {"image_id": self.image_id, "job_id": self.job_id}


def location(objects: Any, key: str) -> tuple[str, str]:
    """``(s3_bucket, s3_key)`` of ``key`` in ``objects`` (an S3 or local object store)."""
    bucket = getattr(objects, "bucket", None)
    if bucket is not None:
        prefix = str(getattr(objects, "prefix", "") or "").strip("/")
        return str(bucket), f"{prefix}/{key}" if prefix else key
    return str(objects.root), key


def open_location(
    bucket: str, *, region: str | None = None, endpoint_url: str | None = None
) -> Any:
    """The object store a recorded ``s3_bucket`` names (its keys are the recorded keys)."""
    from receipt_cloud.objects import open_object_store

    if bucket.startswith("/") or "://" in bucket:
        return open_object_store(bucket)
    return open_object_store(f"s3://{bucket}", region=region, endpoint_url=endpoint_url)


def image_dimensions(data: bytes, name: str = "image") -> tuple[int, int]:
    """``(width, height)`` as displayed (EXIF orientation applied), read from the header with
    ``imagesize`` (pure Python: the Lambda package carries no native code). Whether the pixels
    decode is the worker's check; this one refuses what is no image at all."""
    if not data:
        raise InvalidImageUploadError(f"{name} is empty (0 bytes); nothing was registered")
    import imagesize

    try:
        width, height = imagesize.get(io.BytesIO(data), exif_rotation=True)
    except (ValueError, OSError) as exc:  # a header that lies about its own structure
        raise InvalidImageUploadError(
            f"{name} is not a readable image ({exc}); nothing was registered"
        ) from None
    if width <= 0 or height <= 0:
        raise InvalidImageUploadError(
            f"{name} is not a readable image ({len(data)} bytes starting {data[:8]!r}; no "
            "JPEG, PNG, TIFF, WebP, GIF, BMP or HEIC header); nothing was registered"
        )
    return width, height


def image_id_for(bucket: str, key: str) -> str:
    match = _RAW_KEY.fullmatch(key)
    if match:
        return match[1]
    return str(uuid.uuid5(ID_NAMESPACE, f"{bucket}/{key}"))


def job_id_for(image_id: str, sha256: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"{image_id}:{sha256}"))


def register_uploaded_image(
    store: Any,
    queue: Any,
    *,
    bucket: str,
    key: str,
    data: bytes,
    source: str = "upload",
) -> Submission:
    """Create the Image (if new) and the OCRJob (if new) for an object already stored at
    ``bucket``/``key``, then send the job message. A job that already exists is not sent again."""
    from receipt_dynamo import EntityAlreadyExistsError, Image, OCRJob

    width, height = image_dimensions(data, f"{bucket}/{key}")
    sha256 = hashlib.sha256(data).hexdigest()
    image_id = image_id_for(bucket, key)
    job_id = job_id_for(image_id, sha256)
    image = Image(image_id=image_id, width=width, height=height, raw_s3_bucket=bucket,
                  raw_s3_key=key, sha256=sha256, image_type="PHOTO", source=source)
    with contextlib.suppress(EntityAlreadyExistsError):
        store.add_image(image)  # exists: the same key uploaded again, new job for new bytes
    job = OCRJob(image_id=image_id, job_id=job_id, s3_bucket=bucket, s3_key=key)
    try:
        store.add_ocr_job(job)
    except EntityAlreadyExistsError:
        logger.info("OCR job %s for %s/%s exists already; not sent again", job_id, bucket, key)
        return Submission(image_id, job_id, bucket, key, created=False)
    queue.send({"image_id": image_id, "job_id": job_id})
    return Submission(image_id, job_id, bucket, key, created=True)


def submit_image(
    data: bytes, *, filename: str, store: Any, objects: Any, queue: Any
) -> Submission:
    """Upload ``data`` as ``raw/<new uuid><suffix>`` into ``objects`` (the raw images store),
    then :func:`register_uploaded_image`. The bytes are checked before anything is written."""
    image_dimensions(data, filename)
    suffix = Path(filename).suffix.lower()
    suffix = suffix if suffix in IMAGE_SUFFIXES else ".img"
    key = f"{RAW_PREFIX}/{uuid.uuid4()}{suffix}"
    objects.put_bytes(key, data, content_type=_content_type(suffix))
    bucket, full_key = location(objects, key)
    return register_uploaded_image(store, queue, bucket=bucket, key=full_key, data=data)


def submit_settings(paths: list[str | Path], settings: Any) -> list[Submission]:
    """Submit local image files to the environment ``settings`` names."""
    store = settings.open_store()
    objects = settings.open_objects("raw")
    queue = settings.open_queue("ocr_jobs")
    submissions = []
    for path in paths:
        path = Path(path)
        submissions.append(
            submit_image(path.read_bytes(), filename=path.name, store=store, objects=objects,
                         queue=queue)
        )
    return submissions


def _content_type(suffix: str) -> str:
    return {
        ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".tif": "image/tiff",
        ".tiff": "image/tiff", ".webp": "image/webp", ".bmp": "image/bmp", ".gif": "image/gif",
        ".heic": "image/heic",
    }.get(suffix, "application/octet-stream")
