"""The fields step gives the same fields on all 626 SROIE training receipts as before it was
vectorised (fixtures/sroie_fields_golden.json.gz, see fields_golden.py for how the stand-in model
outputs and the picker are made)."""

from __future__ import annotations

import gzip
import json
from typing import Any

import fields_golden
import pytest

pytestmark = pytest.mark.skipif(
    not fields_golden.SROIE_TRAIN.is_dir(),
    reason=f"the SROIE data ({fields_golden.SROIE_TRAIN}) is not on this machine",
)


def _same(got: list[Any] | None, want: list[Any] | None) -> bool:
    if got is None or want is None:
        return got is want
    (text, value, confidence, indices), (w_text, w_value, w_confidence, w_indices) = got, want
    return (
        (text, value, indices) == (w_text, w_value, w_indices)
        and abs(confidence - w_confidence) <= 2e-9
    )


@pytest.mark.slow  # every SROIE receipt through the encoder and the field picker
def test_fields_of_every_sroie_receipt_match_the_golden_fixture(tokenizer: Any) -> None:
    with gzip.open(fields_golden.GOLDEN, "rt", encoding="utf-8") as handle:
        golden = json.load(handle)
    picker = fields_golden.load_picker()
    names = golden["labels"]
    seen, mismatches = 0, []
    for encoded in fields_golden.encoded_receipts(tokenizer):
        seen += 1
        want = golden["receipts"][encoded.key]
        got = fields_golden.golden_record(encoded, names, picker)
        got_fields, want_fields = got["fields"], want["fields"]
        if set(got_fields) != set(want_fields) or not all(
            _same(got_fields[f], want_fields[f]) for f in want_fields
        ) or not _same(got["total_without_picker"], want["total_without_picker"]):
            mismatches.append((encoded.key, got, want))
    assert seen == len(golden["receipts"]) == 626
    assert not mismatches, f"{len(mismatches)} receipts differ, first: {mismatches[0]}"
