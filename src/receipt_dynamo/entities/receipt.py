"""Receipt and its children: lines, words and word labels (all under the image's PK).

Receipt corners are fractions of the *image* size with a top-left origin and default to the whole
image. Lines and words carry their own frame (see ``geometry``).
"""

from __future__ import annotations

import dataclasses

from receipt_dynamo import keys
from receipt_dynamo.entities._base import (
    Entity,
    check_confidence,
    check_enum,
    check_id,
    check_image_side,
    check_str,
    check_timestamp,
    check_uuid,
    utc_now,
)
from receipt_dynamo.entities.geometry import Point, WordGeometry, _point
from receipt_dynamo.entities.image import check_sha256
from receipt_dynamo.vocabulary import PROTECTED_STATUSES, ValidationStatus, check_label

_FULL_IMAGE = {
    "top_left": (0.0, 0.0),
    "top_right": (1.0, 0.0),
    "bottom_right": (1.0, 1.0),
    "bottom_left": (0.0, 1.0),
}


def _receipt_ids(self: Entity, owner: str) -> None:
    self._set("image_id", check_uuid(owner, "image_id", self.image_id))  # type: ignore[attr-defined]
    check_id(owner, "receipt_id", self.receipt_id)  # type: ignore[attr-defined]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Receipt(Entity):
    """One receipt cut out of an image; its presence marks the receipt as completely written."""

    ENTITY_TYPE = "RECEIPT"

    image_id: str
    """UUID of the image the receipt is on."""
    receipt_id: int
    """1-based number of the receipt within the image."""
    width: int
    """Pixel width of the (deskewed) receipt."""
    height: int
    """Pixel height of the (deskewed) receipt."""
    raw_s3_bucket: str
    """Bucket of the receipt image."""
    raw_s3_key: str
    """Object key of the receipt image."""
    timestamp_added: str = dataclasses.field(default_factory=utc_now)
    """When the receipt was added (ISO 8601, +00:00)."""
    top_left: Point | None = None
    """Corner as fractions of the image size, top-left origin (default: full image)."""
    top_right: Point | None = None
    bottom_right: Point | None = None
    bottom_left: Point | None = None
    sha256: str | None = None
    """Hex digest of the receipt image bytes."""

    def __post_init__(self) -> None:
        _receipt_ids(self, "Receipt")
        check_image_side("Receipt", "width", self.width)
        check_image_side("Receipt", "height", self.height)
        check_str("Receipt", "raw_s3_bucket", self.raw_s3_bucket)
        check_str("Receipt", "raw_s3_key", self.raw_s3_key)
        self._set(
            "timestamp_added", check_timestamp("Receipt", "timestamp_added", self.timestamp_added)
        )
        for name, (x, y) in _FULL_IMAGE.items():
            value = getattr(self, name)
            self._set(name, _point("Receipt", name, {"x": x, "y": y} if value is None else value))
        check_sha256("Receipt", self.sha256)

    def main_key(self) -> keys.MainKey:
        return keys.receipt_key(self.image_id, self.receipt_id)

    def index_keys(self) -> dict[str, str]:
        return {
            "GSI4PK": keys.receipt_gsi4_pk(self.image_id, self.receipt_id),
            "GSI4SK": keys.RECEIPT_GSI4_SK,
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReceiptLine(WordGeometry, Entity):
    """One OCR line of a receipt."""

    ENTITY_TYPE = "RECEIPT_LINE"

    image_id: str
    """UUID of the image."""
    receipt_id: int
    """Receipt number within the image."""
    line_id: int
    """1-based line number within the receipt."""

    def __post_init__(self) -> None:
        _receipt_ids(self, "ReceiptLine")
        check_id("ReceiptLine", "line_id", self.line_id)
        self._validate_geometry()

    def main_key(self) -> keys.MainKey:
        return keys.line_key(self.image_id, self.receipt_id, self.line_id)

    def index_keys(self) -> dict[str, str]:
        return {
            "GSI4PK": keys.receipt_gsi4_pk(self.image_id, self.receipt_id),
            "GSI4SK": keys.line_gsi4_sk(self.line_id),
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReceiptWord(WordGeometry, Entity):
    """One OCR word of a receipt line."""

    ENTITY_TYPE = "RECEIPT_WORD"

    image_id: str
    """UUID of the image."""
    receipt_id: int
    """Receipt number within the image."""
    line_id: int
    """Line the word belongs to."""
    word_id: int
    """1-based word number within the line."""

    def __post_init__(self) -> None:
        _receipt_ids(self, "ReceiptWord")
        check_id("ReceiptWord", "line_id", self.line_id)
        check_id("ReceiptWord", "word_id", self.word_id)
        self._validate_geometry()

    def main_key(self) -> keys.MainKey:
        return keys.word_key(self.image_id, self.receipt_id, self.line_id, self.word_id)

    def index_keys(self) -> dict[str, str]:
        return {
            "GSI4PK": keys.receipt_gsi4_pk(self.image_id, self.receipt_id),
            "GSI4SK": keys.word_gsi4_sk(self.line_id, self.word_id),
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReceiptWordLabel(Entity):
    """A label on one word; several labels per word are allowed (one item per label)."""

    ENTITY_TYPE = "RECEIPT_WORD_LABEL"

    image_id: str
    """UUID of the image."""
    receipt_id: int
    """Receipt number within the image."""
    line_id: int
    """Line of the labelled word."""
    word_id: int
    """The labelled word."""
    label: str
    """Upper-case label from the vocabulary (see ``vocabulary``)."""
    label_proposed_by: str
    """Who proposed it: a model version, an importer, a person."""
    validation_status: ValidationStatus = ValidationStatus.NONE
    """Review state; VALID/INVALID are human decisions that proposals never replace."""
    confidence: float | None = None
    """Proposer's confidence in (0, 1], if any."""
    reasoning: str | None = None
    """Free-text justification."""
    timestamp_added: str = dataclasses.field(default_factory=utc_now)
    """When the label was written (ISO 8601, +00:00)."""
    reviewed_by: str | None = None
    """The person who decided it in review (VALID/INVALID), if a person did."""
    reviewed_at: str | None = None
    """When that person decided it (ISO 8601, +00:00)."""

    def __post_init__(self) -> None:
        owner = "ReceiptWordLabel"
        _receipt_ids(self, owner)
        check_id(owner, "line_id", self.line_id)
        check_id(owner, "word_id", self.word_id)
        check_label(self.label)
        check_str(owner, "label_proposed_by", self.label_proposed_by)
        self._set(
            "validation_status",
            check_enum(owner, "validation_status", ValidationStatus, self.validation_status),
        )
        if self.confidence is not None:
            self._set("confidence", check_confidence(owner, "confidence", self.confidence))
        if self.reasoning is not None:
            check_str(owner, "reasoning", self.reasoning, allow_empty=True)
        self._set(
            "timestamp_added", check_timestamp(owner, "timestamp_added", self.timestamp_added)
        )
        if self.reviewed_by is not None:
            check_str(owner, "reviewed_by", self.reviewed_by)
        if self.reviewed_at is not None:
            self._set("reviewed_at", check_timestamp(owner, "reviewed_at", self.reviewed_at))

    @property
    def is_proposal(self) -> bool:
        """True unless a human decided (VALID/INVALID): proposals never replace human decisions."""
        return self.validation_status not in PROTECTED_STATUSES

    def main_key(self) -> keys.MainKey:
        return keys.label_key(
            self.image_id, self.receipt_id, self.line_id, self.word_id, self.label
        )

    def index_keys(self) -> dict[str, str]:
        path = keys.label_path(
            self.image_id, self.receipt_id, self.line_id, self.word_id, self.label
        )
        review: dict[str, str] = {}
        if self.is_proposal:
            review = {
                "GSI2PK": keys.validation_status_pk(self.validation_status.value),
                "GSI2SK": keys.confidence_sk(self.confidence, path),
            }
        elif self.reviewed_at is not None:
            review = {
                "GSI2PK": keys.reviewed_pk(self.reviewed_at[:10]),
                "GSI2SK": f"{self.reviewed_at}#{path}",
            }
        return {
            "GSI1PK": keys.label_gsi1_pk(self.label),
            "GSI1SK": path,
            **review,
            "GSI3PK": keys.validation_status_pk(self.validation_status.value),
            "GSI3SK": path,
            "GSI4PK": keys.receipt_gsi4_pk(self.image_id, self.receipt_id),
            "GSI4SK": keys.label_gsi4_sk(self.line_id, self.word_id, self.label),
        }
