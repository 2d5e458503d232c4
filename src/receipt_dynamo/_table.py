"""The item-level backend interface every table backend implements, plus shared helpers.

Items are plain dicts (see ``entities._base``); keys are ``PK``/``SK`` strings. Queries return one
page ``(items, last_key)``; ``last_key`` is opaque (a dict of key attributes) and is passed back as
``start_key`` to continue. ``iter_query`` pages to the end.
"""

from __future__ import annotations

import abc
import dataclasses
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from receipt_dynamo.errors import BatchWriteError

Item = dict[str, Any]
T = TypeVar("T")
Key = dict[str, str]
Page = tuple[list[Item], Key | None]

BATCH_SIZE = 25
"""DynamoDB's BatchWriteItem limit; both backends chunk at it."""
MAX_BATCH_ATTEMPTS = 8
"""Tries per chunk before a batch write gives up with BatchWriteError."""


# --- conditions ------------------------------------------------------------------------------


class Condition(abc.ABC):
    """A write condition on the item currently stored under the written key."""

    @abc.abstractmethod
    def holds(self, existing: Mapping[str, Any] | None) -> bool:
        """Evaluate against the stored item (None when there is none) — used by local backends."""


@dataclasses.dataclass(frozen=True)
class NotExists(Condition):
    """No item under the key."""

    def holds(self, existing: Mapping[str, Any] | None) -> bool:
        return existing is None


@dataclasses.dataclass(frozen=True)
class Exists(Condition):
    """An item under the key."""

    def holds(self, existing: Mapping[str, Any] | None) -> bool:
        return existing is not None


@dataclasses.dataclass(frozen=True)
class NotExistsOrAttributeNotIn(Condition):
    """No item, or the stored item's ``attribute`` is not one of ``values``."""

    attribute: str
    values: tuple[str, ...]

    def holds(self, existing: Mapping[str, Any] | None) -> bool:
        return existing is None or existing.get(self.attribute) not in self.values


@dataclasses.dataclass(frozen=True)
class ExistsAndAttributeNotIn(Condition):
    """An item whose ``attribute`` is not one of ``values``."""

    attribute: str
    values: tuple[str, ...]

    def holds(self, existing: Mapping[str, Any] | None) -> bool:
        return existing is not None and existing.get(self.attribute) not in self.values


@dataclasses.dataclass(frozen=True)
class AttributeEquals(Condition):
    """An item whose ``attribute`` equals ``value`` (e.g. the write token its writer stamped)."""

    attribute: str
    value: str

    def holds(self, existing: Mapping[str, Any] | None) -> bool:
        return existing is not None and existing.get(self.attribute) == self.value


@dataclasses.dataclass(frozen=True)
class ItemMatches(Condition):
    """An item whose ``attributes`` hold exactly these values (``None``: the attribute is absent):
    compare-and-put on a row as it was read."""

    attributes: tuple[tuple[str, Any], ...]

    def holds(self, existing: Mapping[str, Any] | None) -> bool:
        return existing is not None and all(
            existing.get(name) == value for name, value in self.attributes
        )


MUST_NOT_EXIST = NotExists()
MUST_EXIST = Exists()


@dataclasses.dataclass(frozen=True)
class TransactOp:
    """One operation of ``transact_write``: a put (``item``) or a delete (``key``)."""

    item: Item | None = None
    key: Key | None = None
    condition: Condition | None = None

    def __post_init__(self) -> None:
        if (self.item is None) == (self.key is None):
            raise ValueError("TransactOp needs exactly one of item= (put) or key= (delete)")

    @property
    def target(self) -> Key:
        source = self.item if self.item is not None else self.key
        assert source is not None
        return {"PK": source["PK"], "SK": source["SK"]}


# --- the interface ---------------------------------------------------------------------------


class Table(abc.ABC):
    """Item-level access to the single table. Writes raise ConditionFailedError on a condition."""

    #: True when ``atomic()`` really groups writes into one transaction (SQLite).
    transactional: bool = False

    @abc.abstractmethod
    def put_item(self, item: Item, *, condition: Condition | None = None) -> None: ...

    @abc.abstractmethod
    def get_item(self, pk: str, sk: str) -> Item | None: ...

    @abc.abstractmethod
    def delete_item(self, pk: str, sk: str, *, condition: Condition | None = None) -> None: ...

    @abc.abstractmethod
    def query(
        self,
        index: str | None,
        pk: str,
        *,
        sk_begins_with: str | None = None,
        sk_between: tuple[str, str] | None = None,
        ascending: bool = True,
        limit: int | None = None,
        start_key: Key | None = None,
    ) -> Page:
        """One page of items whose (index) partition key is ``pk``, in sort-key order.

        ``index`` is None for the main table, else ``GSI1``..``GSI4`` or ``GSITYPE`` (hash only,
        no sort-key conditions). ``limit`` caps the page (default: the backend's page size).
        """

    @abc.abstractmethod
    def batch_write(self, puts: Sequence[Item] = (), deletes: Sequence[Key] = ()) -> None:
        """Unconditional puts and deletes in chunks of 25, retrying unprocessed items."""

    @abc.abstractmethod
    def transact_write(self, ops: Sequence[TransactOp]) -> None:
        """All-or-nothing group (at most 100 ops); ConditionFailedError names the failing op."""

    def count(self, index: str | None, pk: str, **options: Any) -> int:
        """How many items ``query(index, pk, **options)`` holds (every page)."""
        return sum(1 for _ in self.iter_query(index, pk, **options))

    def put_items_conditionally(self, items: Sequence[Item], condition: Condition) -> list[bool]:
        """Put each item under ``condition``; returns which were written (others left alone)."""
        return self.each_conditionally(items, lambda i: self.put_item(i, condition=condition))

    def delete_items_conditionally(self, keys: Sequence[Key], condition: Condition) -> list[bool]:
        """Delete each key under ``condition``; returns which were deleted (others left alone)."""
        return self.each_conditionally(
            keys, lambda k: self.delete_item(k["PK"], k["SK"], condition=condition)
        )

    def each_conditionally(self, targets: Sequence[T], write: Callable[[T], None]) -> list[bool]:
        """``write`` each target, in one transaction where the backend has them; False where
        its condition failed (the others still go on). Backends may run the writes concurrently."""
        with self.atomic():
            return [condition_held(write, target) for target in targets]

    def atomic(self) -> AbstractContextManager[None]:
        """Group the writes inside into one transaction where the backend can."""
        from contextlib import nullcontext

        return nullcontext()

    def iter_query(self, index: str | None, pk: str, **options: Any) -> Iterator[Item]:
        """Every item of ``query(index, pk, **options)``, following pages to the end."""
        start_key = options.pop("start_key", None)
        while True:
            items, start_key = self.query(index, pk, start_key=start_key, **options)
            yield from items
            if not start_key:
                return

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release connections (no-op by default)."""


def condition_held(write: Callable[[T], None], target: T) -> bool:
    """Run one conditional ``write``; False when its condition failed."""
    from receipt_dynamo.errors import ConditionFailedError

    try:
        write(target)
    except ConditionFailedError:
        return False
    return True


# --- batch retry -----------------------------------------------------------------------------


def chunked(items: Sequence[Any], size: int = BATCH_SIZE) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def send_with_retry(
    send: Callable[[list[Any]], list[Any]],
    requests: Sequence[Any],
    *,
    what: str,
    max_attempts: int = MAX_BATCH_ATTEMPTS,
    base_delay: float = 0.05,
    max_delay: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Send ``requests`` in chunks of 25; ``send`` returns the unprocessed ones, which are resent
    with exponential backoff (``base_delay * 2**n`` capped at ``max_delay``) up to ``max_attempts``
    times per chunk, then BatchWriteError."""
    for chunk in chunked(list(requests)):
        pending = list(chunk)
        for attempt in range(max_attempts):
            pending = list(send(pending))
            if not pending:
                break
            if attempt + 1 < max_attempts:
                sleep(min(max_delay, base_delay * 2**attempt))
        if pending:
            raise BatchWriteError(
                f"{len(pending)} {what} item(s) were still unprocessed after {max_attempts} "
                "attempts (the table is throttled); retry later or raise the table's capacity"
            )
