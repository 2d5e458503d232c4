"""The review queue: receipts with proposals, the one the model is least sure of first.

Order: a receipt's uncertainty is the LOWEST confidence among its waiting proposals (PENDING
word labels); receipts come in ascending order of it — a receipt with one doubtful word comes
before one that is uniformly fairly sure, because that word is where a correction teaches most.
Ties break by the store's key order.

The store's review index (GSI2) lists proposals by confidence, so the queue walks it from the
lowest and yields each receipt where its first (lowest) proposal appears. A page ends at the
proposal that filled it; the cursor resumes after that proposal, and a receipt met again later
is recognised because its lowest proposal lies before the cursor.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from receipt_dynamo import ReceiptStore, ReceiptWordLabel, ValidationStatus, keys
from receipt_review.errors import ReviewError

MERCHANT_LABELS = ("MERCHANT_NAME", "COMPANY")
"""Labels whose words name the merchant in the queue (core vocabulary, SROIE's)."""
_CURSOR_KEYS = ("PK", "SK", "GSI2PK", "GSI2SK")
_INDEX_PAGE = 200


@dataclass(frozen=True)
class QueueFilter:
    """What the reviewer narrowed the queue to (all optional)."""

    label: str | None = None
    """Only receipts with a waiting proposal of this label."""
    merchant: str | None = None
    """Only receipts whose merchant words contain this text (case-insensitive)."""
    max_confidence: float | None = None
    """Only receipts whose least certain proposal is at most this confident."""


@dataclass(frozen=True)
class QueueEntry:
    """One receipt of the queue."""

    image_id: str
    receipt_id: int
    uncertainty: float
    """Lowest confidence of its waiting proposals (the sort key)."""
    pending: int
    """Waiting proposals."""
    labels: tuple[str, ...]
    """The labels those proposals name."""
    merchant: str
    """Words labelled as the merchant, in reading order ('' when none)."""


@dataclass(frozen=True)
class QueuePage:
    entries: list[QueueEntry]
    cursor: str | None
    """Opaque token of the next page (None: the end)."""


def _sort_key(label: ReceiptWordLabel) -> str:
    return label.to_item()["GSI2SK"]


def encode_cursor(label: ReceiptWordLabel) -> str:
    item = label.to_item()
    raw = json.dumps({k: item[k] for k in _CURSOR_KEYS}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, str]:
    """The index key a cursor names; a cursor the app did not make is refused."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError):
        raise ReviewError("the queue cursor is not one this app made; start from the first "
                          "page") from None
    pending_pk = keys.validation_status_pk(ValidationStatus.PENDING.value)
    if (not isinstance(key, dict) or sorted(key) != sorted(_CURSOR_KEYS)
            or not all(isinstance(v, str) and len(v) < 600 for v in key.values())
            or key["GSI2PK"] != pending_pk):
        raise ReviewError("the queue cursor is not one this app made; start from the first page")
    return key


def lowest_waiting(labels: list[ReceiptWordLabel]) -> ReceiptWordLabel | None:
    """The receipt's least certain PENDING proposal (None when nothing waits)."""
    waiting = [lab for lab in labels if lab.validation_status == ValidationStatus.PENDING]
    return min(waiting, key=_sort_key) if waiting else None


def summarise(store: ReceiptStore, image_id: str, receipt_id: int,
              labels: list[ReceiptWordLabel]) -> QueueEntry:
    """The queue entry of one receipt from its label rows (words are read only for the
    merchant: a few point reads)."""
    waiting = [lab for lab in labels if lab.validation_status == ValidationStatus.PENDING]
    lowest = lowest_waiting(labels)
    merchant_words = sorted({(lab.line_id, lab.word_id) for lab in labels
                             if lab.label in MERCHANT_LABELS
                             and lab.validation_status != ValidationStatus.INVALID})
    merchant = " ".join(store.get_receipt_word(image_id, receipt_id, *ids).text
                        for ids in merchant_words[:12])
    return QueueEntry(
        image_id=image_id, receipt_id=receipt_id,
        uncertainty=(lowest.confidence or 0.0) if lowest else 1.0,
        pending=len(waiting), labels=tuple(sorted({lab.label for lab in waiting})),
        merchant=merchant[:120],
    )


def _wanted(entry: QueueEntry, wanted: QueueFilter) -> bool:
    if wanted.label and wanted.label not in entry.labels:
        return False
    return not (wanted.merchant and wanted.merchant.lower() not in entry.merchant.lower())


def queue_page(
    store: ReceiptStore, wanted: QueueFilter = QueueFilter(), *, cursor: str | None = None,
    size: int = 20, scan_limit: int = 400,
) -> QueuePage:
    """One page of the queue (see the module docstring for the order)."""
    start = decode_cursor(cursor) if cursor else None
    after = start["GSI2SK"] if start else ""
    entries: list[QueueEntry] = []
    seen: set[tuple[str, int]] = set()
    while True:
        labels, next_key = store.review_queue(
            max_confidence=wanted.max_confidence, limit=_INDEX_PAGE, start_key=start)
        for label in labels:
            ids = (label.image_id, int(label.receipt_id))
            if ids in seen:
                continue
            seen.add(ids)
            labels_now = store.list_word_labels(*ids)
            lowest = lowest_waiting(labels_now)
            if lowest is None:  # decided meanwhile
                continue
            if _sort_key(lowest) < _sort_key(label) and _sort_key(lowest) <= after:
                continue  # shown on an earlier page, where its lowest proposal was
            try:
                entry = summarise(store, *ids, labels_now)
            except (ValueError, LookupError):  # a word went away meanwhile
                continue
            if not _wanted(entry, wanted):
                continue
            entries.append(entry)
            if len(entries) >= size or len(seen) >= scan_limit:
                return QueuePage(entries, encode_cursor(label))
        if next_key is None:
            return QueuePage(entries, None)
        start = next_key


def queue_counts(store: ReceiptStore, now: datetime | None = None) -> dict[str, int]:
    """Waiting proposals and decisions made today (UTC)."""
    day = (now or datetime.now(UTC)).strftime("%Y-%m-%d")
    return {"pending": store.count_labels(ValidationStatus.PENDING),
            "reviewed_today": store.count_reviewed(day)}
