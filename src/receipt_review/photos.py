"""A receipt's photo from the environment's raw object store, and nowhere else.

The Receipt record names its photo as ``raw_s3_bucket``/``raw_s3_key`` (what the worker and
``receipt-ocr submit`` record). Only a photo inside this environment's raw store is served: the
bucket must be that store's, the key must lie under its prefix, and the store itself refuses
keys that leave it (``..``, symlinks). Anything else is "no photo", never a read elsewhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from receipt_cloud.errors import ReceiptCloudError
from receipt_dynamo import Receipt
from receipt_review.errors import ReviewError

if TYPE_CHECKING:
    from receipt_cloud.objects import ObjectStore

MAX_PHOTO_BYTES = 40 * 1024 * 1024
"""A larger object is not served (a photo is a few MB)."""

_MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"),
          (b"GIF8", "image/gif"), (b"RIFF", "image/webp"), (b"BM", "image/bmp"))


def raw_key(raw: ObjectStore, receipt: Receipt) -> str | None:
    """The key of the receipt's photo inside ``raw``, or None when it lives elsewhere."""
    bucket, prefix = raw.location("")
    if receipt.raw_s3_bucket != bucket:
        return None
    key = str(receipt.raw_s3_key)
    if prefix:
        if not key.startswith(prefix):
            return None
        key = key[len(prefix):]
    return key or None


def has_photo(raw: ObjectStore, receipt: Receipt) -> bool:
    key = raw_key(raw, receipt)
    try:
        return key is not None and raw.exists(key)
    except (ReceiptCloudError, OSError, ValueError):
        return False


def photo_bytes(raw: ObjectStore, receipt: Receipt) -> tuple[bytes, str]:
    """(bytes, media type) of the receipt's photo; ReviewError 404 when there is none here."""
    key = raw_key(raw, receipt)
    missing = ReviewError(
        f"receipt {receipt.receipt_id} of image {receipt.image_id} has no photo in this "
        f"environment's raw store (recorded at {receipt.raw_s3_bucket}/{receipt.raw_s3_key})",
        status=404,
    )
    try:
        if key is None or not raw.exists(key):
            raise missing
        if raw.size(key) > MAX_PHOTO_BYTES:
            raise ReviewError(f"the photo of receipt {receipt.receipt_id} of image "
                              f"{receipt.image_id} is over {MAX_PHOTO_BYTES} bytes", status=404)
        data = raw.get_bytes(key)
    except (ReceiptCloudError, OSError, ValueError):
        raise missing from None
    media = next((m for magic, m in _MAGIC if data.startswith(magic)), None)
    if media is None:
        raise ReviewError(f"the photo of receipt {receipt.receipt_id} of image "
                          f"{receipt.image_id} is not a JPEG, PNG, GIF, WebP or BMP", status=404)
    return data, media
