"""The local queue's sense of time, injectable so tests advance it instead of sleeping.

A :class:`LocalQueue` reads ``clock.time()`` for visibility windows and delays (stored in the
file, so every process must use the wall clock) and ``clock.monotonic()``/``clock.sleep()`` for
long polls. :data:`SYSTEM_CLOCK` is the real one; :class:`ManualClock` moves only when told, so a
30-second visibility timeout passes in one call.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from typing import Any, Protocol


class Clock(Protocol):
    """What a queue asks of time."""

    def time(self) -> float:
        """Seconds since the epoch (stored as ``sent_at``/``visible_at``)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (long-poll deadlines)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (between polls of an empty queue)."""
        ...


class SystemClock:
    """The real clock: :mod:`time`."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM_CLOCK = SystemClock()


class ManualClock:
    """A clock that stands still until :meth:`advance` (or :meth:`sleep`, which advances) moves
    it; callbacks from :meth:`call_later` run when the time they wait for is reached, so "a
    message arrives 0.5 s into a long poll" needs no thread. Single-threaded use only."""

    def __init__(self, start: float | None = None) -> None:
        # Starting at the real time keeps messages sent through a real-clock handle of the
        # same file (``open_queue(url)``) in step: they become visible as this clock advances.
        self._now = time.time() if start is None else float(start)
        self._due: list[tuple[float, int, Callable[[], Any]]] = []
        self._order = itertools.count()

    def time(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, running the callbacks due on the way, each at the
        time it asked for."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go back ({seconds} s)")
        end = self._now + seconds
        while self._due and self._due[0][0] <= end:
            when, _, callback = heapq.heappop(self._due)
            self._now = max(self._now, when)
            callback()
        self._now = end

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> None:
        """Run ``callback(*args)`` once the clock has moved ``delay`` seconds past now."""
        heapq.heappush(self._due, (self._now + delay, next(self._order), lambda: callback(*args)))
