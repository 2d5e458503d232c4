"""OCRJob (one image to OCR and label) and OCRRoutingDecision (what the worker did with it)."""

from __future__ import annotations

import dataclasses

from receipt_dynamo import keys
from receipt_dynamo.entities._base import (
    Entity,
    check_enum,
    check_key_part,
    check_non_negative_int,
    check_positive_int,
    check_str,
    check_timestamp,
    check_uuid,
    utc_now,
)
from receipt_dynamo.entities.image import check_sha256
from receipt_dynamo.vocabulary import OCRJobStatus, RoutingStatus


def _common(self: Entity, owner: str) -> None:
    self._set("image_id", check_uuid(owner, "image_id", self.image_id))  # type: ignore[attr-defined]
    self._set("job_id", check_uuid(owner, "job_id", self.job_id))  # type: ignore[attr-defined]
    check_str(owner, "s3_bucket", self.s3_bucket)  # type: ignore[attr-defined]
    check_str(owner, "s3_key", self.s3_key)  # type: ignore[attr-defined]
    self._set("created_at", check_timestamp(owner, "created_at", self.created_at))  # type: ignore[attr-defined]
    updated = self.created_at if self.updated_at is None else self.updated_at  # type: ignore[attr-defined]
    self._set("updated_at", check_timestamp(owner, "updated_at", updated))


@dataclasses.dataclass(frozen=True, kw_only=True)
class OCRJob(Entity):
    """A request to OCR and label one image."""

    ENTITY_TYPE = "OCR_JOB"

    image_id: str
    """UUID of the image."""
    job_id: str
    """UUID of this OCR job."""
    s3_bucket: str
    """Bucket of the image to OCR."""
    s3_key: str
    """Object key of the image to OCR."""
    status: OCRJobStatus = OCRJobStatus.PENDING
    """PENDING -> RUNNING -> COMPLETED | FAILED."""
    job_type: str = "FIRST_PASS"
    """Kind of pass, e.g. FIRST_PASS or REFINEMENT."""
    created_at: str = dataclasses.field(default_factory=utc_now)
    """Creation time (ISO 8601, +00:00)."""
    updated_at: str | None = None
    """Last change (defaults to ``created_at``)."""
    failure_reason: str | None = None
    """Why it FAILED."""
    receipt_id: int | None = None
    """Receipt this job refines, if any."""
    sha256: str | None = None
    """Hex digest of the image bytes when the job was created; the worker refuses an object
    whose bytes no longer match (replaced after submit). None on jobs written before it."""

    def __post_init__(self) -> None:
        _common(self, "OCRJob")
        check_sha256("OCRJob", self.sha256)
        self._set("status", check_enum("OCRJob", "status", OCRJobStatus, self.status))
        check_key_part("OCRJob", "job_type", self.job_type)
        if self.failure_reason is not None:
            check_str("OCRJob", "failure_reason", self.failure_reason, allow_empty=True)
        if self.receipt_id is not None:
            check_positive_int("OCRJob", "receipt_id", self.receipt_id)

    def main_key(self) -> keys.MainKey:
        return keys.ocr_job_key(self.image_id, self.job_id)

    def index_keys(self) -> dict[str, str]:
        return {
            "GSI1PK": keys.ocr_job_status_pk(self.status.value),
            "GSI1SK": keys.created_sk(self.created_at),
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class OCRRoutingDecision(Entity):
    """The outcome of one OCR job: how many receipts were found and written."""

    ENTITY_TYPE = "OCR_ROUTING_DECISION"

    image_id: str
    """UUID of the image."""
    job_id: str
    """UUID of the OCR job this decision belongs to."""
    s3_bucket: str
    """Bucket of the results JSON."""
    s3_key: str
    """Object key of the results JSON."""
    receipt_count: int = 0
    """Receipts written for the image."""
    status: RoutingStatus = RoutingStatus.PENDING
    """PENDING -> COMPLETED | FAILED."""
    created_at: str = dataclasses.field(default_factory=utc_now)
    """Creation time (ISO 8601, +00:00)."""
    updated_at: str | None = None
    """Last change (defaults to ``created_at``)."""

    def __post_init__(self) -> None:
        _common(self, "OCRRoutingDecision")
        check_non_negative_int("OCRRoutingDecision", "receipt_count", self.receipt_count)
        self._set("status", check_enum("OCRRoutingDecision", "status", RoutingStatus, self.status))

    def main_key(self) -> keys.MainKey:
        return keys.routing_key(self.image_id, self.job_id)

    def index_keys(self) -> dict[str, str]:
        return {
            "GSI1PK": keys.routing_status_pk(self.status.value),
            "GSI1SK": keys.created_sk(self.created_at),
        }
