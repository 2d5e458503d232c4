"""What the app works on: the environment's store and raw images, opened from its settings."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from receipt_dynamo import CORE_LABELS, ReceiptStore
from receipt_review.config import ReviewConfig

if TYPE_CHECKING:
    from receipt_cloud.objects import ObjectStore
    from receipt_cloud.settings import Settings


@dataclass
class ReviewState:
    """The store (one shared connection, serialised: SQLite connections are not thread-safe
    across concurrent writes), the raw object store and the config."""

    open_store: Callable[[], ReceiptStore]
    raw: ObjectStore
    config: ReviewConfig = field(default_factory=ReviewConfig)
    _store: ReceiptStore | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_settings(cls, settings: Settings, config: ReviewConfig) -> ReviewState:
        return cls(open_store=settings.open_store, raw=settings.open_objects("raw"),
                   config=config)

    @contextmanager
    def store(self) -> Iterator[ReceiptStore]:
        with self._lock:
            if self._store is None:
                self._store = self.open_store()
            yield self._store

    def vocabulary(self) -> list[str]:
        return list(CORE_LABELS) + sorted(set(self.config.extra_labels) - set(CORE_LABELS))

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
