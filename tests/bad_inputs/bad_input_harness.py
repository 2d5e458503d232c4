"""The machinery of the bad-input corpus: a :class:`Case` is one row of the table, a
:class:`Workspace` is the sandbox it runs in, :func:`run_case` plays a row and checks it.

See ``test_bad_inputs.py`` for how to add a case.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from receipt_cloud.errors import ReceiptCloudError
from receipt_dynamo.errors import ReceiptDynamoError
from receipt_layoutlm.errors import ReceiptLayoutLMError
from receipt_ocr.errors import ReceiptOcrError
from receipt_review.errors import ReviewError

GROUPS = ("importers", "objects", "queues", "records", "checkpoints", "cli", "exports",
          "lambdas", "ocr", "review", "security", "events")
"""Where a case's input enters the system; the report counts cases per group."""

# What a library call may raise for bad input: the packages' own errors, and the ValueError /
# TypeError of an argument outside an API's documented range (the same one-line contract).
CLEAR_ERRORS = (ReceiptLayoutLMError, ReceiptDynamoError, ReceiptCloudError, ReceiptOcrError,
                ReviewError, ValueError, TypeError)


@dataclass
class Workspace:
    """A fresh sandbox per case: a data directory (store, objects, queues) and scratch files."""

    root: Path
    """The case's temp directory; paths in a case's argv may use ``{root}`` and ``{data}``."""
    state: dict[str, Any] = field(default_factory=dict)
    """Whatever setup wants to hand to the command or the check (e.g. a held lock)."""
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    """Run after the case, newest first (close a connection, stop a lock)."""
    store_factory: Callable[[], Any] | None = None
    """Opens the store library cases and checks use (default: the data dir's SQLite file)."""

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def table_path(self) -> Path:
        return self.data_dir / "receipts.sqlite3"

    def path(self, relative: str) -> Path:
        return self.root / relative

    def write(self, relative: str, content: str | bytes) -> Path:
        """Write a scratch file (parents made); bytes are written as they are."""
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        return target

    def write_jsonl(self, relative: str, records: Sequence[Any]) -> Path:
        """One JSON value per line, escaped with ``ensure_ascii=False`` like the exporter."""
        return self.write(
            relative, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        )

    def settings(self, **overrides: Any) -> Any:
        """The case's local environment on the data dir, blind to the caller's environment
        variables (``overrides`` as flags would give them)."""
        from receipt_cloud.settings import resolve_settings

        return resolve_settings("local", data_dir=self.data_dir, environ={}, overrides=overrides)

    def open_store(self) -> Any:
        if self.store_factory is not None:
            return self.store_factory()
        from receipt_dynamo import open_store

        return open_store("sqlite", path=self.table_path)

    def cli(self, *argv: str) -> tuple[int, str, str]:
        """Run ``layoutlm-cli`` in this process against the data dir; (exit code, out, err)."""
        from receipt_layoutlm.cli import main

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([*argv])
            except SystemExit as exc:  # argparse refusals
                code = int(exc.code or 0)
        return code, out.getvalue(), err.getvalue()

    def items(self) -> list[tuple[str, str, str]]:
        """Every stored item as (PK, SK, JSON), sorted; [] when there is no table yet."""
        if self.store_factory is not None:
            store = self.open_store()
            try:
                return _scan_dynamo(store)
            finally:
                store.close()
        if not self.table_path.exists():
            return []
        with contextlib.closing(sqlite3.connect(self.table_path)) as conn:
            return sorted(conn.execute('SELECT PK, SK, item FROM "receipts"').fetchall())

    def receipts(self) -> dict[str, list[str]]:
        """Stored receipts by dataset key → their words' texts in (line, word) order."""
        from receipt_layoutlm.records import dataset_key

        store = self.open_store()
        try:
            found = {}
            for receipt in store.list_receipts():
                details = store.get_receipt_details(receipt.image_id, receipt.receipt_id)
                words = sorted(details.words, key=lambda w: (w.line_id, w.word_id))
                found[dataset_key(receipt)] = [w.text for w in words]
            return found
        finally:
            store.close()


def _scan_dynamo(store: Any) -> list[tuple[str, str, str]]:
    import boto3

    client = boto3.client("dynamodb")
    rows, kwargs = [], {"TableName": store.table.table_name}
    while True:
        page = client.scan(**kwargs)
        rows.extend((i["PK"]["S"], i["SK"]["S"], json.dumps(i, sort_keys=True))
                    for i in page["Items"])
        if "LastEvaluatedKey" not in page:
            return sorted(rows)
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


Command = Sequence[str] | Callable[[Workspace], object]


@dataclass(frozen=True)
class Case:
    """One row of the corpus: a hostile input and everything the system must do about it."""

    name: str
    """Unique id (the pytest id): ``<what>_<how it is bad>``."""
    group: str
    """One of :data:`GROUPS`."""
    command: Command
    """``layoutlm-cli`` argv (``{root}``/``{data}`` are filled in, ``--data-dir`` is added after
    the subcommand unless the argv gives one) or a library call ``f(ws)`` whose return value is
    the output, mapped like the CLI: a clear error is exit 2 and ``error: <message>``."""
    exit_code: int
    """Expected exit code (0 ok, 1 import with failures or nothing read, 2 refused input)."""
    message: str
    """Regex that must match ONE line of the output (stdout + stderr) in full: it names the
    file and line, or the field or flag, at fault."""
    setup: Callable[[Workspace], None] = lambda ws: None
    """Build the hostile input (files, a stored receipt, a held lock...)."""
    check: Callable[[Workspace, list[tuple[str, str, str]]], None] | None = None
    """What the store (or object store, queue) holds afterwards, given the items stored before
    the command; None means the store is unchanged. Every case also gets the integrity check
    (no receipt part without its receipt)."""
    data_dir_flag: bool = True
    """Add ``--data-dir {data}`` to a CLI argv (off for cases about that flag)."""
    needs: tuple[str, ...] = ()
    """Fixture names the case needs (e.g. ``aws_env`` for DynamoDB cases)."""


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return (self.out + self.err).splitlines()


def play(case: Case, ws: Workspace) -> Outcome:
    """Run the case's command in ``ws``."""
    if callable(case.command):
        try:
            result = case.command(ws)
        except CLEAR_ERRORS as exc:
            return Outcome(2, "", f"error: {exc}\n")
        return Outcome(0, "" if result is None else f"{result}\n", "")
    argv = [part.format(root=ws.root, data=ws.data_dir) for part in case.command]
    if case.data_dir_flag and "--data-dir" not in argv:
        argv += ["--data-dir", str(ws.data_dir)]
    return Outcome(*ws.cli(*argv))


def check_integrity(items: list[tuple[str, str, str]]) -> None:
    """Nothing half-written: every line/word/label has its Receipt, every Receipt its Image."""
    keys = {(pk, sk) for pk, sk, _ in items}
    for pk, sk, _ in items:
        if sk.startswith("RECEIPT#"):
            receipt_sk = "#".join(sk.split("#")[:2])
            assert (pk, receipt_sk) in keys, f"{pk} {sk} is stored without its receipt"
            assert (pk, "IMAGE") in keys, f"{pk} {sk} is stored without its image"


def assert_outcome(case: Case, outcome: Outcome) -> None:
    text = outcome.out + outcome.err
    assert "Traceback" not in text, f"{case.name}: a traceback instead of one line:\n{text}"
    assert outcome.code == case.exit_code, (
        f"{case.name}: exit {outcome.code}, expected {case.exit_code}\n{text}"
    )
    pattern = re.compile(case.message)
    matching = [line for line in outcome.lines if pattern.fullmatch(line)]
    assert len(matching) == 1, (
        f"{case.name}: expected one line matching {case.message!r}, got {len(matching)}:\n{text}"
    )
    if outcome.code == 2:
        # A refusal is one line: the error itself (argparse prints its usage before it).
        errors = [line for line in outcome.err.splitlines() if "error:" in line]
        assert errors == matching, f"{case.name}: the refusal is not one line:\n{outcome.err}"


def run_case(case: Case, ws: Workspace) -> None:
    """Set up, snapshot the store, run, and check exit code, message and store."""
    case.setup(ws)
    before = ws.items()
    outcome = play(case, ws)
    assert_outcome(case, outcome)
    after = ws.items()
    check_integrity(after)
    if case.check is None:
        assert after == before, f"{case.name}: the store changed although the input was refused"
    else:
        case.check(ws, before)


# --- reusable store checks ----------------------------------------------------------------


def holds(expected: dict[str, list[str]]) -> Callable[[Workspace, Any], None]:
    """The store holds exactly these receipts (dataset key → word texts), byte for byte."""

    def check(ws: Workspace, _before: Any) -> None:
        assert ws.receipts() == expected

    return check


def holds_keys(*keys: str) -> Callable[[Workspace, Any], None]:
    """The store holds exactly the receipts with these dataset keys (words not compared)."""

    def check(ws: Workspace, _before: Any) -> None:
        assert sorted(ws.receipts()) == sorted(keys)

    return check
