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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from receipt_cloud.queues import Message
from receipt_cloud.worker import (
    SEED_BATCH_SIZE,
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
from receipt_ocr.model import DEFAULT_CACHE_PATH
from receipt_ocr.model_cache import FixedModel, ModelCache

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OcrWorkerOptions:
    """How the labelling worker is set up."""

    engine: str | None = None
    """OCR engine name (None: Apple Vision on macOS, Tesseract elsewhere)."""
    ocr_language: str | None = None
    """Tesseract's language data joined by ``+`` (None: ``eng+msa``; ``eng`` trades recall
    for speed, docs/ocr.md)."""
    model_dir: str | None = None
    """A bundle, a checkpoint, or a model cache folder (its current bundle) to use instead of
    the active bundle."""
    cache_path: str = DEFAULT_CACHE_PATH
    """Where the model cache keeps downloaded bundles."""
    runtime: str | None = None
    """``onnx-int8``, ``onnx``, ``torch`` or ``coreml``; None: the fastest available."""
    mode: str = "batch"
    """``batch`` (up to ``batch_size`` jobs), ``drain`` (until the queue is empty) or ``serve``
    (until SIGTERM/SIGINT); see ``receipt_cloud.worker.WorkerConfig.mode``."""
    batch_size: int = SEED_BATCH_SIZE
    """Jobs one ``batch`` run handles at most (the seed's 10)."""
    visibility_timeout: float = 120.0
    """Seconds a message stays hidden while a worker holds it (the heartbeat renews it)."""
    max_receives: int = 3
    """Receives before a message goes to the dead-letter queue."""
    wait_seconds: float | None = None
    """Long-poll wait per receive (None: 20 s when serving, else 2 s)."""


def build_services(settings: Any, options: OcrWorkerOptions) -> OcrJobServices:
    """Engine, model source, store and results queue; the model is loaded once here so a
    missing model fails at start, not on the first job."""
    from receipt_layoutlm.bundles.registry import BundleRegistry

    engine = build_engine(options.engine, options.ocr_language)
    if options.model_dir:
        models: Any = FixedModel(options.model_dir, runtime=options.runtime)
    else:
        models = ModelCache(
            BundleRegistry.from_settings(settings), Path(options.cache_path).expanduser(),
            runtime=options.runtime,
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


def run_ocr_worker(settings: Any, options: OcrWorkerOptions) -> WorkerStats:
    """Serve the environment's OCR job queue (see the module docstring)."""
    services = build_services(settings, options)
    wait = options.wait_seconds
    if wait is None:
        wait = 20.0 if options.mode == "serve" else 2.0
    config = WorkerConfig(
        mode=options.mode,
        batch_size=options.batch_size,
        visibility_timeout=options.visibility_timeout,
        max_receives=options.max_receives,
        wait_seconds=wait,
    )
    queue = apply_queue_limits(settings.open_queue("ocr_jobs"), config)
    return run_worker(
        queue, make_handler(services), config, on_exhausted=make_give_up(services)
    )
