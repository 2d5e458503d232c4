"""The review index (GSI2 on labels) and the reviewer's compare-and-put, on both backends."""

from __future__ import annotations

import pytest
from dynamo_factories import at, label, new_id, whole_receipt

from receipt_dynamo import ReceiptStore, StaleLabelError, ValidationStatus


def _write(store: ReceiptStore, confidences: list[float]) -> tuple[str, list]:
    image_id = new_id()
    rec, lines, words, _ = whole_receipt(image_id, n_lines=1, words_per_line=len(confidences))
    labels = [label(image_id, 1, 1, i + 1).with_changes(confidence=c)
              for i, c in enumerate(confidences)]
    store.write_receipt(rec, lines, words, labels)
    return image_id, labels


def test_queue_pages_proposals_lowest_confidence_first(store: ReceiptStore) -> None:
    _write(store, [0.9, 0.2, 0.55])
    _write(store, [0.1, 0.75])
    seen, start = [], None
    while True:
        page, start = store.review_queue(limit=2, start_key=start)
        seen += [lab.confidence for lab in page]
        if start is None:
            break
    assert seen == [0.1, 0.2, 0.55, 0.75, 0.9]
    capped, _ = store.review_queue(max_confidence=0.55, limit=10)
    assert [lab.confidence for lab in capped] == [0.1, 0.2, 0.55]
    assert store.count_labels("PENDING") == 5
    with pytest.raises(ValueError, match="proposals"):
        store.review_queue("VALID")


def test_a_decided_label_leaves_the_queue_and_counts_as_reviewed_that_day(
    store: ReceiptStore,
) -> None:
    _, labels = _write(store, [0.3, 0.4])
    decided = labels[0].with_changes(validation_status=ValidationStatus.VALID,
                                     reviewed_by="ana", reviewed_at=at(60))
    store.put_labels_if_unchanged([(decided, labels[0])])
    page, _ = store.review_queue(limit=10)
    assert [lab.confidence for lab in page] == [0.4]
    assert store.count_reviewed(at(60)[:10]) == 1
    assert store.count_labels("VALID") == 1
    stored = store.get_word_label(decided.image_id, 1, 1, 1, decided.label)
    assert (stored.reviewed_by, stored.reviewed_at) == ("ana", at(60))


def test_compare_and_put_refuses_a_row_changed_since_it_was_read(store: ReceiptStore) -> None:
    _, labels = _write(store, [0.3, 0.4])
    opened = list(labels)
    first = opened[0].with_changes(validation_status="VALID", reviewed_by="ana",
                                   reviewed_at=at(60))
    store.put_labels_if_unchanged([(first, opened[0])])
    # A second reviewer read the same rows before the first one saved.
    second = [(opened[0].with_changes(validation_status="INVALID", reviewed_by="bo",
                                      reviewed_at=at(61)), opened[0]),
              (opened[1].with_changes(validation_status="VALID", reviewed_by="bo",
                                      reviewed_at=at(61)), opened[1])]
    with pytest.raises(StaleLabelError, match="changed since it was read"):
        store.put_labels_if_unchanged(second)
    kept = {lab.word_id: lab for lab in store.list_word_labels(labels[0].image_id, 1)}
    assert kept[1].reviewed_by == "ana" and kept[1].validation_status == "VALID"
    assert kept[2].validation_status == "PENDING"  # nothing of the stale group was written
    new_row = label(labels[0].image_id, 1, 1, 2, "DATE", ValidationStatus.VALID, by="ana")
    store.put_labels_if_unchanged([(new_row, None)])
    with pytest.raises(StaleLabelError):
        store.put_labels_if_unchanged([(new_row.with_changes(reviewed_by="bo"), None)])


def test_proposals_stored_before_the_index_are_reindexed(store: ReceiptStore) -> None:
    _, labels = _write(store, [0.3])
    item = labels[0].to_item()
    del item["GSI2PK"], item["GSI2SK"]
    store.table.put_item(item)
    assert store.review_queue(limit=5)[0] == []
    assert store.reindex_review_labels() == 1
    assert [lab.confidence for lab in store.review_queue(limit=5)[0]] == [0.3]
