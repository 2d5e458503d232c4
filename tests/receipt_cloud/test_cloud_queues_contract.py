"""One contract for every Queue backend: the SQLite local queue and SQS on the moto server.

The local queue runs on a manual clock (``queue_clock``) that the tests advance, so its
visibility windows, delays and long polls take no real time; SQS keeps real time."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from receipt_cloud.errors import StaleReceiptHandleError
from receipt_cloud.queues import Message, Queue, open_queue
from receipt_cloud.queues.sqs import _is_stale_handle


@pytest.fixture
def make_queue(make_queue, queue_clock):
    """The backend's queue factory, local queues on the test's clock."""
    return functools.partial(make_queue, clock=queue_clock)


def receive_until(queue: Queue, count: int, clock, *, timeout: float = 6.0,
                  **kwargs) -> list[Message]:
    """Receive (max 10 per call) until ``count`` messages arrived or ``timeout`` seconds of
    ``clock`` passed."""
    got: list[Message] = []
    deadline = clock.monotonic() + timeout
    while len(got) < count and clock.monotonic() < deadline:
        got.extend(queue.receive(max_messages=min(10, count - len(got)), wait_seconds=1, **kwargs))
    return got


def test_send_receive_round_trip(make_queue, queue_clock) -> None:
    queue = make_queue(visibility_timeout=30)
    job = {"image_id": "img-1", "job_id": "job-1", "n": 3}
    job_id = queue.send(job)
    text_id = queue.send("plain text")
    messages = {m.message_id: m for m in receive_until(queue, 2, queue_clock)}
    assert set(messages) == {job_id, text_id}
    assert messages[job_id].json() == job
    assert messages[text_id].body == "plain text"
    assert all(m.receive_count == 1 for m in messages.values())
    handles = [m.receipt_handle for m in messages.values()]
    assert all(handles) and len(set(handles)) == 2


def test_empty_receive_returns_nothing_after_the_wait(make_queue, queue_clock) -> None:
    queue = make_queue()
    assert queue.receive() == []
    start = queue_clock.monotonic()
    assert queue.receive(wait_seconds=1) == []
    assert queue_clock.monotonic() - start >= 0.9


def test_long_poll_returns_when_a_message_arrives(make_queue, queue_clock) -> None:
    queue = make_queue()
    queue_clock.call_later(0.5, queue.send, "late")
    start = queue_clock.monotonic()
    messages = queue.receive(wait_seconds=10)
    elapsed = queue_clock.monotonic() - start
    assert [m.body for m in messages] == ["late"]
    assert 0.3 <= elapsed < 5


def test_visibility_timeout_hides_then_redelivers(make_queue, queue_clock) -> None:
    queue = make_queue(visibility_timeout=1)
    queue.send("work")
    [first] = queue.receive()
    received_at = queue_clock.monotonic()
    assert queue.receive() == []  # hidden inside its window
    [second] = receive_until(queue, 1, queue_clock)
    assert queue_clock.monotonic() - received_at >= 0.9
    assert second.message_id == first.message_id
    assert (first.receive_count, second.receive_count) == (1, 2)
    assert second.receipt_handle != first.receipt_handle


def test_receive_can_override_the_visibility_timeout(make_queue, queue_clock) -> None:
    queue = make_queue(visibility_timeout=60)
    queue.send("short")
    [first] = queue.receive(visibility_timeout=1)
    [again] = receive_until(queue, 1, queue_clock)
    assert again.message_id == first.message_id


def test_delete_removes_for_good(make_queue, queue_clock) -> None:
    queue = make_queue(visibility_timeout=1)
    queue.send("a")
    queue.send("b")
    messages = receive_until(queue, 2, queue_clock)
    queue.delete(messages[0])
    queue.delete(messages[1].receipt_handle)
    queue_clock.advance(1.5)
    assert queue.receive(max_messages=10) == []
    assert queue.approximate_count() == 0


def test_change_visibility_to_zero_makes_it_visible_at_once(make_queue) -> None:
    queue = make_queue(visibility_timeout=60)
    queue.send("retry me")
    [first] = queue.receive()
    assert queue.receive() == []
    queue.change_visibility(first, 0)
    [again] = queue.receive()
    assert again.message_id == first.message_id
    assert again.receive_count == 2


def test_change_visibility_extends_the_window(make_queue, queue_clock) -> None:
    queue = make_queue(visibility_timeout=1)
    queue.send("slow job")
    [message] = queue.receive()
    queue.change_visibility(message, 5)
    queue_clock.advance(2)
    assert queue.receive() == []
    queue.change_visibility(message, 0)
    assert [m.message_id for m in queue.receive()] == [message.message_id]


def test_change_visibility_after_delete_is_a_stale_handle(make_queue) -> None:
    queue = make_queue(visibility_timeout=30)
    queue.send("x")
    [message] = queue.receive()
    queue.delete(message)
    with pytest.raises(StaleReceiptHandleError):
        queue.change_visibility(message, 10)


def test_dead_letter_after_max_receives(make_queue, queue_clock) -> None:
    queue = make_queue(visibility_timeout=30, max_receives=2)
    poison_id = queue.send({"poison": True})
    for attempt in (1, 2):
        [message] = queue.receive()
        assert message.receive_count == attempt
        queue.change_visibility(message, 0)  # "failed": hand it back at once
    assert queue.receive(max_messages=10) == []  # third receive dead-letters instead
    dlq = queue.dead_letter_queue()
    assert dlq is not None
    [moved] = receive_until(dlq, 1, queue_clock)
    assert moved.message_id == poison_id
    assert moved.json() == {"poison": True}
    assert queue.approximate_count() == 0
    assert dlq.dead_letter_queue() is None


def test_approximate_count_counts_visible_messages(make_queue) -> None:
    queue = make_queue(visibility_timeout=30)
    assert queue.approximate_count() == 0
    for i in range(3):
        queue.send(f"m{i}")
    assert queue.approximate_count() == 3
    assert len(queue.receive()) == 1
    assert queue.approximate_count() == 2


def test_delay_seconds_hides_a_new_message(make_queue, queue_clock) -> None:
    queue = make_queue()
    sent_at = queue_clock.monotonic()
    queue.send("later", delay_seconds=1)
    assert queue.receive() == []
    [message] = receive_until(queue, 1, queue_clock)
    assert message.body == "later"
    assert queue_clock.monotonic() - sent_at >= 0.9


def test_batch_receive_and_limits(make_queue) -> None:
    queue = make_queue(visibility_timeout=30)
    sent = {queue.send({"i": i}) for i in range(12)}
    got: list[Message] = []
    while len(got) < 12:
        batch = queue.receive(max_messages=10, wait_seconds=1)
        assert 1 <= len(batch) <= 10
        got.extend(batch)
    assert {m.message_id for m in got} == sent
    assert len(got) == 12
    for bad in (0, 11):
        with pytest.raises(ValueError, match="max_messages"):
            queue.receive(max_messages=bad)
    with pytest.raises(ValueError, match="delay_seconds"):
        queue.send("x", delay_seconds=901)


def test_open_queue_by_url_reaches_the_same_queue(make_queue, queue_clock) -> None:
    queue = make_queue(visibility_timeout=30)
    same = open_queue(queue.url)
    assert same.url == queue.url
    sent_id = same.send({"via": "url"})
    [message] = receive_until(queue, 1, queue_clock)
    assert (message.message_id, message.json()) == (sent_id, {"via": "url"})


def test_a_body_that_is_not_json_is_refused_not_stringified(make_queue) -> None:
    queue = make_queue()
    with pytest.raises(TypeError, match="not JSON-serialisable"):
        queue.send({"when": datetime.now(UTC)})
    assert queue.receive() == []


@pytest.mark.parametrize(
    ("code", "message", "stale"),
    [
        ("ReceiptHandleIsInvalid", "The input receipt handle is invalid.", True),
        ("AWS.SimpleQueueService.MessageNotInflight", "Message not inflight.", True),
        ("InvalidParameterValue", 'Value "abc" for parameter ReceiptHandle is invalid.', True),
        ("InvalidParameterValue", "The receipt handle has expired.", True),
        ("InvalidParameterValue", "Value 99999 for parameter VisibilityTimeout is invalid.",
         False),
        ("AccessDenied", "Access to the resource is denied.", False),
    ],
)
def test_only_handle_errors_count_as_stale_handles(code: str, message: str, stale: bool) -> None:
    error = ClientError({"Error": {"Code": code, "Message": message}}, "ChangeMessageVisibility")
    assert _is_stale_handle(error) is stale
