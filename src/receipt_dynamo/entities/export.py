"""CoreMLExportJob: one request to turn a training checkpoint into an on-device bundle."""

from __future__ import annotations

import dataclasses

from receipt_dynamo import keys
from receipt_dynamo.entities._base import (
    Entity,
    check_enum,
    check_finite,
    check_key_part,
    check_non_negative_int,
    check_str,
    check_timestamp,
    check_uuid,
    utc_now,
)
from receipt_dynamo.errors import EntityValidationError
from receipt_dynamo.vocabulary import ExportStatus, QuantizeMode


@dataclasses.dataclass(frozen=True, kw_only=True)
class CoreMLExportJob(Entity):
    """An export request and, once done, its results."""

    ENTITY_TYPE = "COREML_EXPORT_JOB"

    export_id: str
    """UUID of the export (idempotency key of the export worker)."""
    job_id: str
    """The training Job's id or name."""
    model_s3_uri: str
    """Checkpoint to export (``s3://`` or local store URI)."""
    quantize: QuantizeMode
    """float32, float16, int8 or int4."""
    output_s3_prefix: str
    """Where the bundle goes."""
    status: ExportStatus = ExportStatus.PENDING
    """PENDING -> RUNNING -> SUCCEEDED | FAILED."""
    created_at: str = dataclasses.field(default_factory=utc_now)
    """Creation time (ISO 8601, +00:00)."""
    updated_at: str | None = None
    """Last change (defaults to ``created_at``)."""
    mlpackage_s3_uri: str | None = None
    """Result: the .mlpackage location."""
    bundle_s3_uri: str | None = None
    """Result: the bundle location."""
    model_size_bytes: int | None = None
    """Result: size of the model file."""
    export_duration_seconds: float | None = None
    """Result: wall time of the export."""
    error_message: str | None = None
    """Why it FAILED."""
    rollout: str | None = None
    """Result: whether the export path promoted the bundle and why (``promoted: …`` or
    ``not promoted: …``, the rollout policy's decision); None before it was decided."""

    def __post_init__(self) -> None:
        owner = "CoreMLExportJob"
        self._set("export_id", check_uuid(owner, "export_id", self.export_id))
        check_key_part(owner, "job_id", self.job_id)
        check_str(owner, "model_s3_uri", self.model_s3_uri)
        self._set("quantize", check_enum(owner, "quantize", QuantizeMode, self.quantize))
        check_str(owner, "output_s3_prefix", self.output_s3_prefix)
        self._set("status", check_enum(owner, "status", ExportStatus, self.status))
        self._set("created_at", check_timestamp(owner, "created_at", self.created_at))
        updated = self.created_at if self.updated_at is None else self.updated_at
        self._set("updated_at", check_timestamp(owner, "updated_at", updated))
        for name in ("mlpackage_s3_uri", "bundle_s3_uri", "error_message", "rollout"):
            if getattr(self, name) is not None:
                check_str(owner, name, getattr(self, name), allow_empty=True)
        if self.model_size_bytes is not None:
            check_non_negative_int(owner, "model_size_bytes", self.model_size_bytes)
        if self.export_duration_seconds is not None:
            seconds = check_finite(owner, "export_duration_seconds", self.export_duration_seconds)
            if seconds < 0:
                raise EntityValidationError(f"{owner}.export_duration_seconds must be >= 0")
            self._set("export_duration_seconds", seconds)

    def main_key(self) -> keys.MainKey:
        return keys.export_key(self.export_id)

    def index_keys(self) -> dict[str, str]:
        created = keys.created_sk(self.created_at)
        return {
            "GSI1PK": keys.export_job_pk(self.job_id),
            "GSI1SK": created,
            "GSI2PK": keys.export_status_pk(self.status.value),
            "GSI2SK": created,
        }
