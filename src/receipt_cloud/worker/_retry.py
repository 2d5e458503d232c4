"""tenacity policies shared by the loop: handler retries and queue-outage backoff."""

from __future__ import annotations

import logging
import threading

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_when_event_set,
    wait_exponential_jitter,
)

from receipt_cloud.worker._config import WorkerConfig
from receipt_cloud.worker.errors import is_transient

logger = logging.getLogger("receipt_cloud.worker")


def _log_retry(what: str):
    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        logger.warning(
            "%s failed transiently (attempt %d: %s); retrying in %.1f s",
            what,
            state.attempt_number,
            exc,
            delay,
        )

    return before_sleep


def retrying(
    config: WorkerConfig, stop: threading.Event, what: str, *, forever: bool = False
) -> Retrying:
    """Retry transient failures with exponential backoff and jitter; give up when ``stop`` is
    set, after ``config.retry_attempts`` attempts, or (``forever``) only when stopped.

    Backoff sleeps wait on ``stop`` so a shutdown never waits out a delay. The last error is
    re-raised when retries end.
    """
    stop_rule = stop_when_event_set(stop)
    if not forever:
        stop_rule = stop_rule | stop_after_attempt(config.retry_attempts)
    return Retrying(
        retry=retry_if_exception(is_transient),
        stop=stop_rule,
        wait=wait_exponential_jitter(
            multiplier=config.retry_initial_delay,
            max=config.retry_max_delay,
            jitter=config.retry_initial_delay,
        ),
        sleep=stop.wait,
        before_sleep=_log_retry(what),
        reraise=True,
    )
