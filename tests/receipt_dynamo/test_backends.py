"""Backend plumbing: batch retry, registry errors, multi-process SQLite, import hygiene."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from dynamo_factories import new_id

from receipt_dynamo import (
    BatchWriteError,
    EntityAlreadyExistsError,
    EntityValidationError,
    Image,
    StoreUnavailableError,
    TableSchemaError,
    UnknownBackendError,
    create_table,
    open_store,
    open_table,
)
from receipt_dynamo._table import send_with_retry


class FlakyBatch:
    """A batch endpoint that leaves the last ``stuck`` requests of each call unprocessed
    for the first ``flaky_calls`` calls, like a throttled DynamoDB table."""

    def __init__(self, flaky_calls: int, stuck: int = 3) -> None:
        self.flaky_calls, self.stuck = flaky_calls, stuck
        self.calls: list[int] = []
        self.done: list[int] = []

    def __call__(self, chunk: list[int]) -> list[int]:
        self.calls.append(len(chunk))
        if len(self.calls) <= self.flaky_calls:
            self.done += chunk[: -self.stuck]
            return chunk[-self.stuck :]
        self.done += chunk
        return []


def test_unprocessed_items_are_retried_with_backoff() -> None:
    sleeps: list[float] = []
    send = FlakyBatch(flaky_calls=3)
    send_with_retry(send, list(range(60)), what="test", sleep=sleeps.append)
    assert sorted(send.done) == list(range(60))
    assert send.calls[:4] == [25, 3, 3, 3]  # the first chunk of 25, then its stuck rest
    assert sleeps == [0.05, 0.1, 0.2]  # exponential backoff between retries


def test_batch_gives_up_after_bounded_attempts() -> None:
    send = FlakyBatch(flaky_calls=100)
    with pytest.raises(BatchWriteError, match="still unprocessed after 4 attempts"):
        send_with_retry(send, list(range(10)), what="test", max_attempts=4, sleep=lambda s: None)
    assert len(send.calls) == 4


def test_unknown_backend_names_the_choices() -> None:
    with pytest.raises(UnknownBackendError, match="dynamodb, sqlite"):
        open_store("postgres")
    with pytest.raises(UnknownBackendError):
        open_table("mongo")


def test_dynamodb_needs_a_table_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DYNAMO_TABLE_NAME", raising=False)
    with pytest.raises(StoreUnavailableError, match="DYNAMO_TABLE_NAME"):
        open_store("dynamodb")


@pytest.mark.aws
def test_missing_dynamodb_table_is_a_clear_error(aws_env: str, unique_name: str) -> None:
    store = open_store("dynamodb", table_name=unique_name)
    with pytest.raises(StoreUnavailableError, match=r"does not exist .*--table-name"):
        store.get_image(new_id())


def _add_same_image(path: str, image_id: str, barrier, results) -> None:
    store = open_store("sqlite", path=path)
    image = Image(image_id=image_id, width=10, height=10, raw_s3_bucket="b", raw_s3_key="k")
    barrier.wait()
    try:
        store.add_image(image)
        results.put("won")
    except EntityAlreadyExistsError:
        results.put("lost")
    finally:
        store.close()


@pytest.mark.slow  # spawns writer processes
def test_sqlite_conditional_add_across_processes_has_one_winner(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.sqlite")
    open_store("sqlite", path=path).close()
    ctx = multiprocessing.get_context("spawn")
    for _ in range(3):
        image_id = new_id()
        barrier, results = ctx.Barrier(2), ctx.Queue()
        procs = [ctx.Process(target=_add_same_image, args=(path, image_id, barrier, results))
                 for _ in range(2)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(60)
            assert proc.exitcode == 0
        assert sorted(results.get(timeout=5) for _ in procs) == ["lost", "won"]


def test_import_pulls_no_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "import receipt_dynamo\n"
        "import receipt_cloud\n"
        "receipt_dynamo.open_store\n"
        "heavy = ('torch', 'transformers', 'coremltools', 'onnx', 'onnxruntime', 'datasets')\n"
        "bad = [m for m in heavy if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def _bare_table(name: str) -> None:
    """A PK/SK table without the package's indexes, as a hand-made or older table would be."""
    boto3.client("dynamodb").create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("PK", "SK")],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"},
                   {"AttributeName": "SK", "KeyType": "RANGE"}],
    )


@pytest.mark.aws
def test_create_table_on_an_existing_table_without_indexes_names_them(
    aws_env: str, unique_name: str
) -> None:
    _bare_table(unique_name)
    with pytest.raises(TableSchemaError, match="GSI1, GSI2, GSI3, GSI4, GSITYPE"):
        create_table(boto3.client("dynamodb"), unique_name)
    create_table(boto3.client("dynamodb"), unique_name + "-ok")
    create_table(boto3.client("dynamodb"), unique_name + "-ok")  # a complete table is kept


@pytest.mark.aws
def test_query_on_a_missing_index_is_a_table_error_not_an_item_error(
    aws_env: str, unique_name: str
) -> None:
    _bare_table(unique_name)
    store = open_store("dynamodb", table_name=unique_name)
    with pytest.raises(TableSchemaError, match="GSITYPE") as caught:
        store.list_images()
    assert not isinstance(caught.value, EntityValidationError)
    with pytest.raises(TableSchemaError):
        store.get_receipt_details(new_id(), 1)


def test_sqlite_store_needs_an_explicit_path() -> None:
    """The store layer knows no application directory; settings resolve $RECEIPTS_HOME."""
    import pytest

    from receipt_dynamo import StoreUnavailableError, open_store

    with pytest.raises(StoreUnavailableError, match="needs the path of its table file"):
        open_store("sqlite")


def test_open_store_passes_backend_options_through(tmp_path: Path) -> None:
    sqlite_store = open_store("sqlite", path=tmp_path / "t.sqlite", page_size=3,
                              table_name="other")
    assert sqlite_store.table.page_size == 3
    sqlite_store.close()
    dynamo_store = open_store("dynamodb", table_name="t", region="us-east-1",
                              max_batch_attempts=2, page_size=5)
    assert (dynamo_store.table.max_batch_attempts, dynamo_store.table.page_size) == (2, 5)
    with pytest.raises(TypeError, match="busy_timeout"):
        open_store("dynamodb", table_name="t", region="us-east-1", busy_timeout_ms=5)


def test_dynamodb_table_name_falls_back_to_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DYNAMO_TABLE_NAME", "from-env")
    assert open_store("dynamodb", region="us-east-1").table.table_name == "from-env"
