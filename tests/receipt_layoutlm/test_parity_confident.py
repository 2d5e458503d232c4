"""The parity gate's two agreements: all words, and words the reference is sure of."""

from __future__ import annotations

import numpy as np
import pytest
from word_logits_runtime import WordLogitsRuntime

from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.encoding import encode_receipt
from receipt_layoutlm.errors import ParityGateError
from receipt_layoutlm.export.parity import ParityThresholds, run_parity

LABELS = ["O", "B-TOTAL", "I-TOTAL"]


def _doc(n: int) -> ReceiptDocument:
    words = [
        DocWord(
            f"w{i}",
            ((10.0, 20.0 * i), (50.0, 20.0 * i), (50.0, 20.0 * i + 15), (10.0, 20.0 * i + 15)),
        )
        for i in range(n)
    ]
    return ReceiptDocument("p:1", 200.0, 20.0 * n + 40, words)


def _pair(tokenizer, flips_confident: bool):
    rng = np.random.default_rng(1)
    n = 40
    reference = rng.normal(0, 0.02, (n, 3))  # a barely trained model: near-tied tags
    reference[:10, 1] += 4.0  # ten words it is sure of
    candidate = reference + rng.normal(0, 0.002, reference.shape)  # faithful export noise
    if flips_confident:
        candidate[0, 1] -= 8.0
    return (WordLogitsRuntime(LABELS, tokenizer, lambda _, w: reference[w]),
            WordLogitsRuntime(LABELS, tokenizer, lambda _, w: candidate[w], name="onnx-int8"))


def test_near_tied_words_do_not_refuse_a_faithful_export(tokenizer) -> None:
    reference, candidate = _pair(tokenizer, flips_confident=False)
    assert len(encode_receipt(_doc(40), tokenizer, candidate.encoding_config).windows) > 1
    report = run_parity(reference, [candidate], [_doc(40)])
    r = report.results[0]
    assert r.confident_words == 10 and r.confident_agreement == 1.0
    assert 0.9 <= r.word_agreement < 0.97  # the old all-words gate would have refused it
    assert report.passed and "confident" in report.table()
    strict = ParityThresholds(all_words_floor=0.99)
    with pytest.raises(ParityGateError, match="on all words < floor"):
        run_parity(reference, [candidate], [_doc(40)], thresholds=strict).enforce()


def test_a_flipped_confident_word_is_refused(tokenizer) -> None:
    reference, candidate = _pair(tokenizer, flips_confident=True)
    report = run_parity(reference, [candidate], [_doc(40)])
    assert report.results[0].confident_agreement == pytest.approx(0.9)
    with pytest.raises(ParityGateError, match=r"10 words with a reference margin > 0\.05"):
        report.enforce()
