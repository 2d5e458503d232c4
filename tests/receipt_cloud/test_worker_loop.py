"""The generic queue worker loop on both queue backends (local SQLite, SQS on the moto server)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from receipt_cloud.queues import LocalQueue, Message, Queue
from receipt_cloud.worker import (
    DeferMessage,
    PermanentError,
    TransientError,
    WorkerConfig,
    apply_queue_limits,
    is_transient,
    run_worker,
)

FAST = {"retry_initial_delay": 0.01, "retry_max_delay": 0.05, "wait_seconds": 0.5}


def receive_one(queue: Queue, timeout: float = 6.0) -> Message | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = queue.receive(wait_seconds=1)
        if got:
            return got[0]
    return None


def test_drain_handles_every_message_and_deletes_it(make_queue) -> None:
    queue = make_queue(visibility_timeout=30)
    for n in range(3):
        queue.send({"n": n})
    seen: list[int] = []
    stats = run_worker(
        queue, lambda m: seen.append(m.json()["n"]), WorkerConfig(mode="drain", **FAST)
    )
    assert sorted(seen) == [0, 1, 2]
    assert (stats.received, stats.succeeded, stats.released) == (3, 3, 0)
    assert queue.receive(wait_seconds=0.5) == []


def test_once_handles_at_most_one_message(make_queue) -> None:
    queue = make_queue(visibility_timeout=30)
    queue.send("a")
    queue.send("b")
    seen: list[str] = []
    stats = run_worker(queue, lambda m: seen.append(m.body), WorkerConfig(mode="once", **FAST))
    assert len(seen) == 1 and stats.succeeded == 1
    assert receive_one(queue) is not None  # the other one is still there


@pytest.mark.slow
def test_heartbeat_keeps_a_slow_message_invisible(make_queue) -> None:
    queue = make_queue(visibility_timeout=1)
    queue.send("slow")
    stolen: list[Message] = []

    def handle(message: Message) -> None:
        # Three visibility timeouts long; another consumer polls all along.
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            stolen.extend(queue.receive(wait_seconds=0.5))

    config = WorkerConfig(mode="once", visibility_timeout=1, heartbeat_interval=0.3, **FAST)
    stats = run_worker(queue, handle, config)
    assert stolen == []
    assert stats.succeeded == 1 and stats.stale == 0
    assert queue.receive(wait_seconds=1.5) == []  # deleted, not just hidden


@pytest.mark.slow
def test_without_heartbeat_the_slow_message_would_reappear(make_queue) -> None:
    """The control for the heartbeat test: the same wait without renewals loses the message."""
    queue = make_queue(visibility_timeout=1)
    queue.send("slow")
    [message] = queue.receive(visibility_timeout=1)
    assert receive_one(queue, timeout=4) is not None
    assert message.receive_count == 1


def test_transient_errors_are_retried_with_backoff(make_queue) -> None:
    queue = make_queue(visibility_timeout=30)
    queue.send("flaky")
    calls: list[float] = []

    def handle(message: Message) -> None:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise TransientError("service busy")

    stats = run_worker(queue, handle, WorkerConfig(mode="once", retry_attempts=3, **FAST))
    assert len(calls) == 3
    assert stats.succeeded == 1 and stats.received == 1
    assert queue.receive(wait_seconds=0.5) == []


def test_exhausted_transient_retries_release_the_message(make_queue) -> None:
    queue = make_queue(visibility_timeout=30)
    queue.send("down")
    calls = []

    def handle(message: Message) -> None:
        calls.append(1)
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    stats = run_worker(queue, handle, WorkerConfig(mode="once", retry_attempts=2, **FAST))
    assert len(calls) == 2
    assert (stats.released, stats.succeeded, stats.failed) == (1, 0, 0)
    again = receive_one(queue, timeout=3)  # released at once, not after 30 s
    assert again is not None and again.receive_count == 2


def test_permanent_failure_deletes_the_message(make_queue) -> None:
    queue = make_queue(visibility_timeout=30)
    queue.send("bad")
    queue.send("good")
    recorded: list[str] = []

    def handle(message: Message) -> None:
        if message.body == "bad":
            recorded.append("bad: refused")
            raise PermanentError("bad input")

    stats = run_worker(queue, handle, WorkerConfig(mode="drain", **FAST))
    assert (stats.failed, stats.succeeded, stats.released) == (1, 1, 0)
    assert recorded == ["bad: refused"]
    assert queue.receive(wait_seconds=0.5) == []
    dlq = queue.dead_letter_queue()
    assert dlq is not None and dlq.receive(wait_seconds=0.5) == []


def test_defer_releases_for_a_while_without_retrying(make_queue) -> None:
    queue = make_queue(visibility_timeout=30)
    queue.send("later")
    calls = []

    def handle(message: Message) -> None:
        calls.append(message.receive_count)
        raise DeferMessage(2, "someone else has it")

    stats = run_worker(queue, handle, WorkerConfig(mode="once", retry_attempts=3, **FAST))
    assert calls == [1] and stats.released == 1
    assert queue.receive(wait_seconds=0.5) == []  # hidden for the deferral...
    again = receive_one(queue, timeout=5)  # ...then back
    assert again is not None and again.receive_count == 2


def test_unexpected_errors_go_to_the_dead_letter_queue_after_max_receives(make_queue) -> None:
    queue = make_queue(visibility_timeout=30, max_receives=2)
    queue.send({"poison": True})
    queue.send({"ok": True})
    handled: list[dict] = []

    def handle(message: Message) -> None:
        body = message.json()
        if body.get("poison"):
            raise KeyError("field")
        handled.append(body)

    config = WorkerConfig(mode="serve", idle_exit=2.5, max_receives=2, **FAST)
    stats = run_worker(queue, handle, config)
    assert handled == [{"ok": True}]  # the poison message did not block the next one
    assert stats.released == 2 and stats.succeeded == 1
    dlq = queue.dead_letter_queue()
    assert dlq is not None
    moved = receive_one(dlq)
    assert moved is not None and moved.json() == {"poison": True}


def test_on_exhausted_records_the_last_receive_then_the_queue_dead_letters(make_queue) -> None:
    queue = make_queue(visibility_timeout=30, max_receives=2)
    queue.send("poison")
    gave_up: list[tuple[int, str]] = []

    def handle(message: Message) -> None:
        raise KeyError("field")

    def on_exhausted(message: Message, exc: Exception) -> None:
        gave_up.append((message.receive_count, repr(exc)))

    config = WorkerConfig(mode="serve", idle_exit=2.5, max_receives=2, **FAST)
    stats = run_worker(queue, handle, config, on_exhausted=on_exhausted)
    assert gave_up == [(2, "KeyError('field')")]  # the last receive only, with its error
    assert (stats.released, stats.failed) == (2, 0)
    moved = receive_one(queue.dead_letter_queue())
    assert moved is not None and moved.body == "poison"


def test_on_exhausted_raising_permanent_error_deletes_the_message(make_queue) -> None:
    queue = make_queue(visibility_timeout=30, max_receives=1)
    queue.send("poison")
    attempts: list[int] = []

    def handle(message: Message) -> None:
        attempts.append(message.receive_count)
        raise TransientError("still down")  # retried in-process, then given up on

    def on_exhausted(message: Message, exc: Exception) -> None:
        raise PermanentError(f"job failed: {exc}")

    config = WorkerConfig(mode="drain", max_receives=1, retry_attempts=2, **FAST)
    stats = run_worker(queue, handle, config, on_exhausted=on_exhausted)
    assert attempts == [1, 1] and (stats.failed, stats.released) == (1, 0)
    assert queue.receive(wait_seconds=0.5) == []
    assert queue.dead_letter_queue().receive(wait_seconds=0.5) == []


def test_the_loop_dead_letters_a_message_received_more_than_max_receives(make_queue) -> None:
    queue = make_queue(visibility_timeout=30, max_receives=5)  # the queue's redrive is laxer
    queue.send("poison")
    calls = []

    def handle(message: Message) -> None:
        calls.append(message.receive_count)
        raise RuntimeError("boom")

    config = WorkerConfig(mode="serve", idle_exit=2.0, max_receives=1, **FAST)
    stats = run_worker(queue, handle, config)
    assert calls == [1]
    assert stats.dead_lettered == 1
    moved = receive_one(queue.dead_letter_queue())
    assert moved is not None and moved.body == "poison"


def test_stop_event_ends_a_continuous_worker(make_queue) -> None:
    queue = make_queue(visibility_timeout=30)
    stop = threading.Event()
    timer = threading.Timer(0.5, stop.set)
    timer.start()
    started = time.monotonic()
    stats = run_worker(queue, lambda m: None, WorkerConfig(mode="serve", **FAST), stop=stop)
    timer.join()
    assert stats.received == 0 and time.monotonic() - started < 5


class FlakyQueue(LocalQueue):
    """A local queue whose receives fail like an unreachable endpoint for ``outage`` seconds."""

    def __init__(self, path: Path, name: str, outage: float) -> None:
        super().__init__(path, name, visibility_timeout=30)
        self.outage_until = time.monotonic() + outage
        self.failed_receives = 0

    def receive(self, max_messages=1, wait_seconds=0, visibility_timeout=None):
        if time.monotonic() < self.outage_until:
            self.failed_receives += 1
            raise EndpointConnectionError(endpoint_url="https://sqs.example")
        return super().receive(max_messages, wait_seconds, visibility_timeout)


@pytest.mark.slow
def test_continuous_mode_survives_a_queue_outage(tmp_path: Path) -> None:
    queue = FlakyQueue(tmp_path / "q.sqlite3", "jobs", outage=1.0)
    queue.send("after the outage")
    seen: list[str] = []
    config = WorkerConfig(
        mode="serve",
        idle_exit=3.0,
        retry_initial_delay=0.05,
        retry_max_delay=0.2,
        wait_seconds=0.5,
    )
    stats = run_worker(queue, lambda m: seen.append(m.body), config)
    assert seen == ["after the outage"]
    assert queue.failed_receives >= 2 and stats.receive_errors == queue.failed_receives


def test_once_mode_gives_up_on_a_queue_outage(tmp_path: Path) -> None:
    queue = FlakyQueue(tmp_path / "q.sqlite3", "jobs", outage=60)
    with pytest.raises(EndpointConnectionError):
        run_worker(queue, lambda m: None, WorkerConfig(mode="once", retry_attempts=2, **FAST))
    assert queue.failed_receives == 2


def test_apply_queue_limits_sets_the_local_redrive(tmp_path: Path) -> None:
    queue = LocalQueue(tmp_path / "q.sqlite3", "jobs")
    limited = apply_queue_limits(queue, WorkerConfig(max_receives=2, visibility_timeout=40))
    assert limited is queue  # the queue applies its own redrive, in its file
    assert limited.config.max_receives == 2 and limited.config.visibility_timeout == 40
    assert limited.config.dead_letter_queue == "jobs-dlq"
    reopened = LocalQueue(tmp_path / "q.sqlite3", "jobs")  # another process sees it
    assert reopened.config.max_receives == 2


def test_an_sqs_queue_without_a_redrive_policy_is_reported(aws_env, unique_name, caplog) -> None:
    import boto3

    from receipt_cloud.queues import SqsQueue, create_queue_with_dlq

    url = boto3.client("sqs").create_queue(QueueName=unique_name)["QueueUrl"]
    bare = SqsQueue(url)
    with caplog.at_level("WARNING", logger="receipt_cloud.queues"):
        assert apply_queue_limits(bare, WorkerConfig(max_receives=2)) is bare
    assert f"queue {url} has no dead-letter queue" in caplog.text
    caplog.clear()
    guarded = create_queue_with_dlq(f"{unique_name}-g", 2)
    with caplog.at_level("WARNING", logger="receipt_cloud.queues"):
        assert guarded.apply_redrive(2, visibility_timeout=30) is guarded
    # Only our own records: an earlier test may have left botocore's INFO lines switched on.
    assert [r.getMessage() for r in caplog.records if r.name.startswith("receipt_cloud")] == []


def _client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "Op",
    )


def _caused(outer: Exception, cause: BaseException) -> Exception:
    outer.__cause__ = cause
    return outer


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (TransientError("x"), True),
        (ConnectionResetError(), True),
        (TimeoutError(), True),
        (EndpointConnectionError(endpoint_url="http://x"), True),
        (_client_error("InternalError", 500), True),
        (_client_error("SlowDown", 503), True),
        (_client_error("ThrottlingException", 400), True),
        (_client_error("ProvisionedThroughputExceededException", 400), True),
        (_client_error("AccessDenied", 403), False),
        (_client_error("NoSuchKey", 404), False),
        (_caused(RuntimeError("store"), _client_error("ServiceUnavailable", 503)), True),
        (_caused(PermanentError("bad"), TimeoutError()), False),
        (ValueError("bad json"), False),
        (KeyError("field"), False),
    ],
)
def test_is_transient(exc: BaseException, transient: bool) -> None:
    assert is_transient(exc) is transient


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"mode": "sometimes"}, "worker mode"),
        ({"visibility_timeout": 0}, "visibility_timeout"),
        ({"visibility_timeout": 10, "heartbeat_interval": 10}, "heartbeat_interval"),
        ({"max_receives": 0}, "max_receives"),
        ({"retry_attempts": 0}, "retry_attempts"),
        ({"stop_mode": "kill"}, "stop_mode"),
    ],
)
def test_config_rejects_bad_values(bad: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkerConfig(**bad)


WORKER_SCRIPT = textwrap.dedent(
    """
    import sys, time, json
    from pathlib import Path
    from receipt_cloud.queues import open_queue
    from receipt_cloud.worker import WorkerConfig, run_worker

    url, started, sleep, stop_mode = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    def handle(message):
        started.write_text(message.body)
        time.sleep(sleep)
    config = WorkerConfig(mode="once", visibility_timeout=60, stop_mode=stop_mode, wait_seconds=5)
    stats = run_worker(open_queue(url), handle, config)
    print(json.dumps(stats.to_dict()))
    """
)


def _start_worker(tmp_path: Path, url: str, sleep: float, stop_mode: str):
    script = tmp_path / "worker.py"
    script.write_text(WORKER_SCRIPT)
    started = tmp_path / "started"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, str(script), url, str(started), str(sleep), stop_mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 30
    while not started.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "worker never started the message"
        time.sleep(0.05)
    return proc


@pytest.mark.slow
def test_sigterm_releases_the_message_and_exits_0(make_queue, tmp_path: Path) -> None:
    queue = make_queue(visibility_timeout=60)
    queue.send("long job")
    proc = _start_worker(tmp_path, queue.url, 60, "release")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert '"stopped_by": "SIGTERM"' in out and '"released": 1' in out
    again = receive_one(queue, timeout=5)  # visible again long before the 60 s timeout
    assert again is not None and again.body == "long job" and again.receive_count == 2


@pytest.mark.slow
def test_sigterm_in_finish_mode_lets_the_message_finish(make_queue, tmp_path: Path) -> None:
    queue = make_queue(visibility_timeout=60)
    queue.send("short job")
    proc = _start_worker(tmp_path, queue.url, 1.0, "finish")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert '"succeeded": 1' in out
    assert queue.receive(wait_seconds=1) == []


def test_batch_handles_up_to_batch_size_then_returns(make_queue) -> None:
    """The seed's ``receipt-ocr`` without flags: one batch of up to 10, the rest stays queued."""
    queue = make_queue()
    for n in range(12):
        queue.send({"n": n})
    seen: list[int] = []
    batch = WorkerConfig(mode="batch", **FAST)
    stats = run_worker(queue, lambda m: seen.append(m.json()["n"]), batch)
    assert stats.succeeded == 10 and len(seen) == 10
    stats = run_worker(queue, lambda m: seen.append(m.json()["n"]), batch)
    assert stats.succeeded == 2 and sorted(seen) == list(range(12))  # fewer when it runs dry
