"""Entity metrics (seqeval strict IOB2) and the word-level confusion matrix."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from receipt_layoutlm.evaluation import confusion_matrix, entity_metrics


def test_strict_span_match_counts_by_hand():
    true = [["B-A", "I-A", "O", "B-B", "O"], ["B-A", "O"]]
    pred = [["B-A", "I-A", "O", "B-B", "O"], ["I-A", "O"]]  # I-A without B-A: no entity in strict
    m = entity_metrics(true, pred)
    # 3 true spans, 2 predicted spans, both correct.
    assert m.precision == pytest.approx(1.0)
    assert m.recall == pytest.approx(2 / 3)
    assert m.f1 == pytest.approx(0.8)
    assert m.support == 3
    assert m.accuracy == pytest.approx(6 / 7)
    assert m.num_words == 7
    assert m.per_label["A"].recall == pytest.approx(0.5)
    assert m.per_label["A"].precision == pytest.approx(1.0)
    assert m.per_label["A"].support == 2
    assert m.per_label["B"].f1 == pytest.approx(1.0)
    assert m.macro_f1 == pytest.approx((2 / 3 + 1.0) / 2)


def test_boundary_and_type_mismatches_are_misses():
    true = [["B-A", "I-A", "I-A", "O"]]
    shorter = [["B-A", "I-A", "O", "O"]]
    split = [["B-A", "B-A", "I-A", "O"]]
    wrong_type = [["B-B", "I-B", "I-B", "O"]]
    for pred in (shorter, split, wrong_type):
        assert entity_metrics(true, pred).f1 == 0.0
    m = entity_metrics(true, wrong_type)
    assert m.per_label["B"].support == 0
    assert m.per_label["B"].precision == 0.0
    assert m.accuracy == pytest.approx(0.25)


def test_no_entities_gives_zeros_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = entity_metrics([["O", "O"]], [["O", "O"]])
    assert (m.precision, m.recall, m.f1, m.support, m.per_label) == (0.0, 0.0, 0.0, 0, {})
    assert m.accuracy == 1.0


def test_to_dict_is_plain_json():
    m = entity_metrics([["B-TOTAL", "O"]], [["B-TOTAL", "O"]])
    d = json.loads(json.dumps(m.to_dict()))
    assert d["f1"] == 1.0
    assert d["per_label"]["TOTAL"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}


def test_length_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="sequence 0: 2 true tags but 1 predicted"):
        entity_metrics([["O", "O"]], [["O"]])
    with pytest.raises(ValueError, match="1 true sequences but 2 predicted"):
        entity_metrics([["O"]], [["O"], ["O"]])


def test_confusion_matrix_counts_words():
    labels = ["DATE", "TOTAL", "O"]
    true = ["B-DATE", "I-DATE", "TOTAL", "O", "O", None]
    pred = ["DATE", "O", "B-TOTAL", "TOTAL", "O", "O"]
    m = confusion_matrix(true, pred, labels)
    expected = np.array([[1, 0, 1], [0, 1, 0], [0, 1, 2]])
    np.testing.assert_array_equal(m, expected)
    assert m.sum() == len(true)


def test_confusion_matrix_unknown_label():
    with pytest.raises(ValueError, match="'TIP' is not in the confusion-matrix labels"):
        confusion_matrix(["TIP"], ["O"], ["TOTAL", "O"])
