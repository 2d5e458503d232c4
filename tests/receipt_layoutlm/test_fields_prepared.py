"""The text-only field work done before the model (``fields.prepared``: amount joins, the total
picker's text-only half) gives the same fields as the step computing it after the model, and
is ignored when it was made from other words."""

from __future__ import annotations

import dataclasses
import gzip
import json
from typing import Any

import fields_golden
import pytest
from test_fields_golden import _same

from receipt_layoutlm.fields import FieldCleanup, extract_fields
from receipt_layoutlm.fields._words import Word
from receipt_layoutlm.fields.ocr_cleanup import amount_joins, rejoin_amounts
from receipt_layoutlm.fields.prepared import prepare_words
from receipt_layoutlm.fields.total_picker import TotalPicker, feature_names, total_candidates
from receipt_layoutlm.fields.total_text import total_text

LABELS = ("GRAND_TOTAL", "AMOUNT")
# (text, label, probability of the total, line, row)
RECEIPT = [
    ("SUBTOTAL", None, 0.0, 0, 0), ("12.", None, 0.1, 0, 0), ("50", None, 0.1, 0, 0),
    ("GST", None, 0.0, 1, 1), ("0.75", None, 0.05, 1, 1),
    ("TOTAL", None, 0.0, 2, 2), ("13", "GRAND_TOTAL", 0.6, 2, 2), (".25", None, 0.3, 2, 2),
    ("CASH", None, 0.0, 3, 3), ("20.00", "GRAND_TOTAL", 0.55, 3, 3),
    ("CHANGE", None, 0.0, 4, 4), ("6.75", None, 0.1, 4, 4),
]


def _words() -> list[Word]:
    return [
        Word(n, text, label, label is not None, 0.9, line, {"GRAND_TOTAL": p}, 0.95)
        for n, (text, label, p, line, _) in enumerate(RECEIPT)
    ]


def _picker() -> TotalPicker:
    names = feature_names()
    return TotalPicker(
        features=tuple(names),
        weights=tuple(0.3 * ((n % 7) - 3) + 0.1 for n in range(len(names))),
        intercept=-0.4,
        mean=tuple(0.01 * n for n in range(len(names))),
        scale=tuple(1.0 + 0.1 * (n % 3) for n in range(len(names))),
    )


def test_amount_joins_are_the_pairs_rejoin_amounts_glues() -> None:
    words = _words()
    texts, lines = [w.text for w in words], [w.line for w in words]
    rows = [r for *_, r in RECEIPT]
    assert amount_joins(texts, lines, rows) == [1, 6]
    glued, glued_rows = rejoin_amounts(words, rows)
    given, given_rows = rejoin_amounts(words, rows, joins=[1, 6])
    assert [w.text for w in glued] == [w.text for w in given] == [
        "SUBTOTAL", "12.50", "GST", "0.75", "TOTAL", "13.25", "CASH", "20.00", "CHANGE", "6.75"]
    assert [dataclasses.astuple(w) for w in glued] == [dataclasses.astuple(w) for w in given]
    assert glued_rows == given_rows == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert glued[5].joined == (7,) and glued[5].probabilities == {"GRAND_TOTAL": 0.6}
    # Another row in between: not glued.
    assert amount_joins(texts, lines, [0, 0, 9, *rows[3:]]) == [6]


def test_total_text_holds_the_candidates_text_features() -> None:
    words, _ = rejoin_amounts(_words(), [r for *_, r in RECEIPT])
    rows = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    candidates = total_candidates(words, rows, LABELS)
    found = total_text([w.text for w in words], rows)
    assert found.positions == [1, 3, 5, 7, 9]
    assert found.values == [c.value for c in candidates] == [12.5, 0.75, 13.25, 20.0, 6.75]
    assert found.features == [c.features[5:] for c in candidates]
    assert found.amounts["13.25"] == 13.25 and found.amounts["6.75"] == 6.75


def test_prepared_picks_what_the_picker_picks_and_is_ignored_for_other_words() -> None:
    words = _words()
    rows = [r for *_, r in RECEIPT]
    lines = [w.line for w in words]
    picker = _picker()
    plain = extract_fields(words, line_ids=lines, rows=rows, total_picker=picker)
    prepared = prepare_words([w.text for w in words], lines, rows, picker=picker)
    assert prepared.joins == [1, 6] and prepared.total is not None
    assert prepared.total.scored_by is picker
    assert extract_fields(words, line_ids=lines, rows=rows, total_picker=picker,
                          prepared=prepared) == plain
    assert plain["total"].value in (12.5, 0.75, 13.25, 20.0, 6.75)
    # Made from other texts, other rows or without the joins: not used (same fields).
    other = [("99.99" if w.text == "20.00" else w.text) for w in words]
    for stale in (
        prepare_words(other, lines, rows, picker=picker),
        prepare_words([w.text for w in words], lines, [0] * len(rows), picker=picker),
        prepare_words([w.text for w in words], lines, rows, rejoin_amounts=False),
    ):
        assert not stale.fits([w.text for w in words], lines, rows, True)
        assert extract_fields(words, line_ids=lines, rows=rows, total_picker=picker,
                              prepared=stale) == plain
    # Made without joins for a step without them: used, same as without it.
    off = dataclasses.replace(FieldCleanup(), rejoin_amounts=False)
    unjoined = prepare_words([w.text for w in words], lines, rows, rejoin_amounts=False,
                             picker=picker)
    assert unjoined.fits([w.text for w in words], lines, rows, False)
    assert extract_fields(words, line_ids=lines, rows=rows, total_picker=picker,
                          cleanup=off, prepared=unjoined) == extract_fields(
        words, line_ids=lines, rows=rows, total_picker=picker, cleanup=off)


@pytest.mark.skipif(not fields_golden.SROIE_TRAIN.is_dir(),
                    reason=f"the SROIE data ({fields_golden.SROIE_TRAIN}) is not on this machine")
@pytest.mark.slow  # every SROIE receipt through the encoder, the picker and the line classifier
def test_prepared_production_fields_of_every_sroie_receipt_match_the_golden_fixture(
    tokenizer: Any,
) -> None:
    with gzip.open(fields_golden.GOLDEN_LINES, "rt", encoding="utf-8") as handle:
        golden = json.load(handle)
    picker, classifier = fields_golden.load_picker(), fields_golden.load_line_classifier()
    names = golden["labels"]
    seen, mismatches = 0, []
    for encoded in fields_golden.encoded_receipts(tokenizer):
        seen += 1
        want = golden["receipts"][encoded.key]
        got = fields_golden.as_json(fields_golden.production_fields(
            encoded, names, picker, classifier, prepared=True))
        if set(got) != set(want) or not all(_same(got[f], want[f]) for f in want):
            mismatches.append((encoded.key, got, want))
    assert seen == len(golden["receipts"]) == 626
    assert not mismatches, f"{len(mismatches)} receipts differ, first: {mismatches[0]}"
