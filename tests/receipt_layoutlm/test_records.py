"""records_from_document ↔ document_from_details, label conflicts, all-or-nothing receipt writes."""

from __future__ import annotations

import math

import pytest

from receipt_dynamo import ReceiptWordLabel, open_store
from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.importers import import_documents
from receipt_layoutlm.records import (
    document_from_details,
    import_image_id,
    records_from_document,
    resolve_word_labels,
)


def _word(text, x, y, *, line_id=None, word_id=None, label=None, w=40.0, h=20.0):
    return DocWord(text=text, corners=((x, y), (x + w, y), (x + w, y + h), (x, y + h)),
                   line_id=line_id, word_id=word_id, label=label)


def _doc(key="test:1", **kwargs):
    words = [
        _word("SHOP", 10, 10, line_id=1, word_id=1, label="MERCHANT_NAME"),
        _word("ONE", 60, 10, line_id=1, word_id=2, label="MERCHANT_NAME"),
        _word("TOTAL", 10, 60, line_id=2, word_id=1),
        _word("9.00", 120, 60, line_id=2, word_id=2, label="GRAND_TOTAL"),
    ]
    return ReceiptDocument(key=key, width=200.0, height=100.0, words=words, **kwargs)


@pytest.fixture
def store(tmp_path):
    with open_store("sqlite", path=tmp_path / "r.sqlite") as s:
        yield s


def test_records_document_round_trip(store):
    doc = _doc()
    records = records_from_document(doc, source="TEST", label_proposed_by="test")
    assert records.image.image_id == import_image_id(doc.key) == records.receipt.image_id
    assert [line.text for line in records.lines] == ["SHOP ONE", "TOTAL 9.00"]
    assert records.lines[0].bounding_box.width == pytest.approx(90.0)
    assert len(records.labels) == 3 and {lab.validation_status for lab in records.labels} == {
        "VALID"}
    store.write_receipt(records.receipt, records.lines, records.words, records.labels)
    back = document_from_details(store.get_receipt_details(records.image.image_id, 1))
    assert back.key == f"{records.image.image_id}#00001"
    assert (back.width, back.height, back.origin, back.normalized) == (200.0, 100.0, "top-left",
                                                                       False)
    assert back.words == doc.words


def test_words_without_line_ids_get_lines_from_the_encoding_spec():
    doc = ReceiptDocument(key="k", width=1.0, height=1.0, normalized=True, origin="bottom-left",
                          words=[_word("B", 0.5, 0.8, w=0.1, h=0.05),
                                 _word("A", 0.1, 0.8, w=0.1, h=0.05),
                                 _word("C", 0.1, 0.2, w=0.1, h=0.05)])
    records = records_from_document(doc, source="T", label_proposed_by="t")
    # Bottom-left origin: y = 0.8 is the top line; words left to right.
    assert [(w.line_id, w.word_id, w.text) for w in records.words] == [
        (1, 1, "A"), (1, 2, "B"), (2, 1, "C")]
    assert records.words[0].normalized and records.words[0].origin == "bottom-left"
    assert (records.receipt.width, records.receipt.height) == (1, 1)


def test_words_without_word_ids_keep_ocr_lines_and_number_left_to_right():
    words = [
        DocWord("Z", ((0.6, 0.1), (0.7, 0.1), (0.7, 0.15), (0.6, 0.15)), line_id=7),
        DocWord("Y", ((0.1, 0.1), (0.2, 0.1), (0.2, 0.15), (0.1, 0.15)), line_id=7),
        DocWord("X", ((0.1, 0.5), (0.2, 0.5), (0.2, 0.55), (0.1, 0.55)), line_id=3),
    ]
    doc = ReceiptDocument(key="k2", width=1.0, height=1.0, normalized=True, words=words)
    records = records_from_document(doc, source="T", label_proposed_by="t")
    assert sorted((w.line_id, w.word_id, w.text) for w in records.words) == [
        (3, 1, "X"), (7, 1, "Y"), (7, 2, "Z")]


def test_label_conflicts_newest_wins_and_are_counted(store):
    records = records_from_document(_doc(), source="T", label_proposed_by="t")
    image_id = records.image.image_id
    store.write_receipt(records.receipt, records.lines, records.words, records.labels)
    common = {"image_id": image_id, "receipt_id": 1, "line_id": 2, "word_id": 2,
              "label_proposed_by": "person"}
    store.add_word_label(ReceiptWordLabel(**common, label="LINE_TOTAL", validation_status="VALID",
                                          timestamp_added="2100-01-01T00:00:00+00:00"))
    store.add_word_label(ReceiptWordLabel(**common, label="TAX", validation_status="PENDING",
                                          timestamp_added="2200-01-01T00:00:00+00:00"))
    details = store.get_receipt_details(image_id, 1)
    assert resolve_word_labels(details.labels).conflicts == 1
    labels = {w.text: w.label for w in document_from_details(details).words}
    assert labels["9.00"] == "LINE_TOTAL"  # newest VALID label; PENDING ignored
    pending = {w.text: w.label for w in document_from_details(details, statuses=("PENDING",)).words}
    assert pending == {"SHOP": None, "ONE": None, "TOTAL": None, "9.00": "TAX"}


def test_a_failing_receipt_leaves_nothing_and_the_rest_imports(store):
    bad_word = DocWord(text="BAD", corners=((math.nan, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)),
                       line_id=3, word_id=1)
    bad = _doc("test:bad")
    bad.words.append(bad_word)
    unknown = _doc("test:unknown-label")
    unknown.words[0] = _word("SHOP", 10, 10, line_id=1, word_id=1, label="NOT_A_LABEL")
    report = import_documents(store, [_doc("test:a"), bad, unknown, _doc("test:b")],
                              source="T", label_proposed_by="t")
    assert (report.receipts_written, report.receipts_failed) == (2, 2)
    assert {p.file for p in report.problems} == {"test:bad", "test:unknown-label"}
    for key in ("test:bad", "test:unknown-label"):
        assert store.list_receipts(import_image_id(key)) == []
        assert list(store.table.iter_query(None, f"IMAGE#{import_image_id(key)}")) == []
    assert len(store.list_receipts()) == 2


def test_label_ties_go_to_the_alphabetically_first_name():
    from receipt_dynamo import register_labels

    register_labels(["TAX_RATE"])  # a prefix pair: TAX sorts before TAX_RATE
    common = {"image_id": import_image_id("test:1"), "receipt_id": 1, "line_id": 1, "word_id": 1,
              "label_proposed_by": "t", "validation_status": "VALID",
              "timestamp_added": "2100-01-01T00:00:00+00:00", "confidence": 0.5}
    same = [ReceiptWordLabel(**common, label=name) for name in ("TAX_RATE", "TAX")]
    assert resolve_word_labels(same).by_word[(1, 1)] == "TAX"
    assert resolve_word_labels(reversed(same)).by_word[(1, 1)] == "TAX"
    surer = ReceiptWordLabel(**{**common, "confidence": 0.9}, label="TAX_RATE")
    assert resolve_word_labels([*same, surer]).by_word[(1, 1)] == "TAX_RATE"
    newer = ReceiptWordLabel(**{**common, "timestamp_added": "2101-01-01T00:00:00+00:00",
                                "confidence": 0.1}, label="TIP")
    assert resolve_word_labels([*same, surer, newer]).by_word[(1, 1)] == "TIP"


def test_store_keys_and_dataset_keys():
    from receipt_layoutlm.records import dataset_key, receipt_ids, store_key

    image_id = "0b7a3d5e-1c2f-4e6a-9b8d-7f6e5d4c3b2a"
    assert receipt_ids(store_key(image_id, 3)) == (image_id, 3)
    assert receipt_ids("sroie:X1") == (import_image_id("sroie:X1"), 1)
    assert receipt_ids(f"{image_id}#3") == (import_image_id(f"{image_id}#3"), 1)
    imported = records_from_document(_doc("sroie:X1"), source="T", label_proposed_by="t")
    assert dataset_key(imported.receipt) == "sroie:X1"
    other = records_from_document(_doc("sroie:X1"), image_id=image_id, source="T",
                                  label_proposed_by="t")
    assert dataset_key(other.receipt) == f"{image_id}#00001"
