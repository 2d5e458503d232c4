"""Training Job and its JobMetric rows (metrics live under the job's PK)."""

from __future__ import annotations

import dataclasses
from typing import Any

from receipt_dynamo import keys
from receipt_dynamo.entities._base import (
    Entity,
    check_dict,
    check_enum,
    check_key_part,
    check_non_negative_int,
    check_str,
    check_timestamp,
    check_uuid,
    utc_now,
)
from receipt_dynamo.errors import EntityValidationError
from receipt_dynamo.vocabulary import JobStatus


@dataclasses.dataclass(frozen=True, kw_only=True)
class Job(Entity):
    """A training run."""

    ENTITY_TYPE = "JOB"

    job_id: str
    """UUID of the job."""
    name: str
    """Human/job-system name, e.g. ``layoutlm-2024-05-01``; looked up via GSI2."""
    status: JobStatus = JobStatus.PENDING
    """PENDING -> RUNNING -> SUCCEEDED | FAILED | INTERRUPTED (see ``JobStatus``)."""
    created_at: str = dataclasses.field(default_factory=utc_now)
    """Creation time (ISO 8601, +00:00)."""
    updated_at: str | None = None
    """Last change (defaults to ``created_at``)."""
    created_by: str | None = None
    """User or system that started it."""
    description: str = ""
    """Free text."""
    job_config: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Hyperparameters and data settings (JSON-serialisable)."""
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    """String tags, e.g. ``{"skip-coreml-export": "true"}``."""
    results: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Outcome: best metrics, checkpoint URIs, export ids (JSON-serialisable)."""
    status_message: str | None = None
    """Failure or interruption reason."""

    def __post_init__(self) -> None:
        self._set("job_id", check_uuid("Job", "job_id", self.job_id))
        check_key_part("Job", "name", self.name)
        self._set("status", check_enum("Job", "status", JobStatus, self.status))
        self._set("created_at", check_timestamp("Job", "created_at", self.created_at))
        updated = self.created_at if self.updated_at is None else self.updated_at
        self._set("updated_at", check_timestamp("Job", "updated_at", updated))
        check_str("Job", "description", self.description, allow_empty=True)
        check_dict("Job", "job_config", self.job_config)
        check_dict("Job", "tags", self.tags, str_values=True)
        check_dict("Job", "results", self.results)
        for name in ("created_by", "status_message"):
            if getattr(self, name) is not None:
                check_str("Job", name, getattr(self, name), allow_empty=True)

    def main_key(self) -> keys.MainKey:
        return keys.job_key(self.job_id)

    def index_keys(self) -> dict[str, str]:
        created = keys.created_sk(self.created_at)
        return {
            "GSI1PK": keys.job_status_pk(self.status.value),
            "GSI1SK": created,
            "GSI2PK": keys.job_name_pk(self.name),
            "GSI2SK": created,
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class JobMetric(Entity):
    """One measurement of a job (loss, F1, learning rate, ...) at a point in time."""

    ENTITY_TYPE = "JOB_METRIC"

    job_id: str
    """UUID of the job."""
    metric_name: str
    """Metric name without '#', e.g. ``eval_f1`` or ``f1/MERCHANT_NAME``."""
    value: float | dict[str, Any]
    """A number (NaN/inf allowed, e.g. a diverged loss) or a JSON-serialisable dict."""
    timestamp: str = dataclasses.field(default_factory=utc_now)
    """When it was measured (ISO 8601, +00:00); part of the key."""
    epoch: int | None = None
    """Epoch number, if any."""
    step: int | None = None
    """Optimizer step, if any."""
    unit: str | None = None
    """Unit, e.g. ``"ratio"`` or ``"seconds"``."""

    def __post_init__(self) -> None:
        owner = "JobMetric"
        self._set("job_id", check_uuid(owner, "job_id", self.job_id))
        check_key_part(owner, "metric_name", self.metric_name)
        if isinstance(self.value, dict):
            check_dict(owner, "value", self.value)
        elif isinstance(self.value, int | float) and not isinstance(self.value, bool):
            self._set("value", float(self.value))
        else:
            raise EntityValidationError(
                f"{owner}.value must be a number or a dict, got {self.value!r}"
            )
        self._set("timestamp", check_timestamp(owner, "timestamp", self.timestamp))
        for name in ("epoch", "step"):
            if getattr(self, name) is not None:
                check_non_negative_int(owner, name, getattr(self, name))
        if self.unit is not None:
            check_str(owner, "unit", self.unit)

    def main_key(self) -> keys.MainKey:
        return keys.metric_key(self.job_id, self.metric_name, self.timestamp)

    def index_keys(self) -> dict[str, str]:
        return {
            "GSI1PK": keys.metric_name_pk(self.metric_name),
            "GSI1SK": keys.metric_gsi1_sk(self.job_id, self.timestamp),
        }
