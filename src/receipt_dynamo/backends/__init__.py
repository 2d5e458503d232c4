"""Table backends, registered by name: ``open_table("sqlite", path=...)``,
``open_table("dynamodb", table_name=...)``."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from receipt_dynamo._table import Table
from receipt_dynamo.errors import StoreUnavailableError, UnknownBackendError


def _open_sqlite(**options: Any) -> Table:
    from receipt_dynamo.backends.sqlite import SqliteTable

    path = options.pop("path", None)
    if path is None:
        raise StoreUnavailableError(
            "the sqlite backend needs the path of its table file; on the command line pass "
            "--data-dir (default $RECEIPTS_HOME or ./.receipts) or --table-name FILE"
        )
    return SqliteTable(path, **{k: v for k, v in options.items() if v is not None})


def _open_dynamodb(**options: Any) -> Table:
    from receipt_dynamo.backends.dynamodb import DynamoTable

    table_name = options.pop("table_name", None) or os.environ.get("DYNAMO_TABLE_NAME")
    if not table_name:
        raise StoreUnavailableError(
            "the dynamodb backend needs a table name; pass --table-name or set DYNAMO_TABLE_NAME"
        )
    return DynamoTable(table_name, **options)


BACKENDS: dict[str, Callable[..., Table]] = {"sqlite": _open_sqlite, "dynamodb": _open_dynamodb}
"""Backend name -> opener taking that backend's keyword options."""


def open_table(backend: str, **options: Any) -> Table:
    """Open the item-level table of a registered backend."""
    try:
        opener = BACKENDS[backend]
    except KeyError:
        raise UnknownBackendError(
            f"unknown table backend {backend!r}; choose one of {', '.join(sorted(BACKENDS))}"
        ) from None
    return opener(**options)
