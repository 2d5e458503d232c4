"""Key–value pairing (``encoding.pair_keys_with_values``): the value right of a key the model
read takes that key's value label; label sets without keys are left alone."""

from __future__ import annotations

import numpy as np
import pytest
from word_logits_runtime import WordLogitsRuntime

from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.encoding import (
    EncodingConfig,
    WordPrediction,
    key_value_pairs,
    label_list,
    pair_keys_with_values,
)

NATIVE = label_list(["TOTAL_KEY", "TOTAL_VALUE", "TAX_KEY", "TAX_VALUE", "SUBTOTAL_KEY",
                     "SUBTOTAL_VALUE", "PROD_PRICE_KEY", "PROD_PRICE_VALUE", "STORE_NAME_VALUE",
                     "OTHERS"])


def _prediction(position: int, text: str, label: str | None, **probabilities: float):
    tag = "O" if label is None else f"B-{label}"
    return WordPrediction(word_index=position, text=text, tag=tag, label=label, confidence=0.9,
                          label_probabilities=probabilities)


def _row(words: list[tuple[str, str | None]], row: int = 0, **probabilities: float):
    """Predictions and line numbers of words printed left to right on one line (reading
    order)."""
    predictions = [_prediction(n, text, label, **probabilities)
                   for n, (text, label) in enumerate(words)]
    return predictions, [row] * len(words)


def test_pairs_come_from_labels_naming_a_key_and_its_value() -> None:
    assert key_value_pairs(NATIVE) == {"PROD_PRICE_KEY": "PROD_PRICE_VALUE",
                                       "SUBTOTAL_KEY": "SUBTOTAL_VALUE", "TAX_KEY": "TAX_VALUE",
                                       "TOTAL_KEY": "TOTAL_VALUE"}
    assert key_value_pairs(["O", "TIPS_KEY", "TOTAL_VALUE"]) == {}  # plain labels, no pair
    assert key_value_pairs(["O", "TOTAL_KEY", "TOTAL_VALUE"]) == {"TOTAL_KEY": "TOTAL_VALUE"}
    assert key_value_pairs(label_list(["MERCHANT_NAME", "GRAND_TOTAL", "DATE"])) == {}


def test_the_amount_right_of_a_key_takes_the_keys_value_label() -> None:
    predictions, rows = _row([("Total", "TOTAL_KEY"), (":", None),
                                     ("12.50", "TAX_VALUE")], TOTAL_VALUE=0.31, TAX_VALUE=0.6)
    paired = pair_keys_with_values(predictions, rows, NATIVE)
    assert [p.label for p in paired] == ["TOTAL_KEY", None, "TOTAL_VALUE"]
    assert paired[2].tag == "B-TOTAL_VALUE"
    # Its confidence is the model's own probability of the new label.
    assert paired[2].confidence == pytest.approx(0.31)
    assert paired[0] is predictions[0] and paired[1] is predictions[1]


def test_a_key_of_several_words_looks_right_of_its_last_word() -> None:
    predictions, rows = _row([("Sub", "SUBTOTAL_KEY"), ("Total", "SUBTOTAL_KEY"),
                                     ("$", "OTHERS"), ("9", "PROD_PRICE_VALUE"),
                                     ("99", "PROD_PRICE_VALUE")])
    paired = pair_keys_with_values(predictions, rows, NATIVE)
    # The run of words the model labelled alike is relabelled, B- then I-.
    assert [p.tag for p in paired] == ["B-SUBTOTAL_KEY", "B-SUBTOTAL_KEY", "B-OTHERS",
                                       "B-SUBTOTAL_VALUE", "I-SUBTOTAL_VALUE"]


@pytest.mark.parametrize(("label", "after"), [
    ("TAX_KEY", None),  # a key: it keeps its label; "TOTAL 6%" read as two keys pairs nothing
    ("STORE_NAME_VALUE", None),  # the value of a field printed without a key
    ("TOTAL_VALUE", None),  # already the key's value
])
def test_the_first_word_with_a_digit_is_the_only_one_looked_at(label, after) -> None:
    predictions, rows = _row([("TOTAL", "TOTAL_KEY"), ("6%", label), ("7.00", None)])
    paired = pair_keys_with_values(predictions, rows, NATIVE)
    assert paired[:2] == predictions[:2] and paired[1] is predictions[1]
    assert paired[2].label == after


def test_only_the_keys_own_row_and_words_right_of_it_change() -> None:
    left, _ = _row([("4.00", "TAX_VALUE"), ("Total", "TOTAL_KEY")])
    below, below_rows = _row([("5.00", "TAX_VALUE")], row=3)
    predictions = [*left, *[_prediction(2, p.text, p.label) for p in below]]
    paired = pair_keys_with_values(predictions, [0, 0, *below_rows], NATIVE)
    assert [p.label for p in paired] == ["TAX_VALUE", "TOTAL_KEY", "TAX_VALUE"]


def test_a_value_is_looked_for_only_up_to_the_next_key() -> None:
    # "Item" (a column header) must not take the total printed after "Total".
    predictions, rows = _row([("Item", "PROD_PRICE_KEY"), ("Total", "TOTAL_KEY"),
                                     ("161.95", "TOTAL_VALUE")])
    assert pair_keys_with_values(predictions, rows, NATIVE) == predictions


def test_a_key_run_the_model_splits_between_two_keys_pairs_nothing() -> None:
    # A photo's "Total Due" read as TOTAL_KEY then TAX_KEY: which key it is, is not known.
    predictions, rows = _row([("Total", "TOTAL_KEY"), ("Due", "TAX_KEY"),
                                     ("313.50", "PROD_PRICE_VALUE")])
    assert pair_keys_with_values(predictions, rows, NATIVE) == predictions


def test_labels_without_keys_and_mismatched_inputs() -> None:
    predictions, rows = _row([("TOTAL", "GRAND_TOTAL"), ("7.00", "GRAND_TOTAL")])
    sroie = label_list(["GRAND_TOTAL", "MERCHANT_NAME"])
    assert pair_keys_with_values(predictions, rows, sroie) == predictions
    assert pair_keys_with_values([], [], NATIVE) == []
    with pytest.raises(ValueError, match="one each per word"):
        pair_keys_with_values(predictions, rows[:1], NATIVE)


def test_predict_document_pairs_keys_unless_told_not_to(tokenizer) -> None:
    from receipt_layoutlm.prediction import predict_document

    def word(text: str, x: float, y: float) -> DocWord:
        return DocWord(text, [[x, y], [x + 60, y], [x + 60, y + 12], [x, y + 12]])

    # Listed out of reading order (each amount before its key): pairing reads the encoding's
    # reading order, which puts every key left of its amount.
    doc = ReceiptDocument("wildreceipt:k", 400.0, 100.0, [
        word("SHOP", 10, 5), word("1.20", 200, 41), word("Tax", 10, 40),
        word("13.20", 200, 70), word("Total", 10, 70)])
    tags = {"SHOP": "B-STORE_NAME_VALUE", "Tax": "B-TAX_KEY", "1.20": "B-TOTAL_VALUE",
            "Total": "B-TOTAL_KEY", "13.20": "B-TOTAL_VALUE"}

    def logits_of(text: str, _: int) -> np.ndarray:
        row = np.zeros(len(NATIVE), dtype=np.float32)
        row[NATIVE.index(tags.get(text, "O"))] = 5.0
        return row

    runtime = WordLogitsRuntime(NATIVE, tokenizer, logits_of,
                                encoding_config=EncodingConfig(max_seq_length=64, stride=16))
    paired = predict_document(runtime, doc)
    assert [p.text for p in paired.predictions] == ["SHOP", "Tax", "1.20", "Total", "13.20"]
    assert [p.label for p in paired.predictions] == [
        "STORE_NAME_VALUE", "TAX_KEY", "TAX_VALUE", "TOTAL_KEY", "TOTAL_VALUE"]
    # A native-label model's receipts have fields: the paired tax is the tax field.
    assert paired.fields["tax"].value == pytest.approx(1.2)
    assert paired.fields["total"].value == pytest.approx(13.2)
    assert paired.fields["merchant"].text == "SHOP"
    raw = predict_document(runtime, doc, key_pairing=False)
    assert raw.predictions[2].label == "TOTAL_VALUE"
    assert "tax" not in raw.fields


def test_every_wildreceipt_value_class_feeds_the_field_its_core_label_feeds() -> None:
    from receipt_layoutlm.fields import FIELD_LABELS
    from receipt_layoutlm.importers.wildreceipt import CORE_MAP, native_label

    checked = set()
    for name, core in CORE_MAP.items():
        # The field the core label feeds first (DATE also feeds time, as a merge's stand-in).
        for field in [field for field, labels in FIELD_LABELS.items() if labels[0] == core]:
            assert native_label(name) in FIELD_LABELS[field], (name, field)
            checked.add(field)
    # Every field a WildReceipt value class feeds was looked at (the loop is not vacuous).
    assert checked == {"merchant", "address", "phone", "date", "time", "subtotal", "tax",
                       "tip", "total"}
