"""Local SQLite queue: stale handles, persisted config, URLs, and safety across processes."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest

from receipt_cloud.errors import InvalidUriError, StaleReceiptHandleError, UnknownSchemeError
from receipt_cloud.queues import LocalQueue, local_queue_url, open_queue, parse_local_url
from receipt_cloud.queues.clock import ManualClock


def test_url_round_trip_and_errors(tmp_path: Path) -> None:
    db = tmp_path / "dir with space" / "queues.sqlite3"
    queue = LocalQueue(db, "ocr-jobs")
    assert queue.url.startswith("local:///")
    assert parse_local_url(queue.url) == (db, "ocr-jobs")
    assert local_queue_url(db, "ocr-jobs") == queue.url
    with pytest.raises(InvalidUriError, match="#queue-name"):
        open_queue(f"local://{db}")
    with pytest.raises(InvalidUriError, match="absolute"):
        open_queue("local://relative/q.sqlite3#x")
    with pytest.raises(UnknownSchemeError, match="amqp"):
        open_queue("amqp://host/q")
    with pytest.raises(InvalidUriError, match="no scheme"):
        open_queue("just-a-name")


def test_stale_handle_after_redelivery_is_an_error(tmp_path: Path) -> None:
    clock = ManualClock()
    queue = LocalQueue(tmp_path / "q.sqlite3", "jobs", visibility_timeout=0.3, clock=clock)
    queue.send("x")
    [first] = queue.receive()
    clock.advance(0.4)
    [second] = queue.receive()
    for stale_call in (lambda: queue.delete(first), lambda: queue.change_visibility(first, 5)):
        with pytest.raises(StaleReceiptHandleError, match="stale"):
            stale_call()
    queue.delete(second)
    with pytest.raises(StaleReceiptHandleError):
        queue.delete(second)


def test_latest_handle_still_deletes_after_the_window_expires(tmp_path: Path) -> None:
    clock = ManualClock()
    queue = LocalQueue(tmp_path / "q.sqlite3", "jobs", visibility_timeout=0.2, clock=clock)
    queue.send("x")
    [message] = queue.receive()
    clock.advance(0.3)  # visible again, but nobody received it since
    queue.delete(message)
    assert queue.receive() == []


def test_config_persists_in_the_file_and_defaults(tmp_path: Path) -> None:
    db = tmp_path / "q.sqlite3"
    LocalQueue(db, "exports", visibility_timeout=7, max_receives=2)
    reopened = open_queue(local_queue_url(db, "exports"))
    assert isinstance(reopened, LocalQueue)
    assert reopened.config.visibility_timeout == 7
    assert reopened.config.max_receives == 2
    assert reopened.config.dead_letter_queue == "exports-dlq"
    fresh = LocalQueue(db, "fresh")
    assert (fresh.config.max_receives, fresh.config.dead_letter_queue) == (5, "fresh-dlq")
    assert fresh.config.visibility_timeout == 30
    dlq = LocalQueue(db, "fresh-dlq")
    assert (dlq.config.max_receives, dlq.config.dead_letter_queue) == (None, None)
    no_dlq = LocalQueue(db, "nodlq", max_receives=None)
    assert no_dlq.dead_letter_queue() is None


def test_no_dead_lettering_when_disabled(tmp_path: Path) -> None:
    queue = LocalQueue(tmp_path / "q.sqlite3", "keep", max_receives=None)
    queue.send("forever")
    for attempt in range(1, 8):
        [message] = queue.receive(visibility_timeout=0)
        assert message.receive_count == attempt


def test_pickled_queue_reopens_the_same_queue(tmp_path: Path) -> None:
    queue = LocalQueue(tmp_path / "q.sqlite3", "jobs", visibility_timeout=9)
    queue.send("x")
    copy = pickle.loads(pickle.dumps(queue))
    assert copy.url == queue.url
    assert copy.config.visibility_timeout == 9
    assert [m.body for m in copy.receive()] == ["x"]


def test_invalid_names_and_args(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="queue name"):
        LocalQueue(tmp_path / "q.sqlite3", "bad name!")
    with pytest.raises(ValueError, match="max_receives"):
        LocalQueue(tmp_path / "q.sqlite3", "q", max_receives=0)
    with pytest.raises(ValueError, match="own dead-letter"):
        LocalQueue(tmp_path / "q.sqlite3", "q", dead_letter_queue="q")


def test_messages_survive_reopening_and_queues_are_separate(tmp_path: Path) -> None:
    db = tmp_path / "q.sqlite3"
    a, b = LocalQueue(db, "a"), LocalQueue(db, "b")
    a.send("for a")
    b.send("for b")
    a.close()
    assert [m.body for m in LocalQueue(db, "a").receive()] == ["for a"]
    assert [m.body for m in LocalQueue(db, "b").receive()] == ["for b"]
    assert b.purge() == 1


_WORKER = """
import json, os, sys, time
from pathlib import Path
from receipt_cloud.queues import open_queue
url, delete, idle_stop, sync = sys.argv[1], sys.argv[2] == "delete", float(sys.argv[3]), sys.argv[4]
queue = open_queue(url)
# Start together, so one fast-starting process cannot drain the queue alone.
Path(sync, f"ready-{os.getpid()}").touch()
while not Path(sync, "go").exists():
    time.sleep(0.01)
idle_since = time.monotonic()
while time.monotonic() - idle_since < idle_stop:
    batch = queue.receive(max_messages=3, wait_seconds=0.2)
    if batch:
        idle_since = time.monotonic()
    for message in batch:
        print(json.dumps({"id": message.message_id, "body": message.json(),
                          "count": message.receive_count, "at": time.time()}), flush=True)
        if delete:
            time.sleep(0.01)  # "process" it
            queue.delete(message)
"""


def _run_workers(url: str, mode: str, sync: Path, n: int = 2) -> list[dict]:
    sync.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, url, mode, "1.5", str(sync)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    deadline = time.monotonic() + 60
    while len(list(sync.glob("ready-*"))) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    (sync / "go").touch()
    records = []
    for worker, proc in enumerate(procs):
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        records.extend({**json.loads(line), "worker": worker} for line in out.splitlines())
    return records


def test_two_processes_each_message_delivered_exactly_once(tmp_path: Path) -> None:
    queue = LocalQueue(tmp_path / "q.sqlite3", "work", visibility_timeout=30)
    sent = {queue.send({"n": i}) for i in range(50)}
    records = _run_workers(queue.url, "delete", tmp_path / "sync")
    ids = [r["id"] for r in records]
    assert sorted(ids) == sorted(sent)  # every message once, none twice
    assert {r["count"] for r in records} == {1}
    assert len({r["worker"] for r in records}) == 2  # both really competed
    assert queue.approximate_count() == 0
    assert queue.receive() == []


def test_two_processes_never_share_a_message_inside_its_window(tmp_path: Path) -> None:
    queue = LocalQueue(tmp_path / "q.sqlite3", "work", visibility_timeout=20)
    sent = {queue.send({"n": i}) for i in range(50)}
    # Nobody deletes: all 50 stay in flight for the rest of the test.
    records = _run_workers(queue.url, "keep", tmp_path / "sync")
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == 50
    assert set(ids) == sent
    assert queue.approximate_count() == 0  # all 50 still hidden


def test_a_name_whose_dead_letter_queue_would_be_too_long_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "q.sqlite3"
    with pytest.raises(ValueError, match="at most 76 characters"):
        LocalQueue(db, "q" * 77)
    assert LocalQueue(db, "q" * 76).config.dead_letter_queue == "q" * 76 + "-dlq"
    assert LocalQueue(db, "q" * 76 + "-dlq").config.dead_letter_queue is None


def test_a_manual_clock_moves_the_queue_only_when_told(tmp_path: Path) -> None:
    clock = ManualClock(start=1000.0)
    queue = LocalQueue(tmp_path / "q.sqlite3", "jobs", visibility_timeout=30, clock=clock)
    queue.send("x")
    [first] = queue.receive()
    clock.advance(29.9)
    assert queue.receive() == []  # still inside its 30 s window
    seen: list[float] = []
    clock.call_later(0.05, lambda: seen.append(clock.time()))
    clock.advance(0.2)
    assert seen == [pytest.approx(1029.95)]  # the callback ran at the time it asked for
    [again] = queue.receive()
    assert (again.message_id, again.receive_count) == (first.message_id, 2)
    started = time.monotonic()
    assert queue.receive(wait_seconds=20) == []  # a 20 s long poll in clock time
    assert clock.time() >= 1050.1 and time.monotonic() - started < 5
    with pytest.raises(ValueError, match="cannot go back"):
        clock.advance(-1)
