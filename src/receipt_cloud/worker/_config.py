"""``WorkerConfig``: how a queue worker receives, keeps, retries and releases its messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from receipt_cloud.queues._base import MAX_VISIBILITY_TIMEOUT

WorkerMode = Literal["once", "batch", "drain", "serve"]
WORKER_MODES: tuple[str, ...] = ("once", "batch", "drain", "serve")
SEED_BATCH_SIZE = 10
"""Messages in one batch: the seed's ``receipt-ocr`` (no flag) processes up to 10 images."""
StopMode = Literal["release", "finish"]
STOP_MODES: tuple[str, ...] = ("release", "finish")


@dataclass(frozen=True)
class WorkerConfig:
    """Settings of one ``run_worker`` loop; every field has a safe default."""

    mode: WorkerMode = "once"
    """``once``: handle at most one message, then return. ``batch``: up to ``batch_size``
    messages, returning early when a receive comes back empty (the seed's ``receipt-ocr``
    without flags). ``drain``: handle messages until a receive comes back empty (the seed's
    ``--continuous``). ``serve``: keep receiving until stopped (signal, ``stop`` event or
    ``idle_exit``; our ``--serve``)."""
    batch_size: int = SEED_BATCH_SIZE
    """``batch`` only: the most messages handled before returning."""
    visibility_timeout: float = 300.0
    """Seconds a received message stays hidden from other workers; the heartbeat renews it."""
    heartbeat_interval: float | None = None
    """Seconds between visibility renewals while a message is handled; None: a third of
    ``visibility_timeout`` (so two renewals may fail before the message reappears)."""
    max_receives: int | None = 3
    """Receives after which a message belongs in the dead-letter queue. The queue's own redrive
    (SQS ``maxReceiveCount``, the local queue's ``max_receives``) moves it; the loop also moves a
    message received more often than this (a queue whose redrive allows more) itself. None: the
    loop never dead-letters on its own."""
    wait_seconds: float = 20.0
    """Long-poll wait of one receive (SQS caps one poll at 20 s; longer waits poll again)."""
    idle_exit: float | None = None
    """``serve`` only: return after this many seconds without a message; None: never."""
    retry_attempts: int = 3
    """Attempts of the handler for one receive when it fails transiently (1: no retry); after
    the last one the message is released for a later redelivery."""
    retry_initial_delay: float = 1.0
    """First backoff delay (seconds) between transient retries; doubles each time, with jitter."""
    retry_max_delay: float = 30.0
    """Cap of one backoff delay (seconds), for handler retries and queue-outage waits."""
    release_delay: float = 0.0
    """Seconds a released message stays hidden before redelivery (0: visible at once)."""
    stop_mode: StopMode = "release"
    """On SIGTERM/SIGINT: ``release`` interrupts the handler and makes its message visible again
    at once; ``finish`` lets the current message finish (a second signal releases it)."""
    handle_signals: bool = True
    """Install SIGTERM/SIGINT handlers while the loop runs (only possible in the main thread)."""

    def __post_init__(self) -> None:
        if self.mode not in WORKER_MODES:
            raise ValueError(
                f"worker mode must be one of {', '.join(WORKER_MODES)}, got {self.mode!r}"
            )
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.stop_mode not in STOP_MODES:
            raise ValueError(
                f"stop_mode must be one of {', '.join(STOP_MODES)}, got {self.stop_mode!r}"
            )
        if not 1 <= self.visibility_timeout <= MAX_VISIBILITY_TIMEOUT:
            raise ValueError(
                f"visibility_timeout must be 1..{MAX_VISIBILITY_TIMEOUT} s, "
                f"got {self.visibility_timeout}"
            )
        if self.heartbeat_interval is not None and not (
            0 < self.heartbeat_interval < self.visibility_timeout
        ):
            raise ValueError(
                f"heartbeat_interval must be > 0 and below visibility_timeout "
                f"({self.visibility_timeout} s), got {self.heartbeat_interval}"
            )
        if self.max_receives is not None and self.max_receives < 1:
            raise ValueError(f"max_receives must be >= 1 or None, got {self.max_receives}")
        if self.wait_seconds < 0:
            raise ValueError(f"wait_seconds must be >= 0, got {self.wait_seconds}")
        if self.idle_exit is not None and self.idle_exit < 0:
            raise ValueError(f"idle_exit must be >= 0 or None, got {self.idle_exit}")
        if self.retry_attempts < 1:
            raise ValueError(f"retry_attempts must be >= 1, got {self.retry_attempts}")
        if self.retry_initial_delay < 0 or self.retry_max_delay < self.retry_initial_delay:
            raise ValueError(
                "retry delays must satisfy 0 <= retry_initial_delay <= retry_max_delay, got "
                f"{self.retry_initial_delay} and {self.retry_max_delay}"
            )
        if not 0 <= self.release_delay <= MAX_VISIBILITY_TIMEOUT:
            raise ValueError(f"release_delay must be 0..{MAX_VISIBILITY_TIMEOUT} s")

    @property
    def heartbeat_seconds(self) -> float:
        """The effective heartbeat interval."""
        return self.heartbeat_interval or self.visibility_timeout / 3
