"""SIGTERM/SIGINT while a worker runs: stop after the current message, or release it now."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from receipt_cloud.worker._config import StopMode
from receipt_cloud.worker.errors import WorkerStopped

logger = logging.getLogger("receipt_cloud.worker")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopState:
    """What the signal handler saw: which signal, and whether a handler is in flight."""

    def __init__(self, stop: threading.Event, stop_mode: StopMode) -> None:
        self.stop = stop
        self.stop_mode = stop_mode
        self.signal_name: str | None = None
        self.phase = "idle"
        """``receiving`` (a poll may be interrupted), ``handling`` (a handler runs) or ``idle``
        (the loop is settling a message or between steps: never interrupted)."""

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        repeated = self.stop.is_set()
        self.signal_name = name
        self.stop.set()
        if self.phase == "receiving":
            logger.info("%s received: stopping", name)
            # Interrupt a long poll; nothing is in flight to release.
            raise WorkerStopped(name)
        if self.phase == "handling" and (self.stop_mode == "release" or repeated):
            logger.warning("%s received: releasing the current message", name)
            raise WorkerStopped(name)
        logger.warning("%s received: stopping after the current message", name)


@contextmanager
def stop_on_signals(
    stop: threading.Event, stop_mode: StopMode, *, install: bool = True
) -> Iterator[StopState]:
    """Route SIGTERM/SIGINT to a ``StopState`` while the block runs; restore them after.

    Signals can only be caught in the main thread; elsewhere (or with ``install=False``) the
    block runs with only the ``stop`` event as a way to stop.
    """
    state = StopState(stop, stop_mode)
    if not install or threading.current_thread() is not threading.main_thread():
        yield state
        return
    previous: dict[int, Any] = {}
    for sig in STOP_SIGNALS:
        previous[sig] = signal.signal(sig, state.on_signal)
    try:
        yield state
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
