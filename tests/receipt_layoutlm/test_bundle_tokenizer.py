"""The bundle tokenizer without transformers gives the ids ``load_tokenizer`` gives, on every
word of the real receipts and on the words that tell tokenizers apart."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from receipt_layoutlm.encoding import (
    WordPieceTokenizer,
    load_bundle_tokenizer,
    load_tokenizer,
    special_ids,
)

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
EDGE_WORDS = [
    "[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]", "[mask]", "a[SEP]b", " [CLS] x", "", "   ",
    "été", "Café", "e\u0301", "中文", "\x00\x01", "x" * 150, "RM9.00", "\ufeff", "\u200b",
    "TOTAL:", "S$12.50", "No.53,55", "12/25/2018",
]  # fmt: skip


def _words() -> list[str]:
    words = set(EDGE_WORDS)
    box_dir = DATA / "sroie" / "train" / "box"
    for path in sorted(box_dir.glob("*.txt")) if box_dir.is_dir() else []:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            words.update(line.split(",", 8)[-1].split())
    wild = DATA / "wildreceipt" / "labelled" / "receipts.txt"
    if wild.is_file():
        for line in wild.read_text(encoding="utf-8").splitlines():
            for annotation in json.loads(line).get("annotations", []):
                words.update(str(annotation.get("text", "")).split())
    return sorted(words)


@pytest.fixture(scope="module")
def bundle_text_side(minilm_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """vocab.txt + tokenizer_config.json, what a bundle carries (no tokenizer.json)."""
    root = tmp_path_factory.mktemp("bundle_text")
    shutil.copyfile(minilm_path / "vocab.txt", root / "vocab.txt")
    shutil.copyfile(minilm_path / "tokenizer_config.json", root / "tokenizer_config.json")
    return root


def test_same_ids_as_transformers_on_every_receipt_word(bundle_text_side: Path) -> None:
    reference = load_tokenizer(bundle_text_side)
    light = load_bundle_tokenizer(bundle_text_side)
    assert isinstance(light, WordPieceTokenizer)
    assert special_ids(light) == special_ids(reference) and len(light) == len(reference)
    words = _words()
    want = reference(words, add_special_tokens=False)["input_ids"]
    got = light(words, add_special_tokens=False)["input_ids"]
    differ = [(w, a, b) for w, a, b in zip(words, want, got, strict=True) if list(a) != b]
    assert not differ, f"{len(differ)} of {len(words)} words differ, e.g. {differ[:3]}"


def test_loading_a_bundle_tokenizer_imports_no_transformers(bundle_text_side: Path) -> None:
    import subprocess

    code = (
        "import sys; from receipt_layoutlm.encoding import load_bundle_tokenizer; "
        f"load_bundle_tokenizer({str(bundle_text_side)!r}); "
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_tokenizer_that_is_not_bert_wordpiece_loads_through_transformers(
    minilm_path: Path, tmp_path: Path
) -> None:
    shutil.copyfile(minilm_path / "tokenizer.json", tmp_path / "tokenizer.json")
    shutil.copyfile(minilm_path / "vocab.txt", tmp_path / "vocab.txt")
    config = json.loads((minilm_path / "tokenizer_config.json").read_text(encoding="utf-8"))
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    tokenizer = load_bundle_tokenizer(tmp_path)
    assert not isinstance(tokenizer, WordPieceTokenizer)
    assert special_ids(tokenizer)["cls"] == 101


def test_remembered_words_give_the_ids_of_a_fresh_batch(
    bundle_text_side: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import receipt_layoutlm.encoding._tokenizer as tokenizer_module

    words = _words()
    fresh = load_bundle_tokenizer(bundle_text_side).backend_tokenizer.encode_batch(
        words, add_special_tokens=False
    )
    want = [e.ids for e in fresh]
    light = load_bundle_tokenizer(bundle_text_side)
    monkeypatch.setattr(tokenizer_module, "WORD_CACHE_SIZE", len(words) // 3)
    receipt = words[:50] + words[:50] + EDGE_WORDS  # repeats, within a call and across calls
    got = light(receipt, add_special_tokens=False)["input_ids"]
    assert got == [want[words.index(w)] for w in receipt]
    got[0].append(-1)  # a caller changing its list changes nothing remembered
    for start in range(0, len(words), 997):  # more words than the cache holds: it is cleared
        chunk = words[start : start + 997]
        assert light(chunk, add_special_tokens=False)["input_ids"] == want[start : start + 997]
    assert len(light._word_ids) <= len(words) // 3
    assert light(receipt, add_special_tokens=False)["input_ids"] == [
        want[words.index(w)] for w in receipt
    ]
    direct = light.backend_tokenizer.encode("TOTAL", add_special_tokens=True).ids
    assert light(["TOTAL"], add_special_tokens=True)["input_ids"] == [direct]  # not remembered
