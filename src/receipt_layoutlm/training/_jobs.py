"""The training Job record: pending → running → succeeded | failed | interrupted."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from typing import TYPE_CHECKING, Any

from receipt_dynamo.vocabulary import JobStatus
from receipt_layoutlm.errors import TrainingError

if TYPE_CHECKING:
    from receipt_dynamo import Job, ReceiptStore

log = logging.getLogger(__name__)

RESUMABLE = frozenset(
    {JobStatus.PENDING, JobStatus.RUNNING, JobStatus.INTERRUPTED, JobStatus.FAILED}
)
"""Statuses a job name may be trained again under (resuming from its newest checkpoint)."""


def _now() -> str:
    from receipt_dynamo.entities._base import utc_now

    return utc_now()


def find_job(store: ReceiptStore, name: str) -> Job | None:
    from receipt_dynamo.errors import EntityNotFoundError

    try:
        return store.get_job_by_name(name)
    except EntityNotFoundError:
        return None


class JobRecorder:
    """Writes the Job and its JobMetric rows; a no-op on ranks other than 0."""

    def __init__(self, store: ReceiptStore, job: Job, *, enabled: bool = True) -> None:
        self.store = store
        self.job = job
        self.enabled = enabled

    @classmethod
    def open(
        cls,
        store: ReceiptStore,
        name: str,
        *,
        job_config: dict[str, Any],
        resume: bool,
        enabled: bool = True,
        created_by: str | None = None,
        tags: dict[str, str] | None = None,
        description: str = "",
    ) -> tuple[JobRecorder, bool]:
        """The recorder for job ``name`` and whether it resumes an earlier run of that name."""
        from receipt_dynamo import Job

        existing = find_job(store, name)
        if existing is not None:
            status = existing.status
            if status not in RESUMABLE:
                raise TrainingError(
                    f"job {name!r} already {status.value.lower()}; pick a new --job-name (its "
                    f"results stay under runs/{name}/)"
                )
            log.info("job %s exists (%s): resuming it", name, status)
            return cls(store, existing, enabled=enabled), True
        if resume:
            raise TrainingError(
                f"--resume: there is no job named {name!r} in the store; drop --resume to start it"
            )
        job = Job(
            job_id=str(uuid.uuid4()),
            name=name,
            job_config=job_config,
            created_by=created_by,
            tags=dict(tags or {}),
            description=description,
        )
        if enabled:
            store.add_job(job)
        return cls(store, job, enabled=enabled), False

    def update(self, **changes: Any) -> Job:
        if "status" in changes:
            changes["status"] = JobStatus(changes["status"])
        self.job = dataclasses.replace(self.job, updated_at=_now(), **changes)
        if self.enabled:
            self.store.update_job(self.job)
        return self.job

    def add_metrics(self, rows: list[dict[str, Any]]) -> None:
        if not self.enabled or not rows:
            return
        from receipt_dynamo import JobMetric

        now = _now()
        metrics = [JobMetric(job_id=self.job.job_id, timestamp=now, **row) for row in rows]
        self.store.add_job_metrics(metrics)
