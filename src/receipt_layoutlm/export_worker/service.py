"""``run_export_worker``: the export worker over an environment's queues, store and buckets."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from receipt_cloud.worker import WorkerConfig, WorkerStats, apply_queue_limits, run_worker
from receipt_layoutlm.export_worker._config import ExportWorkerOptions
from receipt_layoutlm.export_worker.handler import ExportMessageHandler
from receipt_layoutlm.export_worker.workspace import sweep

if TYPE_CHECKING:
    from receipt_cloud.settings import Settings

REQUIRED_SETTINGS = (
    "table_name",
    "coreml_export_job_queue_url",
    "coreml_export_results_queue_url",
    "runs_uri",
    "bundles_uri",
)
"""``Settings`` fields the export worker cannot start without."""


def run_export_worker(
    settings: Settings,
    worker: WorkerConfig | None = None,
    options: ExportWorkerOptions | None = None,
    *,
    stop: threading.Event | None = None,
) -> WorkerStats:
    """Serve ``settings``' export job queue until ``worker.mode`` says to return.

    The local job queue is set to dead-letter after ``worker.max_receives`` receives (an SQS
    queue's redrive policy is infra's). Results go to the export results queue and are applied
    to the store here as well.
    """
    worker = worker or WorkerConfig()
    # Every value a message's export needs, named at start (env aws leaves unset ones empty):
    # checkpoints come from the runs store, bundles (and the active pointer) go to the bundles one.
    settings.require(*REQUIRED_SETTINGS)
    sweep()  # scratch folders of killed workers on this machine
    store = settings.open_store()
    jobs = apply_queue_limits(settings.open_queue("coreml_export_jobs"), worker)
    handler = ExportMessageHandler(
        settings=settings,
        store=store,
        results_queue=settings.open_queue("coreml_export_results"),
        options=options or ExportWorkerOptions(),
        worker=worker,
    )
    return run_worker(jobs, handler, worker, stop=stop, on_exhausted=handler.on_exhausted)
