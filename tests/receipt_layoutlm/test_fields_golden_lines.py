"""The fields step as production runs it (total picker, line classifier, the OCR repairs of the
fixture's time) gives the same fields on all 626 SROIE training receipts as before its second
vectorisation (fixtures/sroie_fields_golden_lines.json.gz; fields_golden.py makes the stand-in
outputs)."""

from __future__ import annotations

import gzip
import json
from typing import Any

import fields_golden
import pytest
from test_fields_golden import _same

pytestmark = pytest.mark.skipif(
    not fields_golden.SROIE_TRAIN.is_dir(),
    reason=f"the SROIE data ({fields_golden.SROIE_TRAIN}) is not on this machine",
)


@pytest.mark.slow  # every SROIE receipt through the encoder, the picker and the line classifier
def test_production_fields_of_every_sroie_receipt_match_the_golden_fixture(
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
        got = fields_golden.as_json(
            fields_golden.production_fields(encoded, names, picker, classifier)
        )
        if set(got) != set(want) or not all(_same(got[f], want[f]) for f in want):
            mismatches.append((encoded.key, got, want))
    assert seen == len(golden["receipts"]) == 626
    assert not mismatches, f"{len(mismatches)} receipts differ, first: {mismatches[0]}"
