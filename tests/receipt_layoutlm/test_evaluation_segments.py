"""WildReceipt's segment metric (``evaluation.segments``) on hand-built receipts whose expected
scores are worked out by hand, and its place in ``evaluate_documents``."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_layoutlm import tiny_layoutlm

from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.evaluation.segments import (
    OTHER,
    has_segments,
    segment_f1,
    segment_pairs,
    wildreceipt_classes,
)

CLASSES, CLASS_OF_LABEL = wildreceipt_classes()


def _word(text: str, segment: int | None, segment_class: str | None, x: float = 0.0,
          label: str | None = None) -> DocWord:
    corners = ((x, 0.0), (x + 10, 0.0), (x + 10, 10.0), (x, 10.0))
    return DocWord(text, corners, label=label, segment_id=segment, segment_class=segment_class)


# Five segments: (gold class, [predicted label per encoded word]); segment 4's word was never
# encoded, and one word belongs to no segment.
SEGMENTS = [
    ("Store_name_value", ["MERCHANT_NAME", "MERCHANT_NAME", None]),  # majority: Store_name
    ("Total_value", ["GRAND_TOTAL", "SUBTOTAL"]),  # tie: the first word's label wins
    ("Total_key", ["GRAND_TOTAL"]),  # a key read as the total: a false positive
    ("Tax_value", []),  # not encoded: a miss
    ("Date_value", ["TIME"]),  # the wrong value class
]
EXPECTED_PAIRS = [
    ("Store_name_value", "Store_name_value"),
    ("Total_value", "Total_value"),
    (OTHER, "Total_value"),
    ("Tax_value", OTHER),
    ("Date_value", "Time_value"),
]


def _hand_built() -> tuple[list[DocWord], list[tuple[DocWord, str | None]]]:
    words, predicted = [], []
    for segment, (name, labels) in enumerate(SEGMENTS, 1):
        group = [_word(f"w{segment}{i}", segment, name, x=20.0 * i)
                 for i in range(max(1, len(labels)))]
        words += group
        predicted += list(zip(group, labels, strict=False))
    stray = _word("stray", None, None)
    return [*words, stray], [*predicted, (stray, "GRAND_TOTAL")]


def test_wildreceipt_has_twelve_value_classes_mapped_from_core_labels() -> None:
    assert len(CLASSES) == 12 and all(c.endswith("_value") for c in CLASSES)
    assert CLASS_OF_LABEL["GRAND_TOTAL"] == "Total_value"
    assert CLASS_OF_LABEL["TIP"] == "Tips_value"
    assert CLASS_OF_LABEL["TOTAL_VALUE"] == "Total_value"  # a --labels native model


def test_a_segment_takes_the_majority_label_of_its_words() -> None:
    words, predicted = _hand_built()
    pairs = segment_pairs(words, predicted, classes=CLASSES, class_of_label=CLASS_OF_LABEL)
    assert pairs == EXPECTED_PAIRS


def test_per_class_and_macro_f1_by_hand() -> None:
    scores = segment_f1(EXPECTED_PAIRS, CLASSES)
    assert scores.segments == 5
    store = scores.per_class["Store_name_value"]
    assert (store.precision, store.recall, store.f1) == (1.0, 1.0, 1.0)
    total = scores.per_class["Total_value"]  # 1 right of 2 predicted, 1 of 1 gold
    assert (total.gold, total.predicted, total.correct) == (1, 2, 1)
    assert (total.precision, total.recall) == (0.5, 1.0)
    assert total.f1 == pytest.approx(2 / 3)
    for name in ("Tax_value", "Date_value", "Time_value", "Tips_value"):
        assert scores.per_class[name].f1 == 0.0
    # Macro over all 12 classes (absent ones count 0, as mmocr's F1Metric): (1 + 2/3) / 12.
    assert scores.macro_f1 == pytest.approx(5 / 36)
    # Over the 4 classes with gold segments (Store, Total, Tax, Date): (1 + 2/3 + 0 + 0) / 4.
    assert scores.macro_f1_present == pytest.approx(5 / 12)
    # Micro: TP 2; predicted in a class 4 (Store, Total ×2, Time); gold in a class 4.
    assert scores.micro_f1 == pytest.approx(0.5)
    row = scores.to_dict()["per_class"]["Total_value"]
    assert row == {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3), "gold": 1,
                   "predicted": 2, "correct": 1}


def test_perfect_predictions_of_every_class_score_one_and_none_score_zero() -> None:
    perfect = segment_f1([(c, c) for c in CLASSES] + [(OTHER, OTHER)], CLASSES)
    assert perfect.macro_f1 == perfect.micro_f1 == 1.0
    nothing = segment_f1([(c, OTHER) for c in CLASSES], CLASSES)
    assert nothing.macro_f1 == nothing.micro_f1 == 0.0
    assert segment_f1([], CLASSES).macro_f1 == 0.0


def test_has_segments_needs_an_id_and_a_class() -> None:
    assert has_segments([_word("a", 1, "Others")])
    assert not has_segments([_word("a", None, None), _word("b", 1, None)])


@pytest.fixture(scope="module")
def checkpoint_dir(tmp_path_factory, tokenizer) -> Path:
    pytest.importorskip("torch")

    from receipt_layoutlm.checkpoint import save_checkpoint
    from receipt_layoutlm.encoding import EncodingConfig, label_list

    labels = label_list(["GRAND_TOTAL", "MERCHANT_NAME", "TIME"])
    model = tiny_layoutlm(len(labels), len(tokenizer), seed=3, layers=1)
    directory = tmp_path_factory.mktemp("seg") / "best"
    save_checkpoint(directory, model, tokenizer, labels,
                    EncodingConfig(max_seq_length=32, stride=8))
    return directory


def test_evaluate_scores_segments_from_the_inference_predictions(checkpoint_dir, tmp_path):
    from receipt_layoutlm.evaluation.evaluate import evaluate_documents
    from receipt_layoutlm.prediction import predict_document
    from receipt_layoutlm.runtime import load_runtime

    words, _ = _hand_built()
    labelled = [w if w.segment_class is None else
                DocWord(w.text, w.corners, label={"Store_name_value": "MERCHANT_NAME",
                                                  "Total_value": "GRAND_TOTAL"}.get(
                    w.segment_class), segment_id=w.segment_id, segment_class=w.segment_class)
                for w in words]
    doc = ReceiptDocument("wildreceipt:a", 200.0, 20.0, labelled)
    plain = ReceiptDocument("sroie:b", 200.0, 20.0, [_word("TOTAL", None, None)])
    runtime = load_runtime("torch", checkpoint_dir)
    result = evaluate_documents(runtime, [doc, plain], out_dir=tmp_path)

    segments = result.metrics["wildreceipt_segments"]
    assert segments["receipts"] == 1 and segments["segments"] == len(SEGMENTS)
    gold = {name: row["gold"] for name, row in segments["per_class"].items() if row["gold"]}
    assert gold == {"Store_name_value": 1, "Total_value": 1, "Tax_value": 1, "Date_value": 1}
    # The same word predictions inference makes, voted per segment, give the same scores.
    predicted = predict_document(runtime, doc)
    pairs = segment_pairs(doc.words, [(w, p.label) for w, p in zip(
        predicted.words, predicted.predictions, strict=True)], classes=CLASSES,
        class_of_label=CLASS_OF_LABEL)
    assert segments["macro_f1"] == pytest.approx(segment_f1(pairs, CLASSES).macro_f1)
    report = (tmp_path / "report.md").read_text()
    assert "## wildreceipt_segments" in report and "Store_name_value" in report

    without = evaluate_documents(runtime, [plain])
    assert "wildreceipt_segments" not in without.metrics
