"""Make a queue's own dead-letter redrive match the worker's ``max_receives``."""

from __future__ import annotations

import logging

from receipt_cloud.queues import LocalQueue, Queue
from receipt_cloud.worker._config import WorkerConfig

logger = logging.getLogger("receipt_cloud.worker")


def apply_queue_limits(queue: Queue, config: WorkerConfig) -> Queue:
    """The queue to work on, with dead-lettering after ``config.max_receives`` receives.

    A local queue is reconfigured (its settings live in its file, shared by every process);
    an SQS queue's redrive policy belongs to infra, so it is only checked: a queue without a
    dead-letter queue is logged, and the loop's own backstop cannot move anything either.
    """
    if isinstance(queue, LocalQueue):
        if config.max_receives is None:
            return queue
        return LocalQueue(
            queue.path,
            queue.name,
            max_receives=config.max_receives,
            visibility_timeout=config.visibility_timeout,
        )
    if config.max_receives is not None and queue.dead_letter_queue() is None:
        logger.warning(
            "queue %s has no dead-letter queue (redrive policy); poison messages will be "
            "received again and again — give it one (infra does)",
            queue.url,
        )
    return queue
