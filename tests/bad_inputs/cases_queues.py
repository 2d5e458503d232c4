"""Corpus rows: messages and calls SQS would refuse, sent to the local queue.

An app tested on the local queue must not meet a new refusal on AWS, so the local backend
refuses the same bodies and arguments, each with one line naming the limit.
"""

from __future__ import annotations

import threading
from typing import Any

from bad_input_harness import Case, Workspace

from receipt_cloud.queues.local import LocalQueue

G = "queues"
NUL_TEXT = "a\x00b"


def queue(ws: Workspace) -> LocalQueue:
    return LocalQueue(ws.root / "queues.sqlite3", "jobs")


def seeded(ws: Workspace) -> None:
    queue(ws).send({"export_id": "seed"})


def only_seed_queued(ws: Workspace, _before: Any) -> None:
    q = queue(ws)
    messages = q.receive(max_messages=10)
    assert [m.json() for m in messages] == [{"export_id": "seed"}]


def send(body: Any, **kwargs: Any) -> Any:
    return lambda ws: queue(ws).send(body, **kwargs)


def refused(name: str, command: Any, message: str) -> Case:
    return Case(name=name, group=G, setup=seeded, command=command, exit_code=2,
                message=message, check=only_seed_queued)


def stale_delete(ws: Workspace) -> None:
    q = queue(ws)
    q.send({"export_id": "x"})
    first = q.receive(visibility_timeout=0)[0]
    q.receive()  # redelivered at once: the first handle is stale now
    q.delete(first)


def consumers_share_without_duplicates(ws: Workspace) -> str:
    q, count = queue(ws), 60
    for i in range(count):
        q.send({"n": i})
    seen: list[int] = []
    lock = threading.Lock()

    def consume() -> None:
        mine = LocalQueue(ws.root / "queues.sqlite3", "jobs")
        while batch := mine.receive(max_messages=10, visibility_timeout=60):
            for message in batch:
                mine.delete(message)
                with lock:
                    seen.append(message.json()["n"])

    threads = [threading.Thread(target=consume) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return f"received {len(seen)} messages, {len(set(seen))} distinct, {q.approximate_count()} left"


CASES = [
    refused("body_over_256_kib", send("x" * (256 * 1024 + 1)),
            r"error: message body is 262145 bytes; SQS allows at most 262144 \(256 KiB\): .*"),
    refused("body_multibyte_over_256_kib", send("é" * (128 * 1024 + 1)),
            r"error: message body is 262146 bytes; SQS allows at most 262144 \(256 KiB\): .*"),
    refused("body_with_nul", send("a\x00b"),
            r"error: message body holds character U\+0000 at position 1, which SQS rejects; .*"),
    refused("body_with_control_character", send("bell\x07"),
            r"error: message body holds character U\+0007 at position 4, which SQS rejects; .*"),
    refused("body_with_lone_surrogate", send("\ud800"),
            r"error: message body holds character U\+D800 at position 0, which SQS rejects; .*"),
    refused("body_empty", send(""),
            r"error: message body is empty; SQS needs at least one character"),
    refused("body_not_json_serialisable", send({"when": object()}),
            r"error: message body is not JSON-serialisable \(.*\); convert such values .*"),
    refused("delay_beyond_15_minutes", send("x", delay_seconds=901),
            r"error: delay_seconds must be 0\.\.900, got 901"),
    refused("receive_more_than_10", lambda ws: queue(ws).receive(max_messages=11),
            r"error: max_messages must be 1\.\.10, got 11"),
    refused("visibility_beyond_12_hours", lambda ws: queue(ws).receive(visibility_timeout=43201),
            r"error: visibility timeout must be 0\.\.43200 s, got 43201"),
    refused("relative_queue_url", lambda ws: LocalQueue.from_url("local://queues.db#jobs"),
            r"error: local queue URL 'local://queues\.db#jobs' needs an absolute path: .*"),
    Case(name="stale_receipt_handle_delete", group=G, command=stale_delete, exit_code=2,
         message=r"error: receipt handle '.*'\.\.\. is stale on queue .*",
         check=lambda ws, _b: None),
    Case(name="dict_body_with_nul_is_escaped_not_refused", group=G,
         command=lambda ws: f"sent {queue(ws).send({'text': NUL_TEXT})}", exit_code=0,
         message=r"sent [0-9a-f-]{36}",
         check=lambda ws, _b: None),
    Case(name="three_consumers_share_without_duplicates", group=G,
         command=consumers_share_without_duplicates, exit_code=0,
         message=r"received 60 messages, 60 distinct, 0 left", check=lambda ws, _b: None),
]
