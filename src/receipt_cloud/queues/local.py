"""Durable queues in one SQLite file, with SQS's visibility-timeout and dead-letter semantics.

Several named queues share a file; address one as ``local:///abs/path/queues.sqlite3#name``.
Every state change runs in a ``BEGIN IMMEDIATE`` transaction on a WAL database with a busy
timeout, so any number of threads and processes may send and receive on the same file: a
message is handed to exactly one receiver per visibility window.

Stale receipt handles are an error: ``delete`` or ``change_visibility`` with a handle that is not
the message's latest (it was deleted, or redelivered after its timeout) raises
``StaleReceiptHandleError``, so a worker learns its slow job will be (or was) redone.
(Real SQS silently ignores a stale delete and rejects a stale visibility change.)
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, unquote

from receipt_cloud.errors import InvalidUriError, QueueFileError, StaleReceiptHandleError
from receipt_cloud.queues._base import (
    Message,
    Queue,
    check_delay,
    check_receive_args,
    check_visibility,
    encode_body,
    handle_of,
)
from receipt_cloud.queues.clock import SYSTEM_CLOCK, Clock

DEFAULT_VISIBILITY_TIMEOUT = 30.0
DEFAULT_MAX_RECEIVES = 5
DLQ_SUFFIX = "-dlq"
_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,80}\Z")  # \Z: "$" lets a trailing newline in
_POLL_MIN, _POLL_MAX = 0.02, 0.25

_SCHEMA = """
CREATE TABLE IF NOT EXISTS queues (
    name TEXT PRIMARY KEY,
    visibility_timeout REAL NOT NULL,
    max_receives INTEGER,
    dead_letter_queue TEXT
);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    sent_at REAL NOT NULL,
    visible_at REAL NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt_handle TEXT UNIQUE
);
CREATE INDEX IF NOT EXISTS messages_visible ON messages (queue, visible_at, seq);
"""


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


@dataclass(frozen=True)
class LocalQueueConfig:
    """Per-queue settings stored in the database, shared by every process that opens it."""

    visibility_timeout: float
    """Seconds a received message stays hidden unless receive() overrides it."""
    max_receives: int | None
    """Receives after which the next receive dead-letters the message; None: never."""
    dead_letter_queue: str | None
    """Name of the queue (same file) poison messages move to; None: no DLQ."""


def parse_local_url(url: str) -> tuple[Path, str]:
    """``(db_path, queue_name)`` from ``local:///abs/path/queues.sqlite3#queue-name``."""
    if not url.startswith("local://"):
        raise InvalidUriError(f"{url!r} is not a local queue URL (local:///abs/path.sqlite3#name)")
    rest = url[len("local://") :]
    path_part, _, name = rest.partition("#")
    if not path_part.startswith("/"):
        raise InvalidUriError(
            f"local queue URL {url!r} needs an absolute path: local:///abs/path.sqlite3#name"
        )
    if not name:
        raise InvalidUriError(f"local queue URL {url!r} names no queue; append #queue-name")
    return Path(unquote(path_part)), unquote(name)


def local_queue_url(path: str | os.PathLike[str], name: str) -> str:
    """The ``local://`` URL of queue ``name`` in the SQLite file ``path``."""
    absolute = Path(path).expanduser().absolute()
    return f"local://{quote(str(absolute))}#{quote(name)}"


class LocalQueue(Queue):
    """One named queue in a SQLite file.

    Configuration (visibility timeout, max receives, DLQ) lives in the file: arguments left
    unset keep the stored values, or the defaults for a new queue (30 s, 5 receives,
    ``<name>-dlq``; a queue whose name ends in ``-dlq`` defaults to no DLQ). Pass
    ``max_receives=None`` to turn dead-lettering off. ``clock`` is where time comes from (tests
    pass a :class:`~receipt_cloud.queues.clock.ManualClock`; a pickled copy uses the real one).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        name: str,
        *,
        visibility_timeout: float | _Unset = UNSET,
        max_receives: int | _Unset | None = UNSET,
        dead_letter_queue: str | _Unset | None = UNSET,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if not _NAME_RE.match(name):
            raise ValueError(
                f"queue name {name!r} is invalid; use 1-80 letters, digits, '-' or '_'"
            )
        if not name.endswith(DLQ_SUFFIX) and len(name + DLQ_SUFFIX) > 80:
            raise ValueError(
                f"queue name {name!r} is {len(name)} characters; its dead-letter queue "
                f"{name + DLQ_SUFFIX!r} would pass the 80-character limit — use at most "
                f"{80 - len(DLQ_SUFFIX)} characters"
            )
        if not isinstance(visibility_timeout, _Unset):
            check_visibility(visibility_timeout)
        if isinstance(max_receives, int) and max_receives < 1:
            raise ValueError(f"max_receives must be >= 1 or None, got {max_receives}")
        self.path = Path(path).expanduser().absolute()
        self.name = name
        self.clock = clock
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._transaction() as conn:
            self._configure(conn, visibility_timeout, max_receives, dead_letter_queue)

    @classmethod
    def from_url(cls, url: str) -> LocalQueue:
        """Open the queue a ``local://`` URL names (created with defaults if new)."""
        path, name = parse_local_url(url)
        return cls(path, name)

    @property
    def url(self) -> str:
        return local_queue_url(self.path, self.name)

    def __reduce__(self) -> tuple[type[LocalQueue], tuple[Path, str]]:
        # Connections cannot be pickled; a copy in another process reopens by path and name.
        return (LocalQueue, (self.path, self.name))

    # -- connection and transactions ---------------------------------------------------------

    @contextmanager
    def _readable(self) -> Iterator[None]:
        """A damaged file is one clear error; a busy or locked one stays an OperationalError
        (transient: the worker retries it)."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):
                raise
            raise QueueFileError(str(self.path), str(exc)) from None

    def _connect(self) -> sqlite3.Connection:
        # Connections must not cross a fork or a thread, so keep one per (process, thread).
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            with self._readable():
                conn.execute("PRAGMA busy_timeout = 30000")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.executescript(_SCHEMA)
        except BaseException:
            conn.close()
            raise
        self._local.conn = conn
        self._local.pid = os.getpid()
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        with self._readable():
            # IMMEDIATE takes the write lock up front, so two receivers can never both select
            # the same visible row before either marks it received.
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        """Close this thread's connection (others close when their thread or process ends)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- configuration -----------------------------------------------------------------------

    def _configure(
        self,
        conn: sqlite3.Connection,
        visibility_timeout: float | _Unset,
        max_receives: int | _Unset | None,
        dead_letter_queue: str | _Unset | None,
    ) -> None:
        stored = self._read_config(conn, self.name)
        explicit = [visibility_timeout, max_receives, dead_letter_queue]
        if stored is not None and all(isinstance(arg, _Unset) for arg in explicit):
            return  # plain re-open: keep what is stored, write nothing
        is_dlq = self.name.endswith(DLQ_SUFFIX)
        if stored is None:
            stored = LocalQueueConfig(
                visibility_timeout=DEFAULT_VISIBILITY_TIMEOUT,
                max_receives=None if is_dlq else DEFAULT_MAX_RECEIVES,
                dead_letter_queue=None if is_dlq else self.name + DLQ_SUFFIX,
            )
        config = LocalQueueConfig(
            visibility_timeout=stored.visibility_timeout
            if isinstance(visibility_timeout, _Unset)
            else float(visibility_timeout),
            max_receives=stored.max_receives if isinstance(max_receives, _Unset) else max_receives,
            dead_letter_queue=stored.dead_letter_queue
            if isinstance(dead_letter_queue, _Unset)
            else dead_letter_queue,
        )
        if max_receives is None and isinstance(dead_letter_queue, _Unset):
            # Dead-lettering switched off: no DLQ to report either.
            config = LocalQueueConfig(config.visibility_timeout, None, None)
        if config.max_receives is not None and config.dead_letter_queue is None:
            config = LocalQueueConfig(
                config.visibility_timeout, config.max_receives, self.name + DLQ_SUFFIX
            )
        if config.dead_letter_queue == self.name:
            raise ValueError(f"queue {self.name!r} cannot be its own dead-letter queue")
        conn.execute(
            "INSERT INTO queues (name, visibility_timeout, max_receives, dead_letter_queue) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
            "visibility_timeout = excluded.visibility_timeout, "
            "max_receives = excluded.max_receives, "
            "dead_letter_queue = excluded.dead_letter_queue",
            (self.name, config.visibility_timeout, config.max_receives, config.dead_letter_queue),
        )
        if config.dead_letter_queue is not None:
            conn.execute(
                "INSERT OR IGNORE INTO queues (name, visibility_timeout, max_receives, "
                "dead_letter_queue) VALUES (?, ?, NULL, NULL)",
                (config.dead_letter_queue, DEFAULT_VISIBILITY_TIMEOUT),
            )

    @staticmethod
    def _read_config(conn: sqlite3.Connection, name: str) -> LocalQueueConfig | None:
        row = conn.execute(
            "SELECT visibility_timeout, max_receives, dead_letter_queue FROM queues WHERE name = ?",
            (name,),
        ).fetchone()
        return LocalQueueConfig(*row) if row else None

    @property
    def config(self) -> LocalQueueConfig:
        """This queue's stored configuration."""
        config = self._read_config(self._connect(), self.name)
        assert config is not None  # written in __init__
        return config

    def dead_letter_queue(self) -> LocalQueue | None:
        name = self.config.dead_letter_queue
        return LocalQueue(self.path, name, clock=self.clock) if name else None

    def apply_redrive(self, max_receives: int, *, visibility_timeout: float) -> LocalQueue:
        # The settings live in the file: every process sharing the queue sees them at once.
        with self._transaction() as conn:
            self._configure(conn, visibility_timeout, max_receives, UNSET)
        return self

    # -- messages ----------------------------------------------------------------------------

    def send(self, body: str | dict[str, Any], *, delay_seconds: int = 0) -> str:
        check_delay(delay_seconds)
        text = encode_body(body)
        message_id = str(uuid.uuid4())
        now = self.clock.time()
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO messages (queue, message_id, body, sent_at, visible_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (self.name, message_id, text, now, now + delay_seconds),
            )
        return message_id

    def _receive_once(self, max_messages: int, visibility_timeout: float | None) -> list[Message]:
        received: list[Message] = []
        with self._transaction() as conn:
            config = self._read_config(conn, self.name)
            assert config is not None
            timeout = visibility_timeout
            if timeout is None:
                timeout = config.visibility_timeout
            now = self.clock.time()
            last_seq = -1
            while len(received) < max_messages:
                rows = conn.execute(
                    "SELECT seq, message_id, body, receive_count FROM messages "
                    "WHERE queue = ? AND visible_at <= ? AND seq > ? ORDER BY seq LIMIT ?",
                    (self.name, now, last_seq, max_messages - len(received)),
                ).fetchall()
                if not rows:
                    break
                for seq, message_id, body, count in rows:
                    last_seq = seq
                    if (
                        config.max_receives is not None
                        and config.dead_letter_queue is not None
                        and count >= config.max_receives
                    ):
                        # Like SQS: the receive after the last allowed one moves the message,
                        # keeping its receive count, instead of delivering it.
                        conn.execute(
                            "UPDATE messages SET queue = ?, visible_at = ?, receipt_handle = NULL "
                            "WHERE seq = ?",
                            (config.dead_letter_queue, now, seq),
                        )
                        continue
                    handle = f"{message_id}:{uuid.uuid4().hex}"
                    conn.execute(
                        "UPDATE messages SET receive_count = receive_count + 1, "
                        "receipt_handle = ?, visible_at = ? WHERE seq = ?",
                        (handle, now + timeout, seq),
                    )
                    received.append(Message(message_id, body, handle, count + 1))
        return received

    def receive(
        self,
        max_messages: int = 1,
        wait_seconds: float = 0,
        visibility_timeout: float | None = None,
    ) -> list[Message]:
        check_receive_args(max_messages, wait_seconds, visibility_timeout)
        deadline = self.clock.monotonic() + wait_seconds
        pause = _POLL_MIN
        while True:
            messages = self._receive_once(max_messages, visibility_timeout)
            remaining = deadline - self.clock.monotonic()
            if messages or remaining <= 0:
                return messages
            # Short sleeps keep the write lock free for senders; back off while the queue is idle.
            self.clock.sleep(min(pause, remaining))
            pause = min(pause * 2, _POLL_MAX)

    def delete(self, message: Message | str) -> None:
        handle = handle_of(message)
        with self._transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM messages WHERE queue = ? AND receipt_handle = ?",
                (self.name, handle),
            )
            if cursor.rowcount == 0:
                raise StaleReceiptHandleError(self.url, handle)

    def change_visibility(self, message: Message | str, seconds: float) -> None:
        check_visibility(seconds)
        handle = handle_of(message)
        with self._transaction() as conn:
            cursor = conn.execute(
                "UPDATE messages SET visible_at = ? WHERE queue = ? AND receipt_handle = ?",
                (self.clock.time() + seconds, self.name, handle),
            )
            if cursor.rowcount == 0:
                raise StaleReceiptHandleError(self.url, handle)

    def approximate_count(self) -> int:
        query = "SELECT COUNT(*) FROM messages WHERE queue = ? AND visible_at <= ?"
        return int(self._connect().execute(query, (self.name, self.clock.time())).fetchone()[0])

    def purge(self) -> int:
        """Delete every message in this queue (not its DLQ); returns how many were removed."""
        with self._transaction() as conn:
            return conn.execute("DELETE FROM messages WHERE queue = ?", (self.name,)).rowcount
