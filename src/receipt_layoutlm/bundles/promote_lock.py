"""One promote at a time per bundles store: ``bundles/promote.lock``, created exclusively.

Promoting writes the seed's ``coreml/`` mirror (many objects) and then ``bundles/active.json``;
two promotes interleaving could leave the mirror holding files of both bundles, or a mirror
that disagrees with the pointer. Every promote and rollback holds this lock, which is one object
created only when absent (``ObjectStore.create_if_absent``: ``O_EXCL``-style on a directory,
``If-None-Match: *`` on S3), so it works across processes and machines. A lock left behind by a
killed process is taken over once it is older than ``stale_after`` seconds.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from receipt_layoutlm.errors import CheckpointError

if TYPE_CHECKING:
    from receipt_cloud.objects import ObjectStore

log = logging.getLogger(__name__)

LOCK_KEY = "bundles/promote.lock"
WAIT_SECONDS = 900.0
"""How long a promote waits for another one to finish before giving up."""
STALE_SECONDS = 1800.0
"""A lock older than this was left by a process that died mid-promote; it is taken over."""
_POLL_SECONDS = 0.1


def _age_seconds(store: ObjectStore) -> float | None:
    try:
        held = json.loads(store.get_bytes(LOCK_KEY))
        since = datetime.fromisoformat(str(held["acquired_at"]))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        return STALE_SECONDS  # unreadable: nobody can prove they hold it
    return (datetime.now(UTC) - since).total_seconds()


@contextlib.contextmanager
def promote_lock(
    store: ObjectStore, *, wait: float = WAIT_SECONDS, stale_after: float = STALE_SECONDS
) -> Iterator[None]:
    """Hold the bundles store's promote lock for the block (waits up to ``wait`` seconds;
    :class:`CheckpointError` when it cannot be had)."""
    token = {
        "owner": f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}",
        "acquired_at": datetime.now(UTC).isoformat(),
    }
    deadline = time.monotonic() + wait
    while True:
        token["acquired_at"] = datetime.now(UTC).isoformat()
        if store.create_if_absent(LOCK_KEY, json.dumps(token).encode()):
            break
        age = _age_seconds(store)
        if age is not None and age >= stale_after:
            log.warning("promote lock %s is %.0f s old (its holder died): taking it over",
                        store.uri(LOCK_KEY), age)
            store.delete(LOCK_KEY)
            continue
        if time.monotonic() >= deadline:
            raise CheckpointError(
                f"another promote holds {store.uri(LOCK_KEY)} for over {wait:.0f} s; try again "
                "later, or delete it if no promote is running"
            )
        time.sleep(_POLL_SECONDS)
    try:
        yield
    finally:
        store.delete(LOCK_KEY)
