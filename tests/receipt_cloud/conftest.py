"""Backend fixtures: each contract test runs once per backend (local, and AWS on moto)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from receipt_cloud.objects import LocalObjectStore, ObjectStore, open_object_store
from receipt_cloud.queues import LocalQueue, Queue

QueueFactory = Callable[..., Queue]


@pytest.fixture(
    params=["local", pytest.param("s3", marks=pytest.mark.aws)],
)
def object_store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """An empty store: a temp directory, or a fresh moto bucket under a key prefix."""
    if request.param == "local":
        return LocalObjectStore(tmp_path / "store")
    request.getfixturevalue("aws_env")
    bucket = request.getfixturevalue("unique_name")
    boto3.client("s3").create_bucket(Bucket=bucket)
    # A prefix exercises the key mapping; a sibling object outside it must never show up.
    boto3.client("s3").put_object(Bucket=bucket, Key="outside/other.txt", Body=b"x")
    return open_object_store(f"s3://{bucket}/root")


@pytest.fixture(
    params=["local", pytest.param("sqs", marks=pytest.mark.aws)],
)
def make_queue(request: pytest.FixtureRequest, tmp_path: Path) -> QueueFactory:
    """``make_queue(visibility_timeout=1, max_receives=3)`` -> a fresh queue with a DLQ."""
    counter = iter(range(1000))

    if request.param == "local":

        def make_local(*, visibility_timeout: int = 1, max_receives: int = 3) -> Queue:
            return LocalQueue(
                tmp_path / "queues.sqlite3",
                f"q{next(counter)}",
                visibility_timeout=visibility_timeout,
                max_receives=max_receives,
            )

        return make_local

    request.getfixturevalue("aws_env")
    base = request.getfixturevalue("unique_name")
    from receipt_cloud.queues import create_queue_with_dlq

    def make_sqs(*, visibility_timeout: int = 1, max_receives: int = 3) -> Queue:
        return create_queue_with_dlq(
            f"{base}-{next(counter)}", max_receives, visibility_timeout=visibility_timeout
        )

    return make_sqs
