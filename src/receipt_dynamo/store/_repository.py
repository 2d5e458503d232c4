"""The generic entity operations, written once and typed by entity class.

``Repository(table, Image, keys.image_key)`` gives ``add``/``add_many``/``get``/``update``/
``delete``/``list`` for Images, where ``keys.image_key(image_id)`` builds the main-table key (the
same function ``Image.main_key`` uses), so ``get`` and ``delete`` take exactly the ids that key
function takes. The store's aggregate modules hold one
repository per entity class and add what is special about their aggregate on top.

Conventions:

* ``add(entity, overwrite=False)`` is conditional: an existing key raises
  EntityAlreadyExistsError unless ``overwrite``.
* ``add_many(entities)`` is an unconditional batch upsert (chunks of 25, unprocessed items
  retried; the last of repeated keys wins).
* ``get(ids...)`` raises EntityNotFoundError; ``update(entity)`` and ``delete(ids...)`` require the
  item to exist.
* ``list(...)`` pages through the backend to the end and returns a list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, ParamSpec, TypeVar

from receipt_dynamo._table import MUST_EXIST, MUST_NOT_EXIST, Table
from receipt_dynamo.entities import Entity
from receipt_dynamo.errors import (
    ConditionFailedError,
    EntityAlreadyExistsError,
    EntityNotFoundError,
)
from receipt_dynamo.keys import MainKey

T = TypeVar("T", bound=Entity)
P = ParamSpec("P")


def describe(entity_type: str, pk: str, sk: str) -> str:
    """How error messages name one item."""
    return f"{entity_type} PK={pk!r} SK={sk!r}"


def not_found(entity_type: str, pk: str, sk: str, action: str) -> EntityNotFoundError:
    """The error for an ``action`` (update, delete) on an item that is not stored."""
    return EntityNotFoundError(
        f"cannot {action} {describe(entity_type, pk, sk)}: it does not exist; add it first"
    )


class Repository(Generic[T, P]):
    """add/get/update/delete/list for one entity class over one table."""

    def __init__(self, table: Table, cls: type[T], key: Callable[P, MainKey]) -> None:
        self.table = table
        self.cls = cls
        self.key = key

    def add(self, entity: T, *, overwrite: bool = False) -> None:
        try:
            self.table.put_item(entity.to_item(), condition=None if overwrite else MUST_NOT_EXIST)
        except ConditionFailedError:
            raise EntityAlreadyExistsError(
                f"{describe(entity.ENTITY_TYPE, entity.pk, entity.sk)} already exists; pass "
                "overwrite=True to replace it, or use the update method"
            ) from None

    def add_many(self, entities: Iterable[T]) -> None:
        # Last one wins for repeated keys: DynamoDB rejects a batch holding one key twice.
        unique = {(e.pk, e.sk): e.to_item() for e in entities}
        self.table.batch_write(puts=list(unique.values()))

    def get(self, *args: P.args, **kwargs: P.kwargs) -> T:
        pk, sk = self.key(*args, **kwargs)
        item = self.table.get_item(pk, sk)
        if item is None:
            raise EntityNotFoundError(
                f"{describe(self.cls.ENTITY_TYPE, pk, sk)} not found; check the ids or add it "
                "first"
            )
        return self.cls.from_item(item)

    def update(self, entity: T) -> None:
        try:
            self.table.put_item(entity.to_item(), condition=MUST_EXIST)
        except ConditionFailedError:
            raise not_found(entity.ENTITY_TYPE, entity.pk, entity.sk, "update") from None

    def delete(self, *args: P.args, **kwargs: P.kwargs) -> None:
        pk, sk = self.key(*args, **kwargs)
        try:
            self.table.delete_item(pk, sk, condition=MUST_EXIST)
        except ConditionFailedError:
            raise not_found(self.cls.ENTITY_TYPE, pk, sk, "delete") from None

    def list(
        self, index: str | None, pk: str, *, sk_begins_with: str | None = None
    ) -> list[T]:
        """Every item of this class under ``pk`` of ``index`` (None: the main table)."""
        return [
            self.cls.from_item(item)
            for item in self.table.iter_query(index, pk, sk_begins_with=sk_begins_with)
            if item.get("TYPE") == self.cls.ENTITY_TYPE
        ]

    def list_all(self) -> list[T]:
        """Every item of this class (GSITYPE)."""
        return self.list("GSITYPE", self.cls.ENTITY_TYPE)
