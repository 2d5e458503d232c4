"""A thread that keeps an in-flight message hidden while its (long) handler runs."""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from receipt_cloud.errors import StaleReceiptHandleError
from receipt_cloud.queues import Message, Queue

logger = logging.getLogger("receipt_cloud.worker")


class Heartbeat:
    """``with Heartbeat(queue, message, visibility_timeout=300, interval=100):`` renews the
    message's visibility every ``interval`` seconds until the block ends.

    Renewal failures are logged, never raised: a network blip is retried at the next beat, and
    a stale handle (the message reappeared and another worker took it) sets ``lost``, which the
    handler may check to stop early.
    """

    def __init__(
        self, queue: Queue, message: Message, *, visibility_timeout: float, interval: float
    ) -> None:
        self.queue = queue
        self.message = message
        self.visibility_timeout = visibility_timeout
        self.interval = interval
        self.beats = 0
        """Successful renewals so far."""
        self.lost = threading.Event()
        """Set when the message's handle went stale: another receive owns the message now."""
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"heartbeat-{message.message_id[:8]}", daemon=True
        )

    def __enter__(self) -> Heartbeat:
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
        """End the renewals (idempotent); returns once no renewal is in progress."""
        self._done.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(self.interval):
            try:
                self.queue.change_visibility(self.message, self.visibility_timeout)
                self.beats += 1
            except StaleReceiptHandleError:
                logger.warning(
                    "message %s: lost its visibility (received again elsewhere); its result "
                    "may be produced twice",
                    self.message.message_id,
                )
                self.lost.set()
                return
            except Exception as exc:  # retried at the next beat; the loop must not die of it
                logger.warning(
                    "message %s: visibility renewal failed (%s); retrying in %.0f s",
                    self.message.message_id,
                    exc,
                    self.interval,
                )
