"""One OCR job, as the worker runs it for each ``{"image_id", "job_id"}`` message.

Order of effects (each step is idempotent, so a redelivered message redoes the job safely):

1. the OCRJob → RUNNING (a COMPLETED job is acknowledged without work; a FAILED one is tried
   again, since it may have failed for a reason that has passed);
2. download the image (bucket/key from the OCRJob), read it (``images.load_image``);
3. OCR, encode, model (``labelling.label_image``);
4. Receipt, ReceiptLine, ReceiptWord and PENDING ReceiptWordLabel records in one
   ``write_receipt(overwrite=True)``: a rerun replaces its own rows instead of adding more, and
   the store keeps VALID/INVALID labels (proposals onto them are skipped and counted);
5. the results JSON (``ocr_results/<image_id>/<job_id>.json``) and the annotated PNG
   (``receipts/<image_id>/<job_id>.png``) next to the image;
6. the OCRRoutingDecision (COMPLETED);
7. the results message ``{"image_id", "job_id", "s3_key", "s3_bucket", "receipt_count"}``;
8. the OCRJob → COMPLETED.

A crash between 7 and 8 sends the results message again on redelivery (at least once; consumers
key on ``job_id``). Input that can never succeed (no such job, missing or unreadable image)
marks the OCRJob FAILED with the reason and raises :class:`JobRejected`; anything else (store or
bucket unavailable) propagates for the worker loop to retry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from receipt_cloud.errors import ObjectNotFoundError
from receipt_cloud.ocr_submit import open_location
from receipt_dynamo import (
    EntityNotFoundError,
    OCRJob,
    OCRJobStatus,
    OCRRoutingDecision,
    ReceiptWordLabel,
    RoutingStatus,
    utc_now,
)
from receipt_dynamo.names import shown
from receipt_layoutlm.records import records_from_document, store_key
from receipt_ocr.annotate import annotated_png
from receipt_ocr.engines import OcrEngine
from receipt_ocr.errors import ImageInputError, ReceiptOcrError
from receipt_ocr.images import load_image
from receipt_ocr.labelling import LabelledImage, label_image
from receipt_ocr.results import results_dict

if TYPE_CHECKING:
    from receipt_cloud.objects import ObjectStore
    from receipt_cloud.queues import Queue
    from receipt_dynamo import ReceiptStore
    from receipt_ocr.model import LoadedModel
    from receipt_ocr.model_cache import FixedModel, ModelCache

logger = logging.getLogger(__name__)

RESULTS_PREFIX = "ocr_results"
ANNOTATED_PREFIX = "receipts"


class JobRejected(ReceiptOcrError):
    """The job can never succeed (bad message, unknown job, unreadable image); it was marked
    FAILED where it exists. The worker deletes the message instead of retrying it."""


@dataclass
class OcrJobServices:
    """What processing a job needs; built once per worker process."""

    store: ReceiptStore
    """The record store."""
    results_queue: Queue
    """Queue the results messages go to."""
    engine: OcrEngine
    """The OCR engine."""
    models: ModelCache | FixedModel
    """``ModelCache`` or ``FixedModel``: ``current()`` gives the model for the next job."""
    region: str | None = None
    """AWS region for the image buckets."""
    endpoint_url: str | None = None
    """AWS endpoint override for the image buckets."""
    max_pixels: int | None = None
    """Pixel limit of input images (None: ``images.DEFAULT_MAX_PIXELS``)."""


@dataclass
class JobOutcome:
    """What one job did."""

    image_id: str
    job_id: str
    status: str
    """COMPLETED, or SKIPPED (already completed by an earlier delivery)."""
    receipt_count: int = 0
    words: int = 0
    labels_written: int = 0
    labels_kept: int = 0
    """Proposals not written because a VALID/INVALID label holds that word's label."""
    results_key: str | None = None
    reason: str | None = None
    timings: dict[str, float] = field(default_factory=dict)


def parse_job_message(body: Any) -> tuple[str, str]:
    """``(image_id, job_id)`` of an OCR job message; :class:`JobRejected` when malformed (ids
    are the UUIDs ``submit`` and the upload Lambda make; a bad value is repeated capped)."""
    if isinstance(body, str | bytes):
        try:
            body = json.loads(body)
        except json.JSONDecodeError as exc:
            raise JobRejected(f"OCR job message is not JSON ({exc}): {shown(str(body))}") from None
        except RecursionError:
            raise JobRejected("OCR job message is nested too deeply to be a JSON object") from None
    if not isinstance(body, dict):
        raise JobRejected(f"OCR job message must be a JSON object, got {type(body).__name__}")
    ids = [body.get("image_id"), body.get("job_id")]
    if not all(isinstance(v, str) and v for v in ids):
        raise JobRejected(
            f'OCR job message needs string "image_id" and "job_id", got {shown(sorted(body))}'
        )
    for name, value in zip(("image_id", "job_id"), ids, strict=True):
        try:
            uuid.UUID(value)
        except ValueError:
            raise JobRejected(f"OCR job message: {name} {shown(value)} is not a UUID") from None
    return ids[0], ids[1]


def process_ocr_job(body: Any, services: OcrJobServices) -> JobOutcome:
    """Run one job end to end (see the module docstring)."""
    image_id, job_id = parse_job_message(body)
    store = services.store
    try:
        ocr_job = store.get_ocr_job(image_id, job_id)
    except (EntityNotFoundError, ValueError) as exc:
        raise JobRejected(f"no OCRJob {job_id} for image {image_id}: {exc}") from None
    if ocr_job.status == OCRJobStatus.COMPLETED:
        logger.info("OCR job %s is already %s; acknowledging", job_id, ocr_job.status.value)
        return JobOutcome(image_id, job_id, "SKIPPED", reason=f"already {ocr_job.status.value}")
    store.update_ocr_job(ocr_job.with_changes(status=OCRJobStatus.RUNNING, updated_at=utc_now()))
    timings: dict[str, float] = {}
    try:
        started = time.perf_counter()
        objects = open_location(
            ocr_job.s3_bucket, region=services.region, endpoint_url=services.endpoint_url
        )
        data = objects.get_bytes(ocr_job.s3_key)
        check_unchanged(ocr_job, data)
        timings["download_s"] = time.perf_counter() - started
        options = {"max_pixels": services.max_pixels} if services.max_pixels else {}
        image = load_image(data, name=f"image {ocr_job.s3_key}", **options)
        timings["decode_s"] = time.perf_counter() - started - timings["download_s"]
    except (ObjectNotFoundError, ImageInputError) as exc:
        _fail(services, ocr_job, str(exc))
        raise JobRejected(str(exc)) from None
    model = services.models.current()
    receipt_id = ocr_job.receipt_id or 1
    labelled = label_image(image, services.engine, model, key=store_key(image_id, receipt_id))
    timings.update(labelled.timings)
    started = time.perf_counter()
    outcome = _write(services, ocr_job, labelled, receipt_id, objects, model)
    timings["write_s"] = time.perf_counter() - started
    outcome.timings = timings
    return outcome


def check_unchanged(ocr_job: OCRJob, data: bytes) -> None:
    """:class:`ImageInputError` when the object's bytes are not the ones submitted (the OCRJob
    records their sha256 since submit did; older jobs record none and are not checked)."""
    if ocr_job.sha256 is None:
        return
    actual = hashlib.sha256(data).hexdigest()
    if actual != ocr_job.sha256:
        raise ImageInputError(
            f"image {ocr_job.s3_key} changed after it was submitted (sha256 {actual[:12]}…, "
            f"submitted {ocr_job.sha256[:12]}…); submit the photo again"
        )


def _original_filename(store: ReceiptStore, image_id: str) -> str | None:
    try:
        return store.get_image(image_id).original_filename
    except (EntityNotFoundError, ValueError):
        return None


def _write(
    services: OcrJobServices, ocr_job: OCRJob, labelled: LabelledImage, receipt_id: int,
    objects: ObjectStore, model: LoadedModel,
) -> JobOutcome:
    store = services.store
    image_id, job_id = ocr_job.image_id, ocr_job.job_id
    receipt_count, written, kept = 0, 0, 0
    if labelled.prediction.words:
        records = records_from_document(
            labelled.document, image_id=image_id, receipt_id=receipt_id, source="ocr",
            label_proposed_by=model.version, raw_s3_bucket=ocr_job.s3_bucket,
            raw_s3_key=ocr_job.s3_key, pixel_size=labelled.image.size,
        )
        labels = proposals(labelled, image_id, receipt_id, model.version, model.runtime_name)
        result = store.write_receipt(
            records.receipt, records.lines, records.words, labels, overwrite=True
        )
        receipt_count, written, kept = 1, result.written, result.skipped_protected
    results_key = f"{RESULTS_PREFIX}/{image_id}/{job_id}.json"
    results = results_dict(
        labelled, engine=services.engine.describe(), runtime=model.runtime_name,
        image_id=image_id, job_id=job_id, receipt_id=receipt_id if receipt_count else None,
        source={"s3_bucket": ocr_job.s3_bucket, "s3_key": ocr_job.s3_key,
                "original_filename": _original_filename(store, image_id)},
    )
    objects.put_bytes(results_key, json.dumps(results, indent=1).encode(),
                      content_type="application/json")
    objects.put_bytes(f"{ANNOTATED_PREFIX}/{image_id}/{job_id}.png",
                      annotated_png(labelled, model.entity_labels), content_type="image/png")
    store.add_routing_decision(
        OCRRoutingDecision(image_id=image_id, job_id=job_id, s3_bucket=ocr_job.s3_bucket,
                           s3_key=results_key, receipt_count=receipt_count,
                           status=RoutingStatus.COMPLETED),
        overwrite=True,
    )
    services.results_queue.send({"image_id": image_id, "job_id": job_id, "s3_key": results_key,
                                 "s3_bucket": ocr_job.s3_bucket, "receipt_count": receipt_count})
    store.update_ocr_job(ocr_job.with_changes(status=OCRJobStatus.COMPLETED, updated_at=utc_now(),
                                          failure_reason=None))
    return JobOutcome(image_id, job_id, "COMPLETED", receipt_count=receipt_count,
                      words=len(labelled.prediction.words), labels_written=written,
                      labels_kept=kept, results_key=results_key)


def proposals(
    labelled: LabelledImage, image_id: str, receipt_id: int, version: str, runtime: str
) -> list[ReceiptWordLabel]:
    """PENDING labels for the words the model gave an entity label, with its confidence."""
    now = utc_now()
    return [
        ReceiptWordLabel(
            image_id=image_id, receipt_id=receipt_id, line_id=int(word.line_id),
            word_id=int(word.word_id), label=p.label, label_proposed_by=version,
            validation_status="PENDING", confidence=max(float(p.confidence), 1e-6),
            reasoning=f"{p.tag} predicted by {version} ({runtime})", timestamp_added=now,
        )
        for word, p in zip(labelled.prediction.words, labelled.prediction.predictions,
                           strict=True)
        if p.label
    ]


def _fail(services: OcrJobServices, ocr_job: OCRJob, reason: str) -> None:
    logger.warning("OCR job %s FAILED: %s", ocr_job.job_id, reason)
    services.store.add_routing_decision(
        OCRRoutingDecision(image_id=ocr_job.image_id, job_id=ocr_job.job_id,
                           s3_bucket=ocr_job.s3_bucket, s3_key=ocr_job.s3_key,
                           status=RoutingStatus.FAILED),
        overwrite=True,
    )
    services.store.update_ocr_job(ocr_job.with_changes(
        status=OCRJobStatus.FAILED, failure_reason=reason[:1000], updated_at=utc_now()))


def mark_job_failed(services: OcrJobServices, body: Any, reason: str) -> None:
    """Mark the message's OCRJob FAILED (e.g. when the loop gives up on it); no-op when the
    message or the job cannot be found."""
    try:
        image_id, job_id = parse_job_message(body)
        ocr_job = services.store.get_ocr_job(image_id, job_id)
    except (JobRejected, EntityNotFoundError, ValueError):
        return
    if ocr_job.status != OCRJobStatus.COMPLETED:
        _fail(services, ocr_job, reason)
