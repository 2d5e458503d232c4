"""Background renewals while a (long) handler runs: the message's visibility, or any lease."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import TracebackType

from receipt_cloud.errors import StaleReceiptHandleError
from receipt_cloud.queues import Message, Queue

logger = logging.getLogger("receipt_cloud.worker")


class Periodic:
    """``with Periodic(interval, beat, name=...):`` calls ``beat()`` every ``interval`` seconds
    in a daemon thread until the block ends; ``beat`` returning False ends the renewals early.
    An exception from ``beat`` is logged and the next beat tried: a blip must not stop it."""

    def __init__(self, interval: float, beat: Callable[[], bool], *, name: str) -> None:
        self.interval = interval
        self.beat = beat
        self.beats = 0
        """Successful beats so far."""
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def __enter__(self) -> Periodic:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """End the renewals (idempotent); returns once no beat is in progress."""
        self._done.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(self.interval):
            try:
                if not self.beat():
                    return
                self.beats += 1
            except Exception as exc:
                logger.warning(
                    "%s: renewal failed (%s); retrying in %.0f s",
                    self._thread.name,
                    exc,
                    self.interval,
                )


class Heartbeat(Periodic):
    """``with Heartbeat(queue, message, visibility_timeout=300, interval=100):`` renews the
    message's visibility every ``interval`` seconds until the block ends.

    A stale handle (the message reappeared and another worker took it) sets ``lost``, which the
    handler may check to stop early; other failures are retried at the next beat.
    """

    def __init__(
        self, queue: Queue, message: Message, *, visibility_timeout: float, interval: float
    ) -> None:
        self.queue = queue
        self.message = message
        self.visibility_timeout = visibility_timeout
        self.lost = threading.Event()
        """Set when the message's handle went stale: another receive owns the message now."""
        super().__init__(interval, self._renew, name=f"heartbeat-{message.message_id[:8]}")

    def _renew(self) -> bool:
        try:
            self.queue.change_visibility(self.message, self.visibility_timeout)
        except StaleReceiptHandleError:
            logger.warning(
                "message %s: lost its visibility (received again elsewhere); its result "
                "may be produced twice",
                self.message.message_id,
            )
            self.lost.set()
            return False
        return True
