"""Table backends, registered by name: ``open_table("sqlite", path=...)``,
``open_table("dynamodb", table_name=...)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from receipt_dynamo._table import Table
from receipt_dynamo.errors import StoreUnavailableError, UnknownBackendError


def _open_sqlite(**options: Any) -> Table:
    from receipt_dynamo.backends.sqlite import SqliteTable

    path = options.pop("path", None)
    if path is None:
        raise StoreUnavailableError("the sqlite backend needs path=<file of the table>")
    return SqliteTable(path, **options)


def _open_dynamodb(**options: Any) -> Table:
    from receipt_dynamo.backends.dynamodb import DynamoTable

    table_name = options.pop("table_name", None)
    if not table_name:
        raise StoreUnavailableError(
            "the dynamodb backend needs a table name; pass --table-name or set DYNAMO_TABLE_NAME"
        )
    return DynamoTable(table_name, **options)


BACKENDS: dict[str, Callable[..., Table]] = {"sqlite": _open_sqlite, "dynamodb": _open_dynamodb}


def register_backend(name: str, opener: Callable[..., Table]) -> None:
    """Make ``open_table(name, **options)`` call ``opener(**options)``."""
    BACKENDS[name] = opener


def open_table(backend: str, **options: Any) -> Table:
    """Open the item-level table of a registered backend."""
    try:
        opener = BACKENDS[backend]
    except KeyError:
        raise UnknownBackendError(
            f"unknown table backend {backend!r}; choose one of {', '.join(sorted(BACKENDS))}"
        ) from None
    return opener(**options)
