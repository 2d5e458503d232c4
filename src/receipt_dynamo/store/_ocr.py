"""The OCR aggregate of an image: its OCRJob and OCRRoutingDecision items."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

from receipt_dynamo import keys
from receipt_dynamo.entities import OCRJob, OCRRoutingDecision
from receipt_dynamo.store._base import StoreBase
from receipt_dynamo.store._repository import Repository
from receipt_dynamo.vocabulary import OCRJobStatus, RoutingStatus


class OCRRecords(StoreBase):
    @cached_property
    def _ocr_jobs(self) -> Repository[OCRJob, [str, str]]:
        return Repository(self.table, OCRJob, keys.ocr_job_key)

    @cached_property
    def _routing(self) -> Repository[OCRRoutingDecision, [str, str]]:
        return Repository(self.table, OCRRoutingDecision, keys.routing_key)

    # --- OCRJob ------------------------------------------------------------------------------

    def add_ocr_job(self, ocr_job: OCRJob, *, overwrite: bool = False) -> None:
        self._ocr_jobs.add(ocr_job, overwrite=overwrite)

    def add_ocr_jobs(self, ocr_jobs: Sequence[OCRJob]) -> None:
        self._ocr_jobs.add_many(ocr_jobs)

    def get_ocr_job(self, image_id: str, job_id: str) -> OCRJob:
        return self._ocr_jobs.get(image_id, job_id)

    def update_ocr_job(self, ocr_job: OCRJob) -> None:
        self._ocr_jobs.update(ocr_job)

    def delete_ocr_job(self, image_id: str, job_id: str) -> None:
        self._ocr_jobs.delete(image_id, job_id)

    def list_ocr_jobs(self, image_id: str | None = None) -> list[OCRJob]:
        """All OCR jobs (GSITYPE), or those of one image (main table)."""
        if image_id is None:
            return self._ocr_jobs.list_all()
        return self._ocr_jobs.list(None, keys.image_pk(image_id), sk_begins_with="OCR_JOB#")

    def list_ocr_jobs_by_status(self, status: OCRJobStatus | str) -> list[OCRJob]:
        """OCR jobs with this status, oldest first (GSI1)."""
        return self._ocr_jobs.list("GSI1", keys.ocr_job_status_pk(OCRJobStatus(status).value))

    # --- OCRRoutingDecision ------------------------------------------------------------------

    def add_routing_decision(
        self, decision: OCRRoutingDecision, *, overwrite: bool = False
    ) -> None:
        self._routing.add(decision, overwrite=overwrite)

    def add_routing_decisions(self, decisions: Sequence[OCRRoutingDecision]) -> None:
        self._routing.add_many(decisions)

    def get_routing_decision(self, image_id: str, job_id: str) -> OCRRoutingDecision:
        return self._routing.get(image_id, job_id)

    def update_routing_decision(self, decision: OCRRoutingDecision) -> None:
        self._routing.update(decision)

    def delete_routing_decision(self, image_id: str, job_id: str) -> None:
        self._routing.delete(image_id, job_id)

    def list_routing_decisions(self, image_id: str | None = None) -> list[OCRRoutingDecision]:
        """All routing decisions (GSITYPE), or those of one image (main table)."""
        if image_id is None:
            return self._routing.list_all()
        return self._routing.list(None, keys.image_pk(image_id), sk_begins_with="ROUTING#")

    def list_routing_decisions_by_status(
        self, status: RoutingStatus | str
    ) -> list[OCRRoutingDecision]:
        """Routing decisions with this status, oldest first (GSI1)."""
        return self._routing.list("GSI1", keys.routing_status_pk(RoutingStatus(status).value))
