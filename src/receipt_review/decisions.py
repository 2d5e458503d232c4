"""A reviewer's decisions, written back as label rows with compare-and-put.

- Relabel a word: the chosen label's row becomes VALID (a new row when the model never proposed
  it, ``label_proposed_by="review:<name>"``); every other PENDING/VALID row of that word becomes
  INVALID, so the model's error stays countable and nothing is deleted. ``O`` (no label)
  invalidates them all.
- Accept a receipt: every word still waiting gets its most confident proposal VALID (others
  INVALID); proposals on words a person already decided become INVALID.

Every decision carries ``reviewed_by``/``reviewed_at``. A save names the receipt version the page
was opened at; a different version now, or a row changed between the read and the write (the
store's ``ItemMatches`` condition), is "changed since you opened it" and nothing is written.
"""

from __future__ import annotations

from receipt_dynamo import (
    EntityNotFoundError,
    ReceiptDetails,
    ReceiptStore,
    ReceiptWordLabel,
    StaleLabelError,
    ValidationStatus,
    register_labels,
    utc_now,
)
from receipt_dynamo.store import LabelChange
from receipt_dynamo.vocabulary import is_label_name
from receipt_review.errors import ReviewError, conflict
from receipt_review.receipt_view import (
    PROPOSAL_STATUSES,
    receipt_version,
    rows_by_word,
    word_decision,
)

NO_LABEL = "O"
"""The picker's choice for "this word has no label"."""



def load_details(store: ReceiptStore, image_id: str, receipt_id: int) -> ReceiptDetails:
    try:
        return store.get_receipt_details(image_id, receipt_id)
    except EntityNotFoundError:
        raise ReviewError(f"receipt {receipt_id} of image {image_id} is not in the store",
                          status=404) from None
    except ValueError as exc:  # a malformed image id in the URL
        raise ReviewError(f"no such receipt: {exc}", status=404) from None


def _decided(row: ReceiptWordLabel, status: ValidationStatus, reviewer: str,
             now: str) -> ReceiptWordLabel:
    return row.with_changes(validation_status=status, reviewed_by=reviewer, reviewed_at=now,
                            timestamp_added=now)


def _save(store: ReceiptStore, changes: list[LabelChange]) -> int:
    try:
        store.put_labels_if_unchanged(changes)
    except StaleLabelError:
        raise conflict() from None
    return len(changes)


def check_label_choice(label: str, vocabulary: list[str]) -> str:
    if label == NO_LABEL:
        return label
    if not is_label_name(label) or label not in vocabulary:
        shown = label if len(label) <= 40 else label[:40] + "…"
        raise ReviewError(f"unknown label {shown!r}; choose one of the picker's labels or "
                          f"{NO_LABEL!r} for none")
    return label


def relabel_word(
    store: ReceiptStore, image_id: str, receipt_id: int, line_id: int, word_id: int, label: str,
    *, version: str, reviewer: str, vocabulary: list[str],
) -> int:
    """Set one word's label (``O``: none); returns the rows written."""
    label = check_label_choice(label, vocabulary)
    details = load_details(store, image_id, receipt_id)
    if not any((w.line_id, w.word_id) == (line_id, word_id) for w in details.words):
        raise ReviewError(f"word (line {line_id}, word {word_id}) is not on receipt "
                          f"{receipt_id} of image {image_id}", status=404)
    if receipt_version(details.labels) != version:
        raise conflict()
    register_labels([lab for lab in vocabulary if lab != NO_LABEL])
    now = utc_now()
    rows = rows_by_word(details.labels).get((line_id, word_id), [])
    changes: list[LabelChange] = []
    for row in rows:
        if row.label == label and row.validation_status != ValidationStatus.VALID:
            changes.append((_decided(row, ValidationStatus.VALID, reviewer, now), row))
        elif row.label != label and row.validation_status != ValidationStatus.INVALID:
            changes.append((_decided(row, ValidationStatus.INVALID, reviewer, now), row))
    if label != NO_LABEL and not any(row.label == label for row in rows):
        changes.append((ReceiptWordLabel(
            image_id=image_id, receipt_id=receipt_id, line_id=line_id, word_id=word_id,
            label=label, label_proposed_by=f"review:{reviewer}",
            validation_status=ValidationStatus.VALID, reasoning="set in review",
            timestamp_added=now, reviewed_by=reviewer, reviewed_at=now,
        ), None))
    return _save(store, changes)


def accept_receipt(
    store: ReceiptStore, image_id: str, receipt_id: int, *, version: str, reviewer: str
) -> int:
    """Decide every proposal of the receipt as it stands; returns the rows written."""
    details = load_details(store, image_id, receipt_id)
    if receipt_version(details.labels) != version:
        raise conflict()
    now = utc_now()
    changes: list[LabelChange] = []
    for rows in rows_by_word(details.labels).values():
        keep = word_decision(rows)
        for row in rows:
            if row.validation_status not in PROPOSAL_STATUSES:
                continue
            status = ValidationStatus.VALID if row is keep else ValidationStatus.INVALID
            changes.append((_decided(row, status, reviewer, now), row))
    return _save(store, changes)
