"""The Image record: one uploaded photo or scan."""

from __future__ import annotations

import dataclasses
import re

from receipt_dynamo import keys
from receipt_dynamo.entities._base import (
    Entity,
    check_image_side,
    check_str,
    check_timestamp,
    check_uuid,
    utc_now,
)
from receipt_dynamo.errors import EntityValidationError

_SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_FILENAME = 255
"""Longest ``original_filename`` kept (a file name on every common file system)."""
_FILENAME = re.compile(rf"[^/\\\x00-\x1f\x7f]{{1,{MAX_FILENAME}}}")


def check_sha256(owner: str, value: str | None) -> str | None:
    if value is not None and (not isinstance(value, str) or not _SHA256.fullmatch(value)):
        raise EntityValidationError(
            f"{owner}.sha256 must be 64 lower-case hex digits, got {value!r}"
        )
    return value


@dataclasses.dataclass(frozen=True, kw_only=True)
class Image(Entity):
    """An uploaded image; receipts, OCR jobs and routing decisions live under its key."""

    ENTITY_TYPE = "IMAGE"

    image_id: str
    """UUID of the image."""
    width: int
    """Pixel width (> 0)."""
    height: int
    """Pixel height (> 0)."""
    raw_s3_bucket: str
    """Bucket (or local store root name) holding the original."""
    raw_s3_key: str
    """Object key of the original."""
    timestamp_added: str = dataclasses.field(default_factory=utc_now)
    """When the image was added (ISO 8601, +00:00)."""
    sha256: str | None = None
    """Hex digest of the original bytes, for de-duplication."""
    image_type: str | None = None
    """Kind of image, e.g. "SCAN" or "PHOTO"."""
    source: str | None = None
    """Where it came from, e.g. "upload", "sroie", "wildreceipt"."""
    original_filename: str | None = None
    """The photo's file name as the user had it (``receipt-ocr submit``), for display; at most
    :data:`MAX_FILENAME` characters, no path, no control characters."""

    def __post_init__(self) -> None:
        self._set("image_id", check_uuid("Image", "image_id", self.image_id))
        check_image_side("Image", "width", self.width)
        check_image_side("Image", "height", self.height)
        check_str("Image", "raw_s3_bucket", self.raw_s3_bucket)
        check_str("Image", "raw_s3_key", self.raw_s3_key)
        self._set(
            "timestamp_added", check_timestamp("Image", "timestamp_added", self.timestamp_added)
        )
        check_sha256("Image", self.sha256)
        if self.original_filename is not None and (
            not isinstance(self.original_filename, str)
            or not _FILENAME.fullmatch(self.original_filename)
        ):
            raise EntityValidationError(
                f"Image.original_filename must be a file name of 1 to {MAX_FILENAME} characters "
                f"without '/', '\\' or control characters, got {self.original_filename!r:.80}"
            )
        for name in ("image_type", "source"):
            if getattr(self, name) is not None:
                check_str("Image", name, getattr(self, name))

    def main_key(self) -> keys.MainKey:
        return keys.image_key(self.image_id)
