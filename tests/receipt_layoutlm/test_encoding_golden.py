"""Golden fixtures pin the encoding spec: exact ids, boxes, labels and word indices per window.

The fixture holds its input receipts (one is a real SROIE receipt), so this runs on a fresh
clone without ../shared/data. When it fails after a deliberate change to the encoding, bump
ENCODING_VERSION and regenerate the fixture (see REGENERATE).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.encoding import (
    ENCODING_VERSION,
    EncodingConfig,
    encode_receipt,
    tokenizer_facts,
)

FIXTURE = Path(__file__).parent / "fixtures" / "encoding_golden.json"
REGENERATE = (
    "if the encoding changed on purpose, bump ENCODING_VERSION in "
    "src/receipt_layoutlm/encoding/_config.py and regenerate the fixture with "
    "`.venv/bin/python tests/receipt_layoutlm/fixtures/make_encoding_golden.py`"
)
GOLDEN = json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def minilm(minilm_path, tokenizer):
    return minilm_path, tokenizer


def document(data: dict) -> ReceiptDocument:
    return ReceiptDocument(
        key=data["key"],
        width=data["width"],
        height=data["height"],
        origin=data["origin"],
        normalized=data["normalized"],
        words=[
            DocWord(
                text=w["text"],
                corners=tuple(tuple(p) for p in w["corners"]),
                line_id=w["line_id"],
                word_id=w["word_id"],
                label=w["label"],
            )
            for w in data["words"]
        ],
    )


def test_fixture_matches_encoding_version():
    assert GOLDEN["encoding_version"] == ENCODING_VERSION, (
        f"encoding_golden.json was made for encoding {GOLDEN['encoding_version']}, the code is "
        f"{ENCODING_VERSION}: regenerate it with "
        "`.venv/bin/python tests/receipt_layoutlm/fixtures/make_encoding_golden.py`"
    )


def test_fixture_tokenizer_is_the_installed_one(minilm):
    path, tokenizer = minilm
    sha = hashlib.sha256((path / "vocab.txt").read_bytes()).hexdigest()
    assert sha == GOLDEN["vocab_sha256"], (
        "the installed MiniLM vocab.txt differs from the fixture's"
    )
    assert tokenizer_facts(tokenizer) == GOLDEN["tokenizer"]


@pytest.mark.parametrize(
    "receipt", GOLDEN["receipts"], ids=[r["document"]["key"] for r in GOLDEN["receipts"]]
)
def test_golden_receipt(receipt, minilm):
    _, tokenizer = minilm
    config = EncodingConfig.from_dict(GOLDEN["config"])
    doc = document(receipt["document"])
    enc = encode_receipt(doc, tokenizer, config, label2id=receipt["label2id"])
    expected = receipt["expected"]
    key = doc.key
    assert enc.source_index == expected["source_index"], (
        f"{key}: reading order changed; {REGENERATE}"
    )
    assert [list(b) for b in enc.boxes] == expected["boxes"], f"{key}: boxes changed; {REGENERATE}"
    assert enc.tags == expected["tags"], f"{key}: BIO tags changed; {REGENERATE}"
    assert len(enc.windows) == len(expected["windows"]), f"{key}: windowing changed; {REGENERATE}"
    for i, (got, want) in enumerate(zip(enc.windows, expected["windows"], strict=True)):
        where = f"{key} window {i}"
        assert got.input_ids == want["input_ids"], f"{where}: input_ids changed; {REGENERATE}"
        assert [list(b) for b in got.bbox] == want["bbox"], f"{where}: bbox changed; {REGENERATE}"
        assert got.labels == want["labels"], f"{where}: labels changed; {REGENERATE}"
        assert got.word_index == want["word_index"], f"{where}: word_index changed; {REGENERATE}"
        assert got.attention_mask == [1] * len(want["input_ids"])
        assert got.token_type_ids == [0] * len(want["input_ids"])


def test_fixture_exercises_several_windows_and_a_real_receipt():
    # Guards the fixture itself: a regenerated fixture must still cover windowing and SROIE.
    assert sum(len(r["expected"]["windows"]) > 1 for r in GOLDEN["receipts"]) >= 2
    assert any(r["document"]["key"].startswith("sroie:") for r in GOLDEN["receipts"])
    assert any(r["document"]["origin"] == "bottom-left" for r in GOLDEN["receipts"])
