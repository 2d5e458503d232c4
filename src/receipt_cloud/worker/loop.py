"""``run_worker``: receive, heartbeat, handle, then delete, release or dead-letter each message."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from receipt_cloud.errors import ReceiptCloudError, StaleReceiptHandleError
from receipt_cloud.queues import Message, Queue
from receipt_cloud.queues._base import MAX_VISIBILITY_TIMEOUT
from receipt_cloud.worker._config import WorkerConfig
from receipt_cloud.worker._retry import retrying
from receipt_cloud.worker.errors import DeferMessage, PermanentError, WorkerStopped, is_transient
from receipt_cloud.worker.heartbeat import Heartbeat
from receipt_cloud.worker.signals import StopState, stop_on_signals

logger = logging.getLogger("receipt_cloud.worker")

# Deleting or releasing is quick and bounded: a few tries, then the visibility timeout decides.
_SETTLE_RETRY = WorkerConfig(retry_attempts=3, retry_initial_delay=0.5, retry_max_delay=5.0)

Handler = Callable[[Message], None]
"""Handles one message; returns normally on success (the loop deletes the message)."""

GiveUp = Callable[[Message, Exception], None]
"""Records that the loop gives up on a message (its last allowed receive failed): marks its job
failed with a reason built from the error. Returning leaves the message to the queue's redrive
(the dead-letter queue); raising ``PermanentError`` says the failure is recorded for good, so
the message is deleted."""


@dataclass
class WorkerStats:
    """What one ``run_worker`` call did."""

    received: int = 0
    """Messages received (a redelivery counts again)."""
    succeeded: int = 0
    """Handled without error, then deleted."""
    failed: int = 0
    """Handler raised ``PermanentError`` (it recorded the failure), then deleted."""
    released: int = 0
    """Transient or unexpected failure, or a stop mid-message: made visible again."""
    dead_lettered: int = 0
    """Moved to the dead-letter queue by the loop (received more than ``max_receives`` times)."""
    stale: int = 0
    """Deletes or releases refused because the message was received again elsewhere."""
    receive_errors: int = 0
    """Failed receives (queue outage) that were waited out."""
    stopped_by: str | None = None
    """The signal that stopped the loop, if one did."""
    elapsed_seconds: float = 0.0
    """Wall time of the loop."""

    def to_dict(self) -> dict[str, Any]:
        """Plain values, e.g. for a JSON log line."""
        return asdict(self)


def run_worker(
    queue: Queue,
    handle: Handler,
    config: WorkerConfig | None = None,
    *,
    stop: threading.Event | None = None,
    on_exhausted: GiveUp | None = None,
) -> WorkerStats:
    """Serve ``queue`` with ``handle`` until ``config.mode`` says to return (see the package doc).

    ``stop`` ends the loop after the current message when set (from another thread, a test);
    SIGTERM/SIGINT set it too while the loop runs in the main thread. Returns normally after a
    signal, so a worker process exits 0. ``on_exhausted`` is called when ``handle`` fails (after
    its transient retries) on a message's last allowed receive (``config.max_receives``).
    """
    config = config or WorkerConfig()
    stop = stop or threading.Event()
    stats = WorkerStats()
    started = time.monotonic()
    # A signal while no message is in flight raises WorkerStopped here: nothing to release.
    with (
        stop_on_signals(stop, config.stop_mode, install=config.handle_signals) as state,
        contextlib.suppress(WorkerStopped),
    ):
        _serve(queue, handle, config, stop, state, stats, on_exhausted)
    stats.stopped_by = state.signal_name
    stats.elapsed_seconds = round(time.monotonic() - started, 3)
    logger.info("worker on %s done: %s", queue.url, stats.to_dict())
    return stats


def _serve(
    queue: Queue,
    handle: Handler,
    config: WorkerConfig,
    stop: threading.Event,
    state: StopState,
    stats: WorkerStats,
    on_exhausted: GiveUp | None,
) -> None:
    idle_since = time.monotonic()
    while not stop.is_set():
        wait = config.wait_seconds
        if config.mode == "serve" and config.idle_exit is not None:
            idle_for = time.monotonic() - idle_since
            if idle_for >= config.idle_exit:
                logger.info("no message for %.0f s: idle exit", idle_for)
                return
            wait = min(wait, config.idle_exit - idle_for)
        messages = _receive(queue, config, stop, state, stats, wait)
        if not messages:
            if config.mode != "serve" and not stop.is_set():
                return
            continue
        stats.received += 1
        process_message(
            queue, messages[0], handle, config, stop, state, stats, on_exhausted=on_exhausted
        )
        idle_since = time.monotonic()
        batch_done = config.mode == "batch" and stats.received >= config.batch_size
        if config.mode == "once" or batch_done:
            return


def _receive(
    queue: Queue,
    config: WorkerConfig,
    stop: threading.Event,
    state: StopState,
    stats: WorkerStats,
    wait: float,
) -> list[Message]:
    """One receive; queue outages are retried (forever in ``serve`` mode) with backoff."""

    def attempt() -> list[Message]:
        state.phase = "receiving"
        try:
            return queue.receive(
                max_messages=1, wait_seconds=wait, visibility_timeout=config.visibility_timeout
            )
        except Exception:
            stats.receive_errors += 1
            raise
        finally:
            state.phase = "idle"

    policy = retrying(
        config, stop, f"receive from {queue.url}", forever=config.mode == "serve"
    )
    try:
        return policy(attempt)
    except Exception:
        if stop.is_set():
            return []
        raise


def _dead_letter(queue: Queue, message: Message, config: WorkerConfig, stats: WorkerStats) -> bool:
    """Move an over-received message to the DLQ; False when the queue has none."""
    dlq = queue.dead_letter_queue()
    if dlq is None:
        return False
    dlq.send(message.body)
    _settle(queue, message, "delete", stats)
    stats.dead_lettered += 1
    logger.error(
        "message %s: received %d times (max %d): moved to dead-letter queue %s",
        message.message_id,
        message.receive_count,
        config.max_receives,
        dlq.url,
    )
    return True


def process_message(
    queue: Queue,
    message: Message,
    handle: Handler,
    config: WorkerConfig,
    stop: threading.Event,
    state: StopState,
    stats: WorkerStats,
    *,
    on_exhausted: GiveUp | None = None,
) -> None:
    """Handle one received message under a heartbeat, then settle it (delete or release)."""
    if (
        config.max_receives is not None
        and message.receive_count > config.max_receives
        and _dead_letter(queue, message, config, stats)
    ):
        return
    started = time.monotonic()
    outcome = "released"
    delay = config.release_delay
    with Heartbeat(
        queue,
        message,
        visibility_timeout=config.visibility_timeout,
        interval=config.heartbeat_seconds,
    ):
        try:
            state.phase = "handling"
            retrying(config, stop, f"message {message.message_id}")(handle, message)
            outcome = "succeeded"
        except WorkerStopped:
            # A signal after the handler returned does not undo its success.
            outcome = "succeeded" if outcome == "succeeded" else "stopped"
        except DeferMessage as exc:
            delay = min(exc.seconds, MAX_VISIBILITY_TIMEOUT)
            logger.info("message %s: deferred: %s", message.message_id, exc)
        except PermanentError as exc:
            outcome = "failed"
            logger.error("message %s: failed permanently: %s", message.message_id, exc)
        except Exception as exc:
            kind = "transient" if is_transient(exc) else "unexpected"
            logger.error(
                "message %s (receive %d): %s failure, released for redelivery: %s",
                message.message_id,
                message.receive_count,
                kind,
                exc,
                # The packages' own errors explain themselves in one line (a poison message
                # left for the dead-letter queue); a traceback is for what nobody foresaw.
                exc_info=kind == "unexpected" and not isinstance(exc, ReceiptCloudError),
            )
            if on_exhausted is not None and _is_last_receive(message, config):
                outcome = _give_up(on_exhausted, message, exc)
        finally:
            state.phase = "idle"
    seconds = time.monotonic() - started
    if outcome in ("succeeded", "failed"):
        _settle(queue, message, "delete", stats)
        stats.succeeded += outcome == "succeeded"
        stats.failed += outcome == "failed"
    else:
        delay = 0.0 if outcome == "stopped" else delay
        _settle(queue, message, "release", stats, delay=delay)
        stats.released += 1
    logger.info(
        "message %s (receive %d): %s in %.2f s",
        message.message_id,
        message.receive_count,
        outcome,
        seconds,
    )


def _is_last_receive(message: Message, config: WorkerConfig) -> bool:
    return config.max_receives is not None and message.receive_count >= config.max_receives


def _give_up(on_exhausted: GiveUp, message: Message, exc: Exception) -> str:
    """Let the worker record the failure of a message it will not see again; the outcome:
    ``failed`` (recorded for good: delete it), ``stopped`` or ``released`` (to the queue's
    redrive, also when recording failed: the dead-letter queue keeps the message)."""
    try:
        on_exhausted(message, exc)
    except PermanentError as recorded:
        logger.error("message %s: gave up: %s", message.message_id, recorded)
        return "failed"
    except WorkerStopped:
        return "stopped"
    except Exception as failure:
        logger.error(
            "message %s: recording that the worker gave up on it failed (%s); it stays for "
            "the dead-letter queue",
            message.message_id,
            failure,
        )
    return "released"


def _settle(
    queue: Queue, message: Message, action: str, stats: WorkerStats, *, delay: float = 0.0
) -> None:
    """Delete or release ``message``; transient queue errors are retried, a stale handle is
    counted (another receive owns the message; the handler's idempotency covers it)."""
    policy = retrying(_SETTLE_RETRY, threading.Event(), f"{action} of message {message.message_id}")
    try:
        if action == "delete":
            policy(queue.delete, message)
        else:
            policy(queue.change_visibility, message, delay)
    except StaleReceiptHandleError:
        stats.stale += 1
        logger.warning(
            "message %s: %s refused, its handle is stale (received again elsewhere)",
            message.message_id,
            action,
        )
    except Exception as exc:
        # The message reappears after its visibility timeout; handlers are idempotent.
        logger.error(
            "message %s: %s failed (%s); it will be redelivered", message.message_id, action, exc
        )
