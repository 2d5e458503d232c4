"""The training-job aggregate: a Job, its JobMetric rows, and its CoreMLExportJobs."""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from functools import cached_property

from receipt_dynamo import keys
from receipt_dynamo.entities import CoreMLExportJob, Job, JobMetric
from receipt_dynamo.entities._base import check_timestamp
from receipt_dynamo.errors import EntityNotFoundError
from receipt_dynamo.store._base import StoreBase
from receipt_dynamo.store._repository import Repository
from receipt_dynamo.vocabulary import ExportStatus, JobStatus


def _metric_key(job_id: str, metric_name: str, timestamp: str) -> keys.MainKey:
    # Callers may pass a datetime or a Z timestamp; the stored key always has +00:00.
    stamp = check_timestamp("JobMetric", "timestamp", timestamp)
    return keys.metric_key(job_id, metric_name, stamp)


class JobRecords(StoreBase):
    @cached_property
    def _jobs(self) -> Repository[Job, [str]]:
        return Repository(self.table, Job, keys.job_key)

    @cached_property
    def _metrics(self) -> Repository[JobMetric, [str, str, str]]:
        return Repository(self.table, JobMetric, _metric_key)

    @cached_property
    def _exports(self) -> Repository[CoreMLExportJob, [str]]:
        return Repository(self.table, CoreMLExportJob, keys.export_key)

    # --- Job ---------------------------------------------------------------------------------

    def add_job(self, job: Job, *, overwrite: bool = False) -> None:
        self._jobs.add(job, overwrite=overwrite)

    def add_jobs(self, jobs: Sequence[Job]) -> None:
        self._jobs.add_many(jobs)

    def get_job(self, job_id: str) -> Job:
        return self._jobs.get(job_id)

    def get_job_by_name(self, name: str) -> Job:
        """The newest Job with this name (GSI2)."""
        items, _ = self.table.query("GSI2", keys.job_name_pk(name), ascending=False, limit=1)
        if not items:
            raise EntityNotFoundError(
                f"no Job named {name!r}; list them with `layoutlm-cli jobs list`"
            )
        return Job.from_item(items[0])

    def update_job(self, job: Job) -> None:
        self._jobs.update(job)

    def delete_job(self, job_id: str) -> None:
        """Delete the Job and its JobMetric rows."""
        pk = keys.job_pk(job_id)
        with self.table.atomic():
            self._jobs.delete(job_id)
            metrics = self.table.iter_query(None, pk, sk_begins_with=keys.metric_prefix())
            self.table.batch_write(deletes=[{"PK": pk, "SK": m["SK"]} for m in metrics])

    def list_jobs(self, status: JobStatus | str | None = None) -> list[Job]:
        """All jobs (GSITYPE), or those with ``status`` oldest first (GSI1)."""
        if status is None:
            return self._jobs.list_all()
        value = JobStatus(status).value
        found = [self._jobs.list("GSI1", keys.job_status_pk(value))]
        if value.lower() != value:
            # Jobs written before the statuses went upper-case sit under the lower-case key.
            found.append(self._jobs.list("GSI1", keys.job_status_pk(value.lower())))
        return list(heapq.merge(*found, key=lambda job: job.created_at))

    # --- JobMetric ---------------------------------------------------------------------------

    def add_job_metric(self, metric: JobMetric, *, overwrite: bool = False) -> None:
        self._metrics.add(metric, overwrite=overwrite)

    def add_job_metrics(self, metrics: Sequence[JobMetric]) -> None:
        self._metrics.add_many(metrics)

    def get_job_metric(self, job_id: str, metric_name: str, timestamp: str) -> JobMetric:
        return self._metrics.get(job_id, metric_name, timestamp)

    def update_job_metric(self, metric: JobMetric) -> None:
        self._metrics.update(metric)

    def delete_job_metric(self, job_id: str, metric_name: str, timestamp: str) -> None:
        self._metrics.delete(job_id, metric_name, timestamp)

    def list_job_metrics(self, job_id: str, metric_name: str | None = None) -> list[JobMetric]:
        """A job's metrics, by name then time (main table)."""
        return self._metrics.list(
            None, keys.job_pk(job_id), sk_begins_with=keys.metric_prefix(metric_name)
        )

    def list_metrics_by_name(self, metric_name: str) -> list[JobMetric]:
        """One metric across all jobs (GSI1), grouped by job then time."""
        return self._metrics.list("GSI1", keys.metric_name_pk(metric_name))

    # --- CoreMLExportJob ---------------------------------------------------------------------

    def add_export_job(self, export: CoreMLExportJob, *, overwrite: bool = False) -> None:
        self._exports.add(export, overwrite=overwrite)

    def add_export_jobs(self, exports: Sequence[CoreMLExportJob]) -> None:
        self._exports.add_many(exports)

    def get_export_job(self, export_id: str) -> CoreMLExportJob:
        return self._exports.get(export_id)

    def update_export_job(self, export: CoreMLExportJob) -> None:
        self._exports.update(export)

    def delete_export_job(self, export_id: str) -> None:
        self._exports.delete(export_id)

    def list_export_jobs(self) -> list[CoreMLExportJob]:
        return self._exports.list_all()

    def list_export_jobs_by_status(self, status: ExportStatus | str) -> list[CoreMLExportJob]:
        """Exports with this status, oldest first (GSI2)."""
        return self._exports.list("GSI2", keys.export_status_pk(ExportStatus(status).value))

    def list_export_jobs_for_job(self, job_id: str) -> list[CoreMLExportJob]:
        """Exports of one training job (by the id or name they were created with), oldest first."""
        return self._exports.list("GSI1", keys.export_job_pk(job_id))
