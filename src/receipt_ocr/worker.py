"""The labelling worker: the shared queue loop (``receipt_cloud.worker``) over OCR job messages.

``mode`` is the seed's: ``batch`` (the default) labels up to 10 jobs and returns, ``drain`` (the
seed's ``--continuous``) until the queue is empty; ``serve`` (our ``--serve``) polls until
SIGTERM/SIGINT. Jobs that can never succeed are marked FAILED and deleted; any
other failure is retried by the loop and, on the last allowed receive, recorded on the OCRJob as
its failure reason (the loop's ``on_exhausted``) before the queue moves the message to its
dead-letter queue.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from receipt_cloud.queues import Message
from receipt_cloud.worker import (
    GiveUp,
    Handler,
    PermanentError,
    WorkerConfig,
    WorkerStats,
    apply_queue_limits,
    is_transient,
    run_worker,
)
from receipt_ocr.engines import build_engine
from receipt_ocr.job import JobRejected, OcrJobServices, mark_job_failed, process_ocr_job
from receipt_ocr.model_cache import open_models
from receipt_ocr.options import OCR_LOOP, OcrWorkerOptions

if TYPE_CHECKING:
    from receipt_cloud.settings import Settings

logger = logging.getLogger(__name__)


def build_services(settings: Settings, options: OcrWorkerOptions) -> OcrJobServices:
    """Engine, model source, store and results queue; the model is loaded once here so a
    missing model fails at start, not on the first job."""
    engine = build_engine(options.engine, options.ocr_language)
    models = open_models(
        options.model_dir, cache_path=options.cache_path, runtime=options.runtime,
        settings=lambda: settings,
    )
    models.current()
    return OcrJobServices(
        store=settings.open_store(),
        results_queue=settings.open_queue("ocr_results"),
        engine=engine,
        models=models,
        region=settings.region,
        endpoint_url=settings.endpoint_url,
    )


def make_handler(services: OcrJobServices) -> Handler:
    """The loop's handler: one message → one job."""

    def handle(message: Message) -> None:
        try:
            outcome = process_ocr_job(message.body, services)
        except JobRejected as exc:
            raise PermanentError(str(exc)) from exc
        logger.info(
            "OCR job %s: %s, %d words, %d labels proposed (%d kept VALID/INVALID), %s",
            outcome.job_id, outcome.status, outcome.words, outcome.labels_written,
            outcome.labels_kept, {k: round(v, 3) for k, v in outcome.timings.items()},
        )

    return handle


def make_give_up(services: OcrJobServices) -> GiveUp:
    """The loop's ``on_exhausted``: the OCRJob of a message whose last receive failed becomes
    FAILED with the error; the message stays for the dead-letter queue."""

    def give_up(message: Message, exc: Exception) -> None:
        how = "transient" if is_transient(exc) else "unexpected"
        mark_job_failed(
            services, message.body,
            f"gave up after {message.receive_count} attempts ({how} error): {exc}",
        )

    return give_up


def run_ocr_worker(
    settings: Settings,
    worker: WorkerConfig | None = None,
    options: OcrWorkerOptions | None = None,
    *,
    stop: threading.Event | None = None,
) -> WorkerStats:
    """Serve the environment's OCR job queue (see the module docstring); ``worker`` defaults to
    :data:`OCR_LOOP`. The same recipe as ``run_export_worker``: the queue applies its redrive,
    the loop gives up through the worker's ``on_exhausted``."""
    worker = worker or OCR_LOOP
    services = build_services(settings, options or OcrWorkerOptions())
    queue = apply_queue_limits(settings.open_queue("ocr_jobs"), worker)
    return run_worker(
        queue, make_handler(services), worker, stop=stop, on_exhausted=make_give_up(services)
    )
