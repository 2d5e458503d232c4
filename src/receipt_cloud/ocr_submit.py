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
object key; for a local object store its root directory and the key (``ObjectStore.location``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import re
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from receipt_cloud.errors import ReceiptCloudError

if TYPE_CHECKING:
    from receipt_cloud.objects import ObjectStore
    from receipt_cloud.queues import Queue
    from receipt_cloud.settings import Settings
    from receipt_dynamo import ReceiptStore

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
MAX_SUBMIT_BYTES = 50 * 1024 * 1024
"""Largest file ``submit`` reads (a 50 MB photo is far above any phone camera's JPEG)."""
_MAGIC = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"GIF87a", "GIF"),
          (b"GIF89a", "GIF"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"BM", "BMP"))
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"avif")
_PILLOW_FORMATS = {"JPEG", "PNG", "GIF", "TIFF", "BMP", "WEBP"}
"""Raster formats Pillow decodes everywhere; HEIC needs a plug-in, so it is left to the worker."""
_NOT_AN_IMAGE = "no JPEG, PNG, TIFF, WebP, GIF, BMP or HEIC header; its contents are not shown"


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


def open_location(
    bucket: str, *, region: str | None = None, endpoint_url: str | None = None
) -> ObjectStore:
    """The object store a recorded ``s3_bucket`` names (its keys are the recorded keys)."""
    from receipt_cloud.objects import open_object_store

    if bucket.startswith("/") or "://" in bucket:
        return open_object_store(bucket)
    return open_object_store(f"s3://{bucket}", region=region, endpoint_url=endpoint_url)


def raster_format(data: bytes) -> str | None:
    """The raster format ``data`` starts like (``JPEG``, ``PNG``…), or None. ``imagesize`` also
    sizes SVG and other text formats, which the worker cannot read: the magic bytes decide."""
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "HEIC"
    return None


def image_dimensions(data: bytes, name: str = "image") -> tuple[int, int]:
    """``(width, height)`` as displayed (EXIF orientation applied), read from the header with
    ``imagesize`` (pure Python: the Lambda package carries no native code). Whether the pixels
    decode is the worker's check; this one refuses what is no raster image at all."""
    if not data:
        raise InvalidImageUploadError(f"{name} is empty (0 bytes); nothing was registered")
    if raster_format(data) is None:
        raise InvalidImageUploadError(
            f"{name} is not a readable image ({len(data)} bytes; {_NOT_AN_IMAGE}); "
            "nothing was registered"
        )
    import imagesize

    try:
        width, height = imagesize.get(io.BytesIO(data), exif_rotation=True)
    except (ValueError, OSError) as exc:  # a header that lies about its own structure
        raise InvalidImageUploadError(
            f"{name} is not a readable image ({exc}); nothing was registered"
        ) from None
    if width <= 0 or height <= 0:
        raise InvalidImageUploadError(
            f"{name} is not a readable image ({len(data)} bytes; {_NOT_AN_IMAGE}); "
            "nothing was registered"
        )
    return width, height


def check_decodes(data: bytes, name: str) -> None:
    """Refuse bytes that carry a raster header but that Pillow cannot parse (where Pillow is
    installed: ``submit`` has it, the Lambda package does not and leaves this to the worker)."""
    kind = raster_format(data)
    if kind not in _PILLOW_FORMATS:
        return
    try:
        from PIL import Image as PILImage
    except ImportError:
        return
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with PILImage.open(io.BytesIO(data)) as image:
                image.verify()
    except Exception as exc:  # Pillow raises many types for a broken file; each is a refusal
        raise InvalidImageUploadError(
            f"{name} is not a decodable {kind} image ({type(exc).__name__}); "
            "nothing was registered"
        ) from None


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def read_image_file(path: str | Path, *, max_bytes: int = MAX_SUBMIT_BYTES,
                    outcome: str = "nothing was registered") -> bytes:
    """The bytes of the regular file ``path``, at most ``max_bytes``.

    Devices (``/dev/zero``), FIFOs, sockets and directories are refused from ``stat`` before
    opening; the open is non-blocking (a FIFO swapped in meanwhile cannot hang it) and the opened
    file is checked again. Files that report no size (``/proc``) are read only up to the cap.
    ``outcome`` ends each refusal (what was not done because of it)."""
    path = Path(path)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidImageUploadError(
                f"{path} is {_file_kind(info.st_mode)}, not a regular file; {outcome}"
            )
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise InvalidImageUploadError(
                    f"{path} is {_file_kind(info.st_mode)}, not a regular file; {outcome}"
                )
            data = handle.read(max_bytes + 1) if info.st_size <= max_bytes else b""
    except OSError as exc:
        raise InvalidImageUploadError(
            f"cannot read {path}: {exc.strerror or type(exc).__name__}; {outcome}"
        ) from None
    size = max(info.st_size, len(data))
    if size > max_bytes:
        raise InvalidImageUploadError(
            f"{path} is over the size limit of {max_bytes:,} bytes"
            f"{f' ({size:,} bytes)' if info.st_size else ''}; {outcome}"
        )
    return data


def image_id_for(bucket: str, key: str) -> str:
    match = _RAW_KEY.fullmatch(key)
    if match:
        return match[1]
    return str(uuid.uuid5(ID_NAMESPACE, f"{bucket}/{key}"))


def job_id_for(image_id: str, sha256: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"{image_id}:{sha256}"))


def register_uploaded_image(
    store: ReceiptStore,
    queue: Queue,
    *,
    bucket: str,
    key: str,
    data: bytes,
    source: str = "upload",
    original_filename: str | None = None,
) -> Submission:
    """Create the Image (if new) and the OCRJob (if new) for an object already stored at
    ``bucket``/``key``, then send the job message. A job that already exists is not sent again."""
    from receipt_dynamo import EntityAlreadyExistsError, Image, OCRJob

    width, height = image_dimensions(data, f"{bucket}/{key}")
    sha256 = hashlib.sha256(data).hexdigest()
    image_id = image_id_for(bucket, key)
    job_id = job_id_for(image_id, sha256)
    image = Image(image_id=image_id, width=width, height=height, raw_s3_bucket=bucket,
                  raw_s3_key=key, sha256=sha256, image_type="PHOTO", source=source,
                  original_filename=original_filename)
    with contextlib.suppress(EntityAlreadyExistsError):
        store.add_image(image)  # exists: the same key uploaded again, new job for new bytes
    ocr_job = OCRJob(image_id=image_id, job_id=job_id, s3_bucket=bucket, s3_key=key, sha256=sha256)
    try:
        store.add_ocr_job(ocr_job)
    except EntityAlreadyExistsError:
        logger.info("OCR job %s for %s/%s exists already; not sent again", job_id, bucket, key)
        return Submission(image_id, job_id, bucket, key, created=False)
    queue.send({"image_id": image_id, "job_id": job_id})
    return Submission(image_id, job_id, bucket, key, created=True)


def submit_image(
    data: bytes, *, filename: str, store: ReceiptStore, objects: ObjectStore, queue: Queue
) -> Submission:
    """Upload ``data`` as ``raw/<new uuid><suffix>`` into ``objects`` (the raw images store),
    then :func:`register_uploaded_image`. The bytes are checked before anything is written, and
    the object is removed again when the records cannot be written (no orphan upload)."""
    image_dimensions(data, filename)
    check_decodes(data, filename)
    suffix = Path(filename).suffix.lower()
    suffix = suffix if suffix in IMAGE_SUFFIXES else ".img"
    key = f"{RAW_PREFIX}/{uuid.uuid4()}{suffix}"
    objects.put_bytes(key, data, content_type=_content_type(suffix))
    bucket, full_key = objects.location(key)
    try:
        return register_uploaded_image(store, queue, bucket=bucket, key=full_key, data=data,
                                       original_filename=display_name(filename))
    except BaseException:
        with contextlib.suppress(Exception):
            objects.delete(key)
        raise


def display_name(filename: str) -> str | None:
    """The file name kept on the Image: the last path part, control characters dropped, at most
    255 characters; None when nothing printable is left."""
    from receipt_dynamo.entities.image import MAX_FILENAME

    name = re.split(r"[\\/]", str(filename))[-1]
    name = "".join(ch for ch in name if ch.isprintable())[:MAX_FILENAME]
    return name or None


def submit_settings(paths: list[str | Path], settings: Settings) -> list[Submission]:
    """Submit local image files to the environment ``settings`` names. Every file is read and
    checked before the first upload; an AWS endpoint that cannot be reached is one line."""
    files = [(Path(path), read_image_file(path)) for path in paths]
    for path, data in files:
        image_dimensions(data, str(path))
        check_decodes(data, str(path))
    from botocore.exceptions import BotoCoreError

    try:
        store = settings.open_store()
        objects = settings.open_objects("raw")
        queue = settings.open_queue("ocr_jobs")
        return [submit_image(data, filename=path.name, store=store, objects=objects, queue=queue)
                for path, data in files]
    except BotoCoreError as exc:
        raise ReceiptCloudError(
            f"cannot reach AWS: {exc}; check --endpoint-url / AWS_ENDPOINT_URL, the region and "
            "the network"
        ) from None


def _content_type(suffix: str) -> str:
    return {
        ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".tif": "image/tiff",
        ".tiff": "image/tiff", ".webp": "image/webp", ".bmp": "image/bmp", ".gif": "image/gif",
        ".heic": "image/heic",
    }.get(suffix, "application/octet-stream")
