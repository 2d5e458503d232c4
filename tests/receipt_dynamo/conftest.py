"""The ``store`` fixture: the same contract suite runs on SQLite and on DynamoDB (moto server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from receipt_dynamo import ReceiptStore, create_table, open_store

# Small pages so that every list/detail call in the contract suite really paginates.
PAGE_SIZE = 4


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReceiptStore]:
    if request.param == "sqlite":
        opened = open_store("sqlite", path=tmp_path / "table.sqlite", page_size=PAGE_SIZE)
    else:
        request.getfixturevalue("aws_env")
        name = request.getfixturevalue("unique_name")
        create_table(boto3.client("dynamodb"), name)
        opened = open_store("dynamodb", table_name=name, page_size=PAGE_SIZE)
    try:
        yield opened
    finally:
        opened.close()
