"""The ``Queue`` interface and ``Message`` shared by the local (SQLite) and SQS backends."""

from __future__ import annotations

import abc
import json
import re
from dataclasses import dataclass
from typing import Any

from receipt_cloud.errors import InvalidMessageError

# SQS's limits; the local backend enforces the same ones so code tested locally runs on SQS.
MAX_MESSAGES_PER_RECEIVE = 10
MAX_DELAY_SECONDS = 900
MAX_VISIBILITY_TIMEOUT = 43200
MAX_BODY_BYTES = 262_144
# The complement of the characters SQS accepts in a message body.
_SQS_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Message:
    """One received message."""

    message_id: str
    """Stable id assigned when the message was sent."""
    body: str
    """The message body as sent (a dict is sent as JSON)."""
    receipt_handle: str
    """Handle for this receive only; delete/change_visibility need the latest one."""
    receive_count: int
    """How many times the message has been received, this receive included (1 on first)."""

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


def encode_body(body: str | dict[str, Any]) -> str:
    """A dict body becomes compact JSON; a str is sent unchanged. Either must pass
    :func:`check_body` (SQS's limits)."""
    if isinstance(body, str):
        return check_body(body)
    if isinstance(body, dict):
        try:
            return check_body(json.dumps(body, separators=(",", ":")))
        except TypeError as exc:
            raise TypeError(
                f"message body is not JSON-serialisable ({exc}); convert such values "
                "(datetimes, paths, sets) to str/list before sending"
            ) from exc
    raise TypeError(f"message body must be str or dict, got {type(body).__name__}")


def check_body(text: str) -> str:
    """``text`` unless SQS would reject it: empty, over 256 KiB of UTF-8, or holding a
    character outside #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF (InvalidMessageError
    naming the first offending position)."""
    if not text:
        raise InvalidMessageError("message body is empty; SQS needs at least one character")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        raise InvalidMessageError(
            f"message body is {size} bytes; SQS allows at most {MAX_BODY_BYTES} (256 KiB): put "
            "the payload in the object store and send its key"
        )
    if bad := _SQS_FORBIDDEN.search(text):
        raise InvalidMessageError(
            f"message body holds character U+{ord(bad.group()):04X} at position {bad.start()}, "
            "which SQS rejects; escape it (a dict body is sent as JSON, which escapes it)"
        )
    return text


def handle_of(message: Message | str) -> str:
    """The receipt handle of ``message`` (or ``message`` itself when it is a handle)."""
    return message.receipt_handle if isinstance(message, Message) else message


def check_receive_args(
    max_messages: int, wait_seconds: float, visibility_timeout: float | None
) -> None:
    """Reject values SQS would reject, with the allowed range in the message."""
    if not 1 <= max_messages <= MAX_MESSAGES_PER_RECEIVE:
        raise ValueError(f"max_messages must be 1..{MAX_MESSAGES_PER_RECEIVE}, got {max_messages}")
    if wait_seconds < 0:
        raise ValueError(f"wait_seconds must be >= 0, got {wait_seconds}")
    if visibility_timeout is not None:
        check_visibility(visibility_timeout)


def check_visibility(seconds: float) -> None:
    """Reject a visibility timeout outside 0..12 hours."""
    if not 0 <= seconds <= MAX_VISIBILITY_TIMEOUT:
        raise ValueError(f"visibility timeout must be 0..{MAX_VISIBILITY_TIMEOUT} s, got {seconds}")


def check_delay(seconds: float) -> None:
    """Reject a send delay outside 0..15 minutes."""
    if not 0 <= seconds <= MAX_DELAY_SECONDS:
        raise ValueError(f"delay_seconds must be 0..{MAX_DELAY_SECONDS}, got {seconds}")


class Queue(abc.ABC):
    """At-least-once message queue with visibility timeouts and a dead-letter queue.

    A received message is hidden from other receivers for its visibility timeout; if it is not
    deleted in that window it is delivered again with a new receipt handle and a higher
    ``receive_count``. After the queue's maximum receives, the next receive moves it to the
    dead-letter queue instead of delivering it.
    """

    @property
    @abc.abstractmethod
    def url(self) -> str:
        """The URL ``open_queue`` maps back to this queue."""

    @abc.abstractmethod
    def send(self, body: str | dict[str, Any], *, delay_seconds: int = 0) -> str:
        """Enqueue ``body`` (a dict is sent as JSON); returns the message id."""

    @abc.abstractmethod
    def receive(
        self,
        max_messages: int = 1,
        wait_seconds: float = 0,
        visibility_timeout: float | None = None,
    ) -> list[Message]:
        """Up to ``max_messages`` (1..10) visible messages, waiting up to ``wait_seconds`` for one.

        ``visibility_timeout`` overrides the queue's default for these messages.
        """

    @abc.abstractmethod
    def delete(self, message: Message | str) -> None:
        """Delete a received message (or its receipt handle) for good."""

    @abc.abstractmethod
    def change_visibility(self, message: Message | str, seconds: float) -> None:
        """Hide a received message for ``seconds`` from now (0 makes it visible at once)."""

    @abc.abstractmethod
    def approximate_count(self) -> int:
        """Messages available to receive now (not in flight, not delayed)."""

    @abc.abstractmethod
    def dead_letter_queue(self) -> Queue | None:
        """The queue poison messages move to, or None when this queue has none."""

    @abc.abstractmethod
    def apply_redrive(self, max_receives: int, *, visibility_timeout: float) -> Queue:
        """This queue, dead-lettering after ``max_receives`` receives as far as it can: a queue
        that owns its settings sets them; one whose redrive is managed elsewhere (infra) says
        in the log when it cannot dead-letter at all."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"
