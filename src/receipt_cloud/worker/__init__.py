"""A generic, torch-free queue worker loop shared by the export worker and the OCR worker.

    from receipt_cloud.worker import PermanentError, WorkerConfig, run_worker

    def handle(message: Message) -> None:
        job = parse(message.body)          # bad input: record the failure, raise PermanentError
        do_the_work(job)                   # network blip: raise TransientError (or let botocore's
                                           # connection/5xx/throttling errors propagate)

    def give_up(message: Message, error: Exception) -> None:
        mark_failed(message.body, f"gave up after {message.receive_count} receives: {error}")

    stats = run_worker(queue, handle, WorkerConfig(mode="serve"), on_exhausted=give_up)

Per message the loop:

* receives it with ``visibility_timeout`` and keeps it hidden with a heartbeat thread that
  renews the visibility every ``heartbeat_interval`` seconds while ``handle`` runs;
* ``handle`` returns → deletes the message;
* ``handle`` raises ``PermanentError`` → the handler has recorded the failure (a FAILED job with
  its reason) → deletes the message, so a bad request is not retried;
* a transient error (``TransientError``, connection/timeout errors, a locked SQLite file,
  botocore connection failures, HTTP 5xx/429 and throttling codes — also when it is the cause of
  another exception) → retries ``handle`` with exponential backoff and jitter (tenacity), up to
  ``retry_attempts``; then releases the message (visible again after ``release_delay``);
* ``DeferMessage(seconds, reason)`` → released, visible again after ``seconds`` (no retry now);
* the last allowed receive (``max_receives``) fails, transiently or not → ``on_exhausted``
  (when given to ``run_worker``) records the failure on the worker's job, then the message is
  released for the queue's redrive, or deleted when the hook raises ``PermanentError`` (the
  failure is recorded for good). One hook, so every worker gives up the same way;
* any other exception → logged with its traceback, message released: after ``max_receives``
  receives the queue's redrive (SQS ``maxReceiveCount``; the local queue's own ``<name>-dlq``,
  set by ``apply_queue_limits``) moves it to the dead-letter queue. A message received more
  often than ``max_receives`` (a queue whose redrive allows more) is moved there by the loop.

Modes: ``once`` handles at most one message; ``batch`` up to ``batch_size`` (10) messages, fewer
when a receive comes back empty; ``drain`` handles messages until a receive comes back empty;
``serve`` runs until stopped or ``idle_exit`` seconds pass without a message, and survives queue
outages (transient receive errors) with capped backoff. The CLIs map the seed's words onto them:
no flag = ``batch`` (``receipt-ocr``) or ``once`` (``export-worker``), ``--continuous`` =
``drain``, ``--serve`` = ``serve``.

Stopping: SIGTERM/SIGINT (main thread only) or setting the ``stop`` event. With
``stop_mode="release"`` (default) a signal interrupts the handler with ``WorkerStopped`` (a
``BaseException``; a handler may catch it to undo its claim, then re-raise) and the message is
made visible again at once; ``finish`` lets the current message finish (a second signal
releases it). Either way ``run_worker`` returns its ``WorkerStats`` normally (exit code 0).

``Heartbeat`` (the visibility renewals) is a ``Periodic``: a daemon thread calling a function
every N seconds while a block runs, which a handler may reuse for its own lease (the export worker
keeps its record's ``updated_at`` fresh with one).

Handlers must be idempotent: delivery is at least once (a killed worker's message reappears after
its visibility timeout, and a lost heartbeat can let a second worker take a message).
"""

from __future__ import annotations

from receipt_cloud.worker._config import SEED_BATCH_SIZE, WORKER_MODES, WorkerConfig, WorkerMode
from receipt_cloud.worker.errors import (
    DeferMessage,
    PermanentError,
    TransientError,
    WorkerStopped,
    is_transient,
)
from receipt_cloud.worker.heartbeat import Heartbeat, Periodic
from receipt_cloud.worker.limits import apply_queue_limits
from receipt_cloud.worker.loop import GiveUp, Handler, WorkerStats, run_worker

__all__ = [
    "SEED_BATCH_SIZE",
    "WORKER_MODES",
    "DeferMessage",
    "GiveUp",
    "Handler",
    "Heartbeat",
    "Periodic",
    "PermanentError",
    "TransientError",
    "WorkerConfig",
    "WorkerMode",
    "WorkerStats",
    "WorkerStopped",
    "apply_queue_limits",
    "is_transient",
    "run_worker",
]
