"""Make a queue's own dead-letter redrive match the worker's ``max_receives``."""

from __future__ import annotations

from receipt_cloud.queues import Queue
from receipt_cloud.worker._config import WorkerConfig


def apply_queue_limits(queue: Queue, config: WorkerConfig) -> Queue:
    """The queue to work on, with dead-lettering after ``config.max_receives`` receives: each
    queue applies its own redrive (``Queue.apply_redrive``: a local queue sets it in its file,
    an SQS queue's belongs to infra and is only checked). ``max_receives=None`` leaves the
    queue as it is."""
    if config.max_receives is None:
        return queue
    return queue.apply_redrive(config.max_receives, visibility_timeout=config.visibility_timeout)
