"""Decoding fills each ``WordPrediction``'s fields directly (not through the frozen dataclass's
``__init__``, for speed): the objects are the ones the constructor makes."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.encoding import (
    WordPrediction,
    decode_word_labels,
    encode_receipt,
    label_list,
)


def _doc() -> ReceiptDocument:
    words = []
    for n, text in enumerate(["KEDAI", "MAJU", "TOTAL", "RM", "12.50", "25/12/2018"]):
        x = 10.0 + 60.0 * (n % 3)
        y = 10.0 + 30.0 * (n // 3)
        corners = ((x, y), (x + 50, y), (x + 50, y + 20), (x, y + 20))
        words.append(DocWord(text, corners, line_id=n // 3, word_id=n % 3))
    return ReceiptDocument(key="decode", width=300.0, height=100.0, words=words)


def test_decoded_predictions_equal_constructed_ones(tokenizer: Any) -> None:
    names = label_list(["MERCHANT_NAME", "GRAND_TOTAL", "DATE"])
    encoded = encode_receipt(_doc(), tokenizer)
    rng = np.random.default_rng(3)
    logits = [rng.normal(size=(len(w.input_ids), len(names))) for w in encoded.windows]
    predictions = decode_word_labels(encoded, logits, names)
    assert len(predictions) == 6
    for got in predictions:
        fields = {f.name: getattr(got, f.name) for f in dataclasses.fields(WordPrediction)}
        built = WordPrediction(**fields)
        assert type(got) is WordPrediction
        assert got == built and hash(got) == hash(built) and repr(got) == repr(built)
        assert vars(got) == vars(built)
        assert dataclasses.replace(got, tag="O") == dataclasses.replace(built, tag="O")
        assert set(got.label_probabilities) == {"MERCHANT_NAME", "GRAND_TOTAL", "DATE"}
