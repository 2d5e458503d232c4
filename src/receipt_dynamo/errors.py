"""Errors raised by receipt_dynamo; every message names the entity or key and the fix."""

from __future__ import annotations


class ReceiptDynamoError(Exception):
    """Base class for every error this package raises on purpose."""


class EntityValidationError(ReceiptDynamoError, ValueError):
    """An entity field has a bad value (raised on construction and when reading a bad item)."""


class EntityAlreadyExistsError(ReceiptDynamoError):
    """A conditional add found an item with the same key."""


class EntityNotFoundError(ReceiptDynamoError, LookupError):
    """A get, update or delete named a key that has no item."""


class ProtectedLabelError(ReceiptDynamoError):
    """A proposal (NONE/PENDING/NEEDS_REVIEW) tried to replace a VALID or INVALID label."""


class UnknownBackendError(ReceiptDynamoError, ValueError):
    """``open_table``/``open_store`` was given a backend name that is not registered."""


class StoreUnavailableError(ReceiptDynamoError):
    """The table cannot be reached or used (missing table, no endpoint, throttled for too long)."""


class TableSchemaError(StoreUnavailableError):
    """The table exists but lacks a key or index this package needs (GSI1–GSI4, GSITYPE)."""


class ConditionFailedError(ReceiptDynamoError):
    """Item-level: a write's condition did not hold. The store translates it into the errors above.

    ``index`` is the position of the failing operation in a ``transact_write`` call (else None).
    """

    def __init__(self, pk: str, sk: str, index: int | None = None) -> None:
        self.pk, self.sk, self.index = pk, sk, index
        where = f" (operation {index})" if index is not None else ""
        super().__init__(f"condition failed for item PK={pk!r} SK={sk!r}{where}")


class BatchWriteError(StoreUnavailableError):
    """Unprocessed items remained after every retry of a batch write."""


class StaleLabelError(ReceiptDynamoError):
    """A compare-and-put on labels found a row changed since it was read (another reviewer, the
    worker): nothing of that group was written."""
