"""``ReceiptStore``: the entity API, written once over the item-level ``Table`` interface.

Conventions for every entity X:

* ``add_X(entity, *, overwrite=False)`` is conditional: an existing key raises
  EntityAlreadyExistsError unless ``overwrite``.
* ``add_Xs(entities)`` is an unconditional batch upsert (chunks of 25, unprocessed items retried).
* ``get_X(keys...)`` raises EntityNotFoundError; ``update_X(entity)`` requires the item to exist;
  ``delete_X(entity_or_keys...)`` requires it to exist.
* ``list_X(...)`` pages through the backend to the end and returns a list.

Labels are protected: a proposal (status NONE/PENDING/NEEDS_REVIEW) never replaces a stored
VALID/INVALID label. A receipt is complete only when its Receipt item exists: ``write_receipt``
writes children first and the Receipt item last, so readers (``get_receipt_details``) treat a
receipt without its Receipt item as absent.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from receipt_dynamo import keys
from receipt_dynamo._table import (
    MUST_EXIST,
    MUST_NOT_EXIST,
    AttributeEquals,
    ExistsAndAttributeNotIn,
    Item,
    NotExistsOrAttributeNotIn,
    Table,
)
from receipt_dynamo.backends import open_table
from receipt_dynamo.entities import (
    CoreMLExportJob,
    Entity,
    Image,
    Job,
    JobMetric,
    OCRJob,
    OCRRoutingDecision,
    Receipt,
    ReceiptLine,
    ReceiptWord,
    ReceiptWordLabel,
)
from receipt_dynamo.errors import (
    ConditionFailedError,
    EntityAlreadyExistsError,
    EntityNotFoundError,
    EntityValidationError,
    ProtectedLabelError,
    StoreUnavailableError,
)
from receipt_dynamo.vocabulary import (
    PROTECTED_STATUSES,
    ExportStatus,
    JobStatus,
    OCRJobStatus,
    RoutingStatus,
    ValidationStatus,
)

T = TypeVar("T", bound=Entity)
_PROTECTED = tuple(sorted(s.value for s in PROTECTED_STATUSES))
WRITE_TOKEN = "write_token"
"""Attribute ``write_receipt`` stamps on the children it writes (one random token per call)."""


@dataclasses.dataclass(frozen=True)
class ReceiptDetails:
    """A whole receipt as read by one GSI4 query, children in key order."""

    receipt: Receipt
    lines: list[ReceiptLine]
    words: list[ReceiptWord]
    labels: list[ReceiptWordLabel]


@dataclasses.dataclass(frozen=True)
class ProposalResult:
    """Outcome of a label batch: how many were written and how many protected ones were kept."""

    written: int
    """Labels written."""
    skipped_protected: int
    """Proposals not written because a VALID/INVALID label holds that key."""
    skipped: tuple[ReceiptWordLabel, ...] = ()
    """The proposals that were skipped."""


def _describe(entity_type: str, pk: str, sk: str) -> str:
    return f"{entity_type} PK={pk!r} SK={sk!r}"


class ReceiptStore:
    """The entity API over one table backend (``open_store`` builds one)."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def close(self) -> None:
        self.table.close()

    def __enter__(self) -> ReceiptStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- generic operations ------------------------------------------------------------------

    def _add(self, entity: Entity, overwrite: bool) -> None:
        try:
            self.table.put_item(entity.to_item(), condition=None if overwrite else MUST_NOT_EXIST)
        except ConditionFailedError:
            raise EntityAlreadyExistsError(
                f"{_describe(entity.ENTITY_TYPE, entity.pk, entity.sk)} already exists; pass "
                "overwrite=True to replace it, or use the update method"
            ) from None

    def _add_many(self, entities: Iterable[Entity]) -> None:
        # Last one wins for repeated keys: DynamoDB rejects a batch holding one key twice.
        unique = {(e.pk, e.sk): e.to_item() for e in entities}
        self.table.batch_write(puts=list(unique.values()))

    def _get(self, cls: type[T], pk: str, sk: str) -> T:
        item = self.table.get_item(pk, sk)
        if item is None:
            raise EntityNotFoundError(
                f"{_describe(cls.ENTITY_TYPE, pk, sk)} not found; check the ids or add it first"
            )
        return cls.from_item(item)

    def _update(self, entity: Entity) -> None:
        try:
            self.table.put_item(entity.to_item(), condition=MUST_EXIST)
        except ConditionFailedError:
            raise EntityNotFoundError(
                f"cannot update {_describe(entity.ENTITY_TYPE, entity.pk, entity.sk)}: it does "
                "not exist; add it first"
            ) from None

    def _delete(self, cls: type[Entity], pk: str, sk: str) -> None:
        try:
            self.table.delete_item(pk, sk, condition=MUST_EXIST)
        except ConditionFailedError:
            raise EntityNotFoundError(
                f"cannot delete {_describe(cls.ENTITY_TYPE, pk, sk)}: it does not exist"
            ) from None

    def _list(self, cls: type[T], index: str | None, pk: str, **options: Any) -> list[T]:
        return [
            cls.from_item(item)
            for item in self.table.iter_query(index, pk, **options)
            if item.get("TYPE") == cls.ENTITY_TYPE
        ]

    # --- Image -------------------------------------------------------------------------------

    def add_image(self, image: Image, *, overwrite: bool = False) -> None:
        self._add(image, overwrite)

    def add_images(self, images: Sequence[Image]) -> None:
        self._add_many(images)

    def get_image(self, image_id: str) -> Image:
        return self._get(Image, keys.image_pk(image_id), keys.IMAGE_SK)

    def update_image(self, image: Image) -> None:
        self._update(image)

    def delete_image(self, image: Image | str) -> None:
        """Delete the Image item only (its receipts and OCR records stay)."""
        image_id = image.image_id if isinstance(image, Image) else image
        self._delete(Image, keys.image_pk(image_id), keys.IMAGE_SK)

    def list_images(self) -> list[Image]:
        return self._list(Image, "GSITYPE", Image.ENTITY_TYPE)

    # --- Receipt -----------------------------------------------------------------------------

    def add_receipt(self, receipt: Receipt, *, overwrite: bool = False) -> None:
        self._add(receipt, overwrite)

    def add_receipts(self, receipts: Sequence[Receipt]) -> None:
        self._add_many(receipts)

    def get_receipt(self, image_id: str, receipt_id: int) -> Receipt:
        return self._get(Receipt, keys.image_pk(image_id), keys.receipt_sk(receipt_id))

    def update_receipt(self, receipt: Receipt) -> None:
        self._update(receipt)

    def list_receipts(self, image_id: str | None = None) -> list[Receipt]:
        """All receipts (GSITYPE), or those of one image (main table, children filtered out)."""
        if image_id is None:
            return self._list(Receipt, "GSITYPE", Receipt.ENTITY_TYPE)
        return self._list(Receipt, None, keys.image_pk(image_id), sk_begins_with="RECEIPT#")

    def get_receipt_details(self, image_id: str, receipt_id: int) -> ReceiptDetails:
        """The receipt with its lines, words and labels from one GSI4 query (all pages)."""
        found: dict[str, list[Item]] = {}
        for item in self.table.iter_query("GSI4", keys.receipt_gsi4_pk(image_id, receipt_id)):
            found.setdefault(item["TYPE"], []).append(item)
        receipts = found.get(Receipt.ENTITY_TYPE)
        if not receipts:
            raise EntityNotFoundError(
                f"receipt {receipt_id} of image {image_id} not found (or its write never "
                "completed); write it with write_receipt"
            )
        return ReceiptDetails(
            receipt=Receipt.from_item(receipts[0]),
            lines=[ReceiptLine.from_item(i) for i in found.get(ReceiptLine.ENTITY_TYPE, [])],
            words=[ReceiptWord.from_item(i) for i in found.get(ReceiptWord.ENTITY_TYPE, [])],
            labels=[
                ReceiptWordLabel.from_item(i) for i in found.get(ReceiptWordLabel.ENTITY_TYPE, [])
            ],
        )

    def write_receipt(
        self,
        receipt: Receipt,
        lines: Sequence[ReceiptLine] = (),
        words: Sequence[ReceiptWord] = (),
        labels: Sequence[ReceiptWordLabel] = (),
        *,
        overwrite: bool = False,
    ) -> ProposalResult:
        """Write a whole receipt so that it is never seen half-written.

        SQLite: one transaction. DynamoDB: any old Receipt item is deleted first, children are
        batch-written, stale old children deleted, and the Receipt item is put last as the commit
        marker; if anything fails the new children are deleted again (a failed *overwrite* on
        DynamoDB therefore leaves the receipt absent, never mixed). With ``overwrite=True`` the
        new receipt replaces the old one, except that stored VALID/INVALID labels on words that
        still exist are kept (a new proposal for the same key is skipped and counted) — also
        when a label is validated while the write runs, since proposals onto existing keys are
        written under the protection condition. Leftovers of an interrupted earlier write
        (children without a Receipt item) are removed. Every child carries this write's
        ``write_token``, so a writer that loses a race for the Receipt item removes only the
        children still carrying its own token, never ones the winner wrote.
        """
        self._check_receipt_parts(receipt, lines, words, labels)
        pk = receipt.pk
        token = uuid.uuid4().hex
        with self.table.atomic():
            existing = list(self.table.iter_query(None, pk, sk_begins_with=receipt.sk))
            marker = next((i for i in existing if i["TYPE"] == Receipt.ENTITY_TYPE), None)
            if marker is not None and not overwrite:
                raise EntityAlreadyExistsError(
                    f"{_describe('RECEIPT', pk, receipt.sk)} already exists; pass overwrite=True "
                    "to replace the whole receipt"
                )
            word_ids = {(w.line_id, w.word_id) for w in words}
            kept = {
                i["SK"]
                for i in existing
                if i["TYPE"] == ReceiptWordLabel.ENTITY_TYPE
                and i.get("validation_status") in _PROTECTED
                and (i["line_id"], i["word_id"]) in word_ids
            }
            skipped = [lab for lab in labels if lab.is_proposal and lab.sk in kept]
            proposals = [lab for lab in labels if lab.is_proposal and lab.sk not in kept]
            children = [
                {**e.to_item(), WRITE_TOKEN: token}
                for e in (*lines, *words, *(lab for lab in labels if not lab.is_proposal))
            ]
            proposal_items = [{**lab.to_item(), WRITE_TOKEN: token} for lab in proposals]
            new_sks = {c["SK"] for c in children} | {lab.sk for lab in labels}
            stale = [
                i
                for i in existing
                if i["SK"] not in new_sks and i["SK"] not in kept and i["SK"] != receipt.sk
            ]
            # A stale label on a surviving word may be validated meanwhile: delete it only if not.
            guarded_stale = [
                {"PK": pk, "SK": i["SK"]}
                for i in stale
                if i["TYPE"] == ReceiptWordLabel.ENTITY_TYPE
                and (i["line_id"], i["word_id"]) in word_ids
            ]
            guarded_sks = {k["SK"] for k in guarded_stale}
            plain_stale = [{"PK": pk, "SK": i["SK"]} for i in stale if i["SK"] not in guarded_sks]
            unprotected = NotExistsOrAttributeNotIn("validation_status", _PROTECTED)
            if marker is not None:
                self.table.delete_item(pk, receipt.sk)
            try:
                self.table.batch_write(puts=children)
                if existing:
                    # Labels read above may have been validated since: write under the condition.
                    written = self.table.put_items_conditionally(proposal_items, unprotected)
                    skipped += [p for p, ok in zip(proposals, written, strict=True) if not ok]
                else:
                    self.table.batch_write(puts=proposal_items)
                self.table.batch_write(deletes=plain_stale)
                self.table.delete_items_conditionally(guarded_stale, unprotected)
                self.table.put_item(
                    receipt.to_item(), condition=None if overwrite else MUST_NOT_EXIST
                )
            except BaseException as exc:
                if not self.table.transactional:
                    self._undo_children([*children, *proposal_items], token, exc)
                if isinstance(exc, ConditionFailedError):
                    raise EntityAlreadyExistsError(
                        f"{_describe('RECEIPT', pk, receipt.sk)} was written by someone else "
                        "meanwhile; read it, or retry with overwrite=True"
                    ) from None
                raise
        return ProposalResult(
            written=len(labels) - len(skipped),
            skipped_protected=len(skipped),
            skipped=tuple(skipped),
        )

    def _undo_children(self, children: list[Item], token: str, cause: BaseException) -> None:
        # Only items still carrying this write's token: a concurrent writer may own the others.
        try:
            self.table.delete_items_conditionally(
                [{"PK": c["PK"], "SK": c["SK"]} for c in children],
                AttributeEquals(WRITE_TOKEN, token),
            )
        except Exception as undo_error:
            raise StoreUnavailableError(
                f"write_receipt failed ({cause!r}) and removing its partial items failed too "
                f"({undo_error!r}); the receipt stays absent — rerun write_receipt or "
                "delete_receipt for it"
            ) from cause

    @staticmethod
    def _check_receipt_parts(
        receipt: Receipt,
        lines: Sequence[ReceiptLine],
        words: Sequence[ReceiptWord],
        labels: Sequence[ReceiptWordLabel],
    ) -> None:
        seen: set[str] = set()
        for part in (*lines, *words, *labels):
            if (part.image_id, part.receipt_id) != (receipt.image_id, receipt.receipt_id):
                raise EntityValidationError(
                    f"{type(part).__name__} {part.sk} belongs to image {part.image_id} receipt "
                    f"{part.receipt_id}, not to the receipt being written "
                    f"({receipt.image_id}, {receipt.receipt_id})"
                )
            if part.sk in seen:
                raise EntityValidationError(f"write_receipt got {part.sk} twice; pass each once")
            seen.add(part.sk)
        word_ids = {(w.line_id, w.word_id) for w in words}
        for label in labels:
            if (label.line_id, label.word_id) not in word_ids:
                raise EntityValidationError(
                    f"label {label.sk} names word ({label.line_id}, {label.word_id}), which is "
                    "not among the words written; add the word or drop the label"
                )

    def delete_receipt(self, image_id: str, receipt_id: int) -> None:
        """Delete the receipt and all its lines, words and labels (Receipt item first)."""
        pk, sk = keys.image_pk(image_id), keys.receipt_sk(receipt_id)
        with self.table.atomic():
            items = list(self.table.iter_query(None, pk, sk_begins_with=sk))
            if not items:
                raise EntityNotFoundError(
                    f"cannot delete {_describe('RECEIPT', pk, sk)}: not found"
                )
            self.table.delete_item(pk, sk)
            self.table.batch_write(
                deletes=[{"PK": pk, "SK": i["SK"]} for i in items if i["SK"] != sk]
            )

    # --- ReceiptLine -------------------------------------------------------------------------

    def add_receipt_line(self, line: ReceiptLine, *, overwrite: bool = False) -> None:
        self._add(line, overwrite)

    def add_receipt_lines(self, lines: Sequence[ReceiptLine]) -> None:
        self._add_many(lines)

    def get_receipt_line(self, image_id: str, receipt_id: int, line_id: int) -> ReceiptLine:
        return self._get(ReceiptLine, keys.image_pk(image_id), keys.line_sk(receipt_id, line_id))

    def update_receipt_line(self, line: ReceiptLine) -> None:
        self._update(line)

    def delete_receipt_line(
        self, line: ReceiptLine | str, receipt_id: int | None = None, line_id: int | None = None
    ) -> None:
        if isinstance(line, ReceiptLine):
            image_id, receipt_id, line_id = line.image_id, line.receipt_id, line.line_id
        else:
            image_id = line
        self._delete(ReceiptLine, keys.image_pk(image_id), keys.line_sk(receipt_id, line_id))  # type: ignore[arg-type]

    def list_receipt_lines(self, image_id: str, receipt_id: int) -> list[ReceiptLine]:
        return self._list(
            ReceiptLine,
            "GSI4",
            keys.receipt_gsi4_pk(image_id, receipt_id),
            sk_begins_with=keys.GSI4_LINE_PREFIX,
        )

    # --- ReceiptWord -------------------------------------------------------------------------

    def add_receipt_word(self, word: ReceiptWord, *, overwrite: bool = False) -> None:
        self._add(word, overwrite)

    def add_receipt_words(self, words: Sequence[ReceiptWord]) -> None:
        self._add_many(words)

    def get_receipt_word(
        self, image_id: str, receipt_id: int, line_id: int, word_id: int
    ) -> ReceiptWord:
        return self._get(
            ReceiptWord, keys.image_pk(image_id), keys.word_sk(receipt_id, line_id, word_id)
        )

    def update_receipt_word(self, word: ReceiptWord) -> None:
        self._update(word)

    def delete_receipt_word(
        self,
        word: ReceiptWord | str,
        receipt_id: int | None = None,
        line_id: int | None = None,
        word_id: int | None = None,
    ) -> None:
        if isinstance(word, ReceiptWord):
            image_id, receipt_id, line_id, word_id = (
                word.image_id,
                word.receipt_id,
                word.line_id,
                word.word_id,
            )
        else:
            image_id = word
        self._delete(
            ReceiptWord, keys.image_pk(image_id), keys.word_sk(receipt_id, line_id, word_id)
        )  # type: ignore[arg-type]

    def list_receipt_words(
        self, image_id: str, receipt_id: int, line_id: int | None = None
    ) -> list[ReceiptWord]:
        prefix = (
            keys.GSI4_WORD_PREFIX if line_id is None else f"{keys.GSI4_WORD_PREFIX}{line_id:05d}#"
        )
        return self._list(
            ReceiptWord, "GSI4", keys.receipt_gsi4_pk(image_id, receipt_id), sk_begins_with=prefix
        )

    # --- ReceiptWordLabel --------------------------------------------------------------------

    def add_word_label(self, label: ReceiptWordLabel, *, overwrite: bool = False) -> None:
        """Conditional add. With ``overwrite`` a proposal still cannot replace VALID/INVALID
        (ProtectedLabelError); a human decision (VALID/INVALID) replaces anything."""
        if not overwrite or not label.is_proposal:
            self._add(label, overwrite)
            return
        try:
            self.table.put_item(
                label.to_item(),
                condition=NotExistsOrAttributeNotIn("validation_status", _PROTECTED),
            )
        except ConditionFailedError:
            raise self._protected(label) from None

    def _protected(self, label: ReceiptWordLabel) -> ProtectedLabelError:
        return ProtectedLabelError(
            f"{_describe(label.ENTITY_TYPE, label.pk, label.sk)} was decided by a human "
            f"(VALID/INVALID); the {label.validation_status.value} proposal from "
            f"{label.label_proposed_by!r} cannot replace it — write it with status VALID or "
            "INVALID to change the decision"
        )

    def propose_word_labels(self, labels: Sequence[ReceiptWordLabel]) -> ProposalResult:
        """Write labels in bulk: human decisions as one batch, proposals each under the
        protection condition; proposals onto VALID/INVALID labels are skipped, not failed."""
        human = [lab for lab in labels if not lab.is_proposal]
        proposals = list({(lab.pk, lab.sk): lab for lab in labels if lab.is_proposal}.values())
        self._add_many(human)
        written = self.table.put_items_conditionally(
            [lab.to_item() for lab in proposals],
            NotExistsOrAttributeNotIn("validation_status", _PROTECTED),
        )
        skipped = tuple(lab for lab, ok in zip(proposals, written, strict=True) if not ok)
        return ProposalResult(
            written=len(human) + sum(written), skipped_protected=len(skipped), skipped=skipped
        )

    add_word_labels = propose_word_labels

    def get_word_label(
        self, image_id: str, receipt_id: int, line_id: int, word_id: int, label: str
    ) -> ReceiptWordLabel:
        return self._get(
            ReceiptWordLabel,
            keys.image_pk(image_id),
            keys.label_sk(receipt_id, line_id, word_id, label),
        )

    def update_word_label(self, label: ReceiptWordLabel) -> None:
        """Replace an existing label; a proposal cannot replace a VALID/INVALID one."""
        if not label.is_proposal:
            self._update(label)
            return
        try:
            self.table.put_item(
                label.to_item(), condition=ExistsAndAttributeNotIn("validation_status", _PROTECTED)
            )
        except ConditionFailedError:
            if self.table.get_item(label.pk, label.sk) is None:
                raise EntityNotFoundError(
                    f"cannot update {_describe(label.ENTITY_TYPE, label.pk, label.sk)}: it does "
                    "not exist; add it first"
                ) from None
            raise self._protected(label) from None

    def delete_word_label(
        self,
        label: ReceiptWordLabel | str,
        receipt_id: int | None = None,
        line_id: int | None = None,
        word_id: int | None = None,
        label_name: str | None = None,
    ) -> None:
        if isinstance(label, ReceiptWordLabel):
            pk, sk = label.pk, label.sk
        else:
            pk = keys.image_pk(label)
            sk = keys.label_sk(receipt_id, line_id, word_id, label_name)  # type: ignore[arg-type]
        self._delete(ReceiptWordLabel, pk, sk)

    def list_word_labels(self, image_id: str, receipt_id: int) -> list[ReceiptWordLabel]:
        return self._list(
            ReceiptWordLabel,
            "GSI4",
            keys.receipt_gsi4_pk(image_id, receipt_id),
            sk_begins_with=keys.GSI4_LABEL_PREFIX,
        )

    def list_labels_for_word(
        self, image_id: str, receipt_id: int, line_id: int, word_id: int
    ) -> list[ReceiptWordLabel]:
        return self._list(
            ReceiptWordLabel,
            None,
            keys.image_pk(image_id),
            sk_begins_with=keys.word_sk(receipt_id, line_id, word_id) + "#LABEL#",
        )

    def list_labels_by_status(self, status: ValidationStatus | str) -> list[ReceiptWordLabel]:
        """Every label with this validation status (GSI3), grouped by image/receipt/word."""
        status = ValidationStatus(status)
        return self._list(ReceiptWordLabel, "GSI3", keys.validation_status_pk(status.value))

    def list_labels_by_label(self, label: str) -> list[ReceiptWordLabel]:
        """Every stored label with this name (GSI1), grouped by image/receipt/word."""
        return self._list(ReceiptWordLabel, "GSI1", keys.label_gsi1_pk(label))

    # --- Job ---------------------------------------------------------------------------------

    def add_job(self, job: Job, *, overwrite: bool = False) -> None:
        self._add(job, overwrite)

    def add_jobs(self, jobs: Sequence[Job]) -> None:
        self._add_many(jobs)

    def get_job(self, job_id: str) -> Job:
        return self._get(Job, keys.job_pk(job_id), keys.JOB_SK)

    def get_job_by_name(self, name: str) -> Job:
        """The newest Job with this name (GSI2)."""
        items, _ = self.table.query("GSI2", keys.job_name_pk(name), ascending=False, limit=1)
        if not items:
            raise EntityNotFoundError(f"no Job named {name!r}; check the name or list_jobs()")
        return Job.from_item(items[0])

    def update_job(self, job: Job) -> None:
        self._update(job)

    def delete_job(self, job: Job | str) -> None:
        """Delete the Job and its JobMetric rows."""
        job_id = job.job_id if isinstance(job, Job) else job
        pk = keys.job_pk(job_id)
        with self.table.atomic():
            self._delete(Job, pk, keys.JOB_SK)
            metrics = self.table.iter_query(None, pk, sk_begins_with=keys.metric_prefix())
            self.table.batch_write(deletes=[{"PK": pk, "SK": m["SK"]} for m in metrics])

    def list_jobs(self, status: JobStatus | str | None = None) -> list[Job]:
        """All jobs (GSITYPE), or those with ``status`` oldest first (GSI1)."""
        if status is None:
            return self._list(Job, "GSITYPE", Job.ENTITY_TYPE)
        return self._list(Job, "GSI1", keys.job_status_pk(JobStatus(status).value))

    # --- JobMetric ---------------------------------------------------------------------------

    def add_job_metric(self, metric: JobMetric, *, overwrite: bool = False) -> None:
        self._add(metric, overwrite)

    def add_job_metrics(self, metrics: Sequence[JobMetric]) -> None:
        self._add_many(metrics)

    def get_job_metric(self, job_id: str, metric_name: str, timestamp: str) -> JobMetric:
        from receipt_dynamo.entities._base import check_timestamp

        ts = check_timestamp("JobMetric", "timestamp", timestamp)
        return self._get(JobMetric, keys.job_pk(job_id), keys.metric_sk(metric_name, ts))

    def update_job_metric(self, metric: JobMetric) -> None:
        self._update(metric)

    def delete_job_metric(self, metric: JobMetric) -> None:
        self._delete(JobMetric, metric.pk, metric.sk)

    def list_job_metrics(self, job_id: str, metric_name: str | None = None) -> list[JobMetric]:
        """A job's metrics, by name then time (main table)."""
        return self._list(
            JobMetric, None, keys.job_pk(job_id), sk_begins_with=keys.metric_prefix(metric_name)
        )

    def list_metrics_by_name(self, metric_name: str) -> list[JobMetric]:
        """One metric across all jobs (GSI1), grouped by job then time."""
        return self._list(JobMetric, "GSI1", keys.metric_name_pk(metric_name))

    # --- CoreMLExportJob ---------------------------------------------------------------------

    def add_export_job(self, export: CoreMLExportJob, *, overwrite: bool = False) -> None:
        self._add(export, overwrite)

    def add_export_jobs(self, exports: Sequence[CoreMLExportJob]) -> None:
        self._add_many(exports)

    def get_export_job(self, export_id: str) -> CoreMLExportJob:
        return self._get(CoreMLExportJob, keys.export_pk(export_id), keys.EXPORT_SK)

    def update_export_job(self, export: CoreMLExportJob) -> None:
        self._update(export)

    def delete_export_job(self, export: CoreMLExportJob | str) -> None:
        export_id = export.export_id if isinstance(export, CoreMLExportJob) else export
        self._delete(CoreMLExportJob, keys.export_pk(export_id), keys.EXPORT_SK)

    def list_export_jobs(self) -> list[CoreMLExportJob]:
        return self._list(CoreMLExportJob, "GSITYPE", CoreMLExportJob.ENTITY_TYPE)

    def list_export_jobs_by_status(self, status: ExportStatus | str) -> list[CoreMLExportJob]:
        """Exports with this status, oldest first (GSI2)."""
        return self._list(
            CoreMLExportJob, "GSI2", keys.export_status_pk(ExportStatus(status).value)
        )

    def list_export_jobs_for_job(self, job_id: str) -> list[CoreMLExportJob]:
        """Exports of one training job (by the id or name they were created with), oldest first."""
        return self._list(CoreMLExportJob, "GSI1", keys.export_job_pk(job_id))

    # --- OCRJob ------------------------------------------------------------------------------

    def add_ocr_job(self, job: OCRJob, *, overwrite: bool = False) -> None:
        self._add(job, overwrite)

    def add_ocr_jobs(self, jobs: Sequence[OCRJob]) -> None:
        self._add_many(jobs)

    def get_ocr_job(self, image_id: str, job_id: str) -> OCRJob:
        return self._get(OCRJob, keys.image_pk(image_id), keys.ocr_job_sk(job_id))

    def update_ocr_job(self, job: OCRJob) -> None:
        self._update(job)

    def delete_ocr_job(self, job: OCRJob) -> None:
        self._delete(OCRJob, job.pk, job.sk)

    def list_ocr_jobs(self, image_id: str | None = None) -> list[OCRJob]:
        if image_id is None:
            return self._list(OCRJob, "GSITYPE", OCRJob.ENTITY_TYPE)
        return self._list(OCRJob, None, keys.image_pk(image_id), sk_begins_with="OCR_JOB#")

    def list_ocr_jobs_by_status(self, status: OCRJobStatus | str) -> list[OCRJob]:
        return self._list(OCRJob, "GSI1", keys.ocr_job_status_pk(OCRJobStatus(status).value))

    # --- OCRRoutingDecision ------------------------------------------------------------------

    def add_routing_decision(
        self, decision: OCRRoutingDecision, *, overwrite: bool = False
    ) -> None:
        self._add(decision, overwrite)

    def add_routing_decisions(self, decisions: Sequence[OCRRoutingDecision]) -> None:
        self._add_many(decisions)

    def get_routing_decision(self, image_id: str, job_id: str) -> OCRRoutingDecision:
        return self._get(OCRRoutingDecision, keys.image_pk(image_id), keys.routing_sk(job_id))

    def update_routing_decision(self, decision: OCRRoutingDecision) -> None:
        self._update(decision)

    def delete_routing_decision(self, decision: OCRRoutingDecision) -> None:
        self._delete(OCRRoutingDecision, decision.pk, decision.sk)

    def list_routing_decisions(self, image_id: str | None = None) -> list[OCRRoutingDecision]:
        if image_id is None:
            return self._list(OCRRoutingDecision, "GSITYPE", OCRRoutingDecision.ENTITY_TYPE)
        return self._list(
            OCRRoutingDecision, None, keys.image_pk(image_id), sk_begins_with="ROUTING#"
        )

    def list_routing_decisions_by_status(
        self, status: RoutingStatus | str
    ) -> list[OCRRoutingDecision]:
        return self._list(
            OCRRoutingDecision, "GSI1", keys.routing_status_pk(RoutingStatus(status).value)
        )


def open_store(
    backend: str = "sqlite",
    *,
    path: str | Path | None = None,
    table_name: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    page_size: int | None = None,
    client: Any = None,
) -> ReceiptStore:
    """Open the store on a registered backend.

    sqlite: ``path`` of the database file (required; ``receipt_cloud.settings`` resolves the
    local data directory), ``table_name`` (default ``receipts``).
    dynamodb: ``table_name`` (or ``DYNAMO_TABLE_NAME``), ``region`` (or ``AWS_REGION``),
    ``endpoint_url`` (or ``AWS_ENDPOINT_URL``), or a ready boto3 ``client``.
    ``page_size`` caps each query page (small values exercise pagination in tests).
    """
    options: dict[str, Any] = {}
    if backend == "sqlite":
        if path is None:
            raise StoreUnavailableError(
                "open_store('sqlite') needs path=; use receipt_cloud.settings.resolve_settings()"
                ".open_store() for the local data directory ($RECEIPTS_HOME or ./.receipts)"
            )
        options["path"] = path
        if table_name:
            options["table_name"] = table_name
        if page_size:
            options["page_size"] = page_size
    elif backend == "dynamodb":
        options = {
            "table_name": table_name or os.environ.get("DYNAMO_TABLE_NAME"),
            "region": region,
            "endpoint_url": endpoint_url,
            "page_size": page_size,
            "client": client,
        }
    return ReceiptStore(open_table(backend, **options))
