"""SROIE task-3 scoring on hand-made cases and an end-to-end check on real ground truth."""

from __future__ import annotations

import json
import random

import pytest

from receipt_layoutlm.data import DatasetConfig
from receipt_layoutlm.evaluation import (
    SROIE_FIELD_FOR_KEY,
    SROIE_KEYS,
    sroie_prediction,
    sroie_task3_f1,
)
from receipt_layoutlm.fields import FieldValue, extract_fields

GROUND_TRUTH = {
    "r1": {"company": "A B", "date": "1/1/2020", "address": "X", "total": "9.00"},
    "r2": {"company": "C", "date": "2/2/2020", "total": "5.00"},  # no address
    "r3": {"company": "D", "date": "3/3/2020", "address": "Y", "total": "1.00"},
}
PREDICTIONS = {
    "r1": {"company": " A  B ", "date": "1/1/2020", "address": "x", "total": ""},
    "r2": {"company": "C", "date": "02/02/2020", "address": "Z", "total": "5.00"},
    # r3 predicted nothing
}


def test_task3_counts_by_hand():
    result = sroie_task3_f1(PREDICTIONS, GROUND_TRUTH)
    # predicted non-empty: r1 3 + r2 4 = 7; expected: 4 + 3 + 4 = 11;
    # correct: r1 company (whitespace only) + date, r2 company + total = 4.
    assert (result.overall.correct, result.overall.predicted, result.overall.expected) == (4, 7, 11)
    assert result.precision == pytest.approx(4 / 7)
    assert result.recall == pytest.approx(4 / 11)
    assert result.f1 == pytest.approx(8 / 18)
    per_key = {k: (s.correct, s.predicted, s.expected) for k, s in result.per_key.items()}
    assert per_key == {
        "company": (2, 2, 3),
        "date": (1, 2, 3),
        "address": (0, 2, 2),
        "total": (1, 1, 3),
    }
    assert result.per_key["company"].precision == 1.0
    assert result.per_key["company"].recall == pytest.approx(2 / 3)
    assert result.num_receipts == 3
    assert len(result.mismatches) == 11 - 4 + 1  # every non-correct pair, incl. r2's extra address
    d = json.loads(json.dumps(result.to_dict(include_mismatches=True)))
    assert d["per_key"]["total"]["expected"] == 3
    assert {"receipt": "r2", "key": "address", "predicted": "Z", "expected": ""} in d["mismatches"]


def test_task3_whitespace_modes_and_unknown_receipts():
    truth = {"r": {"company": "BOOK TA .K (TAMAN DAYA)"}}
    pred = {"r": {"company": "BOOK TA .K(TAMAN DAYA)"}}
    assert sroie_task3_f1(pred, truth, keys=["company"]).f1 == 0.0
    assert sroie_task3_f1(pred, truth, keys=["company"], whitespace="remove").f1 == 1.0
    with pytest.raises(ValueError, match="no ground truth"):
        sroie_task3_f1({"sroie:r": {}}, truth)


def test_sroie_prediction_uses_span_text_not_value():
    fields = {
        "merchant": FieldValue("merchant", "ACME  SDN BHD", "ACME SDN BHD", 0.9, (0, 1, 2)),
        "date": FieldValue("date", "25/12/2018", "2018-12-25", 0.9, (3,)),
        "total": FieldValue("total", "RM9.00", 9.0, 0.9, (4,)),
    }
    assert sroie_prediction(fields) == {
        "company": "ACME SDN BHD",
        "date": "25/12/2018",
        "address": "",
        "total": "RM9.00",
    }


def _read_entities(path):
    raw = path.read_bytes()
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return json.loads(raw.decode("latin-1"))


SROIE_KEY_LABELS = {
    "company": "MERCHANT_NAME", "date": "DATE", "address": "ADDRESS_LINE", "total": "GRAND_TOTAL",
}


def _words_from_truth(truth: dict[str, str], rng: random.Random, label_for: dict[str, str]):
    """Word labels built from the ground-truth strings, with O noise lines in between."""
    noise = ["TEL:", "03-1234", "RECEIPT", "QTY", "9.00", "1", "CASH", "THANK", "YOU", "01/01/2019"]
    words: list[tuple[str, str | None, float]] = []
    lines: list[int] = []
    line = 0
    prefix = {"date": "DATE:", "total": "TOTAL:"}
    for key in SROIE_KEYS:
        for _ in range(rng.randint(1, 2)):
            line += 1
            for token in rng.sample(noise, 3):
                words.append((token, None, rng.uniform(0.5, 1.0)))
                lines.append(line)
        value = truth.get(key, "").split()
        if not value:
            continue
        line += 1
        if key in prefix:  # an O word on the value's own line, as printed
            words.append((prefix[key], "O", 0.99))
            lines.append(line)
        per_line = rng.randint(2, 5) if SROIE_FIELD_FOR_KEY[key] in ("merchant", "address") else 99
        for i, token in enumerate(value):
            if i and i % per_line == 0:
                line += 1
            words.append((token, label_for[key], rng.uniform(0.6, 1.0)))
            lines.append(line)
    return words, lines


@pytest.mark.parametrize("preset", ["none", "sroie"])
def test_end_to_end_on_sroie_ground_truth(shared_data, preset):
    """Perfect word labels give F1 1.0 under the original names and under the sroie merge's
    (ADDRESS, AMOUNT): extraction reads both."""
    merges = DatasetConfig(merge_preset=preset).merges
    label_for = {key: merges.get(label, label) for key, label in SROIE_KEY_LABELS.items()}
    assert preset == "none" or label_for["address"] == "ADDRESS"
    paths = sorted((shared_data / "sroie" / "train" / "entities").glob("*.txt"))
    assert len(paths) > 100
    rng = random.Random(7)
    truth, predictions = {}, {}
    for path in paths:
        gt = _read_entities(path)
        words, lines = _words_from_truth(gt, rng, label_for)
        truth[path.stem] = gt
        predictions[path.stem] = sroie_prediction(extract_fields(words, line_ids=lines))
    result = sroie_task3_f1(predictions, truth)
    assert result.mismatches == []
    assert result.f1 == 1.0
    assert result.overall.expected == sum(bool(v) for gt in truth.values() for v in gt.values())
