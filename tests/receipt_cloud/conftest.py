"""Backend fixtures: each contract test runs once per backend (local, and AWS on moto)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from receipt_cloud.objects import LocalObjectStore, ObjectStore, open_object_store
from receipt_cloud.queues import LocalQueue, Queue
from receipt_cloud.queues.clock import SYSTEM_CLOCK, Clock, ManualClock, SystemClock

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


class RealTime(SystemClock):
    """The clock of a backend whose time the test cannot move (SQS on the moto server keeps
    its own): advancing it is sleeping, and ``call_later`` is a timer joined at teardown. Same
    surface as :class:`ManualClock`, so one contract test drives both."""

    def __init__(self) -> None:
        self.timers: list[threading.Timer] = []

    def advance(self, seconds: float) -> None:
        time.sleep(seconds)

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> None:
        timer = threading.Timer(delay, callback, args=args)
        self.timers.append(timer)
        timer.start()


# SQS on the moto server keeps its own time, so its visibility tests sleep: slow (make test);
# the local queue runs the same contract on a ManualClock in test-fast.
@pytest.fixture(
    params=["local", pytest.param("sqs", marks=[pytest.mark.aws, pytest.mark.slow])]
)
def queue_backend(request: pytest.FixtureRequest) -> str:
    """Which Queue backend the test runs on."""
    return request.param


@pytest.fixture
def queue_clock(queue_backend: str) -> Iterator[ManualClock | RealTime]:
    """The time the test's queues run on: a :class:`ManualClock` the test advances for the
    local queue (no sleeping), the real time for SQS."""
    if queue_backend == "local":
        yield ManualClock()
        return
    real = RealTime()
    yield real
    for timer in real.timers:
        timer.join()


@pytest.fixture
def make_queue(queue_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> QueueFactory:
    """``make_queue(visibility_timeout=1, max_receives=3[, clock=...])`` -> a fresh queue with a
    DLQ; ``clock`` (the local queue's time, :data:`SYSTEM_CLOCK` by default) is ignored by SQS."""
    counter = iter(range(1000))

    if queue_backend == "local":

        def make_local(
            *, visibility_timeout: int = 1, max_receives: int = 3, clock: Clock = SYSTEM_CLOCK
        ) -> Queue:
            return LocalQueue(
                tmp_path / "queues.sqlite3",
                f"q{next(counter)}",
                visibility_timeout=visibility_timeout,
                max_receives=max_receives,
                clock=clock,
            )

        return make_local

    request.getfixturevalue("aws_env")
    base = request.getfixturevalue("unique_name")
    from receipt_cloud.queues import create_queue_with_dlq

    def make_sqs(*, visibility_timeout: int = 1, max_receives: int = 3, clock: Any = None) -> Queue:
        return create_queue_with_dlq(
            f"{base}-{next(counter)}", max_receives, visibility_timeout=visibility_timeout
        )

    return make_sqs
