"""SQLite backend: the whole single table in one file, usable by several processes at once.

One SQL table holds every item as JSON plus its key, ``TYPE`` and GSI columns; each GSI has a
partial index on (GSInPK, GSInSK, PK, SK). WAL mode lets readers run during writes, and every
write is a ``BEGIN IMMEDIATE`` transaction (so a conditional write's read and write cannot
interleave with another process's), waiting up to ``busy_timeout_ms`` for the write lock.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from receipt_dynamo._table import (
    Condition,
    Item,
    Key,
    Page,
    Table,
    TransactOp,
    chunked,
)
from receipt_dynamo.errors import ConditionFailedError, StoreUnavailableError
from receipt_dynamo.keys import GSI_NAMES, KEY_ATTRIBUTES

KEY_COLUMNS = KEY_ATTRIBUTES
DEFAULT_PAGE_SIZE = 1000
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,255}")
_PREFIX_END = "\U0010ffff"  # sorts after every other character in SQLite's binary collation


def encode_item(item: Item) -> str:
    """The JSON stored for an item (floats round-trip exactly through repr)."""
    return json.dumps(item, separators=(",", ":"), allow_nan=False)


def decode_item(text: str) -> Item:
    return json.loads(text)


class SqliteTable(Table):
    """A table in the SQLite file ``path`` (created with its indexes if missing)."""

    transactional = True

    def __init__(
        self,
        path: str | Path,
        *,
        table_name: str = "receipts",
        page_size: int = DEFAULT_PAGE_SIZE,
        busy_timeout_ms: int = 30_000,
    ) -> None:
        if not _NAME.fullmatch(table_name):
            raise StoreUnavailableError(
                f"SQLite table name {table_name!r} must match [A-Za-z0-9_.-]+; pick a simpler name"
            )
        self.path = Path(path)
        self.page_size = page_size
        self._table = f'"{table_name}"'
        self._lock = threading.RLock()
        self._depth = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE.
            self._conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                timeout=busy_timeout_ms / 1000,
            )
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            self._use_wal(busy_timeout_ms / 1000)
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._create_schema(table_name)
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailableError(
                f"cannot open the SQLite table file {self.path}: {exc}; check the path/--data-dir "
                "is writable"
            ) from exc

    def _use_wal(self, timeout_s: float) -> None:
        # Switching a new file to WAL takes an exclusive lock and SQLite answers BUSY at once,
        # without its busy handler, when another process is switching it too (three importers
        # opening a fresh store): retry within the busy timeout instead of failing.
        from tenacity import retry, retry_if_exception, stop_after_delay, wait_random

        def locked(exc: BaseException) -> bool:
            return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)

        switch = retry(retry=retry_if_exception(locked), stop=stop_after_delay(timeout_s),
                       wait=wait_random(0.01, 0.1), reraise=True)(self._conn.execute)
        switch("PRAGMA journal_mode = WAL")

    def _create_schema(self, table_name: str) -> None:
        # An existing table needs no write lock, so read-only commands open a busy file at once.
        exists = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table_name,)
        ).fetchone()
        if exists:
            return
        columns = ", ".join(f"{c} TEXT" for c in KEY_COLUMNS[2:])
        with self._write():
            self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table} (PK TEXT NOT NULL, SK TEXT NOT NULL, "
                f"{columns}, item TEXT NOT NULL, PRIMARY KEY (PK, SK)) WITHOUT ROWID"
            )
            for gsi in GSI_NAMES:
                self._conn.execute(
                    f'CREATE INDEX IF NOT EXISTS "{table_name}_{gsi}" ON {self._table} '
                    f"({gsi}PK, {gsi}SK, PK, SK) WHERE {gsi}PK IS NOT NULL"
                )
            self._conn.execute(
                f'CREATE INDEX IF NOT EXISTS "{table_name}_GSITYPE" ON {self._table} (TYPE, PK, SK)'
            )

    # -- transactions --

    @contextmanager
    def _write(self) -> Iterator[None]:
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._execute_begin()
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._conn.execute("COMMIT")

    def _execute_begin(self) -> None:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreUnavailableError(
                f"the SQLite table {self.path} is locked by another writer ({exc}); retry, or "
                "raise busy_timeout_ms"
            ) from exc

    def atomic(self) -> Any:
        return self._write()

    # -- single items --

    def _existing(self, pk: str, sk: str) -> Item | None:
        row = self._conn.execute(
            f"SELECT item FROM {self._table} WHERE PK = ? AND SK = ?", (pk, sk)
        ).fetchone()
        return decode_item(row[0]) if row else None

    def _check(
        self, condition: Condition | None, pk: str, sk: str, index: int | None = None
    ) -> None:
        if condition is not None and not condition.holds(self._existing(pk, sk)):
            raise ConditionFailedError(pk, sk, index)

    def _upsert(self, item: Item) -> None:
        values = [item.get(c) for c in KEY_COLUMNS]
        placeholders = ", ".join("?" * (len(KEY_COLUMNS) + 1))
        self._conn.execute(
            f"INSERT OR REPLACE INTO {self._table} ({', '.join(KEY_COLUMNS)}, item) "
            f"VALUES ({placeholders})",
            [*values, encode_item(item)],
        )

    def _remove(self, pk: str, sk: str) -> None:
        self._conn.execute(f"DELETE FROM {self._table} WHERE PK = ? AND SK = ?", (pk, sk))

    def put_item(self, item: Item, *, condition: Condition | None = None) -> None:
        with self._write():
            self._check(condition, item["PK"], item["SK"])
            self._upsert(item)

    def get_item(self, pk: str, sk: str) -> Item | None:
        with self._lock:
            return self._existing(pk, sk)

    def delete_item(self, pk: str, sk: str, *, condition: Condition | None = None) -> None:
        with self._write():
            self._check(condition, pk, sk)
            self._remove(pk, sk)

    # -- groups --

    def batch_write(self, puts: Sequence[Item] = (), deletes: Sequence[Key] = ()) -> None:
        # One transaction per chunk of 25, as DynamoDB does; inside atomic() all chunks share one.
        for chunk in chunked([("put", p) for p in puts] + [("delete", d) for d in deletes]):
            with self._write():
                for kind, payload in chunk:
                    if kind == "put":
                        self._upsert(payload)
                    else:
                        self._remove(payload["PK"], payload["SK"])

    def transact_write(self, ops: Sequence[TransactOp]) -> None:
        with self._write():
            for index, op in enumerate(ops):
                target = op.target
                self._check(op.condition, target["PK"], target["SK"], index)
                if op.item is not None:
                    self._upsert(op.item)
                else:
                    self._remove(target["PK"], target["SK"])

    # -- queries --

    def _where(
        self,
        index: str | None,
        pk: str,
        sk_begins_with: str | None,
        sk_between: tuple[str, str] | None,
    ) -> tuple[list[str], list[Any], tuple[str, ...]]:
        """WHERE clauses, their parameters and the sort columns of one query."""
        if index is None:
            pk_col, sk_col, order = "PK", "SK", ("SK",)
        elif index in GSI_NAMES:
            pk_col, sk_col, order = f"{index}PK", f"{index}SK", (f"{index}SK", "PK", "SK")
        elif index == "GSITYPE":
            if sk_begins_with is not None or sk_between is not None:
                raise ValueError("GSITYPE has no sort key; drop sk_begins_with/sk_between")
            pk_col, sk_col, order = "TYPE", None, ("PK", "SK")
        else:
            raise ValueError(f"unknown index {index!r}; use None, GSI1..GSI4 or GSITYPE")
        where, params = [f"{pk_col} = ?"], [pk]
        if sk_begins_with is not None:
            where.append(f"{sk_col} >= ? AND {sk_col} < ?")
            params += [sk_begins_with, sk_begins_with + _PREFIX_END]
        if sk_between is not None:
            where.append(f"{sk_col} BETWEEN ? AND ?")
            params += list(sk_between)
        return where, params, order

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
        where, params, order = self._where(index, pk, sk_begins_with, sk_between)
        if start_key:
            # Row-value comparison continues strictly after the last row of the previous page.
            columns = ", ".join(order)
            where.append(f"({columns}) {'>' if ascending else '<'} ({', '.join('?' * len(order))})")
            params += [start_key[c] for c in order]
        direction = "ASC" if ascending else "DESC"
        size = limit or self.page_size
        sql = (
            f"SELECT item FROM {self._table} WHERE {' AND '.join(where)} "
            f"ORDER BY {', '.join(f'{c} {direction}' for c in order)} LIMIT ?"
        )
        with self._lock:
            rows = self._conn.execute(sql, [*params, size + 1]).fetchall()
        items = [decode_item(r[0]) for r in rows[:size]]
        last_key = None
        if len(rows) > size:
            last = items[-1]
            last_key = {c: last[c] for c in {"PK", "SK", *order}}
        return items, last_key

    def count(
        self,
        index: str | None,
        pk: str,
        *,
        sk_begins_with: str | None = None,
        sk_between: tuple[str, str] | None = None,
        **_: Any,
    ) -> int:
        where, params, _order = self._where(index, pk, sk_begins_with, sk_between)
        with self._lock:
            row = self._conn.execute(
                f"SELECT COUNT(*) FROM {self._table} WHERE {' AND '.join(where)}", params
            ).fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()
