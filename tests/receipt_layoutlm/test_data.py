"""Training data: merges, allowed labels, unverified words, conflicts, splits, windows, collator."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from receipt_layoutlm.data import (
    MERGE_PRESETS,
    DatasetConfig,
    build_datasets,
    encode_documents,
    entity_labels,
    load_documents,
    split_documents,
)
from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.encoding import IGNORE_INDEX, EncodingConfig, label_list
from receipt_layoutlm.errors import DatasetError, TrainingError


def _word(text: str, line: int, col: int, label: str | None = None) -> DocWord:
    x, y = 10 + 60 * col, 10 + 30 * line
    return DocWord(
        text, ((x, y), (x + 50, y), (x + 50, y + 20), (x, y + 20)), line, col + 1, label
    )


def _receipt(key: str) -> ReceiptDocument:
    """Line 1: shop name; line 2: date + time; line 3: subtotal, tax, total side by side."""
    words = [
        _word("ACME", 1, 0, "MERCHANT_NAME"),
        _word("STORE", 1, 1, "MERCHANT_NAME"),
        _word("01/02/2019", 2, 0, "DATE"),
        _word("10:30", 2, 1, "TIME"),
        _word("012-345", 2, 2, "PHONE_NUMBER"),
        _word("8.00", 3, 0, "SUBTOTAL"),
        _word("0.48", 3, 1, "TAX"),
        _word("8.48", 3, 2, "GRAND_TOTAL"),
        _word("THANKS", 4, 0),
    ]
    return ReceiptDocument(key=key, width=400, height=200, words=words)


def _tags(doc, tokenizer, config: DatasetConfig) -> list[str]:
    labels = label_list(entity_labels([doc], config))
    encoded = encode_documents([doc], tokenizer, EncodingConfig(), labels, config)
    return list(encoded.receipts[0].tags)


def test_presets_merge_and_keep_original_span_boundaries(tokenizer) -> None:
    doc = _receipt("r1")
    assert _tags(doc, tokenizer, DatasetConfig()) == [
        "B-MERCHANT_NAME", "I-MERCHANT_NAME", "B-DATE", "B-TIME", "B-PHONE_NUMBER",
        "B-SUBTOTAL", "B-TAX", "B-GRAND_TOTAL", "O",
    ]  # fmt: skip
    sroie = _tags(doc, tokenizer, DatasetConfig(merge_preset="sroie"))
    # Different original labels stay separate spans after merging (B, B — never B, I).
    assert sroie == [
        "B-MERCHANT_NAME", "I-MERCHANT_NAME", "B-DATE", "B-DATE", "B-ADDRESS",
        "B-AMOUNT", "B-AMOUNT", "B-AMOUNT", "O",
    ]  # fmt: skip
    assert set(MERGE_PRESETS["sroie"]) == (
        set(MERGE_PRESETS["amounts"])
        | set(MERGE_PRESETS["date_time"])
        | set(MERGE_PRESETS["address_phone"])
    )
    assert entity_labels([doc], DatasetConfig(merge_preset="amounts")) == [
        "AMOUNT", "DATE", "MERCHANT_NAME", "PHONE_NUMBER", "TIME",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "merges",
    [{"tax": "AMOUNT"}, {"TAX": "amount"}, {"2TAX": "AMOUNT"}, {"TAX": "_AMOUNT"},
     {"TAX": "AMOUNT\n"}, {"TAX": ""}, {"TAX": 3}],
)
def test_label_merges_follow_the_one_label_rule(merges) -> None:
    """Bad --label-merges input: one clear error, by the same rule the records layer uses."""
    with pytest.raises(DatasetError, match="upper-case"):
        DatasetConfig(label_merges=merges)


def test_legacy_merge_amounts_equals_amounts_preset_and_explicit_merges_win() -> None:
    assert DatasetConfig(merge_amounts=True).merges == DatasetConfig(merge_preset="amounts").merges
    cfg = DatasetConfig(merge_preset="amounts", label_merges={"TAX": "O", "TIP": "AMOUNT"})
    assert cfg.merges["TAX"] == "O" and cfg.merges["TIP"] == "AMOUNT"
    with pytest.raises(DatasetError, match="chain"):
        _ = DatasetConfig(label_merges={"TIME": "DATE", "DATE": "DAY"}).merges
    with pytest.raises(DatasetError, match="upper-case"):
        DatasetConfig(label_merges={"tax": "AMOUNT"})
    with pytest.raises(DatasetError, match="unknown merge preset"):
        DatasetConfig(merge_preset="everything")


def test_allowed_labels_turn_others_into_o(tokenizer) -> None:
    cfg = DatasetConfig(merge_preset="amounts", allowed_labels=("AMOUNT", "DATE"))
    tags = _tags(_receipt("r1"), tokenizer, cfg)
    assert tags == ["O", "O", "B-DATE", "O", "O", "B-AMOUNT", "B-AMOUNT", "B-AMOUNT", "O"]
    assert entity_labels([_receipt("r1")], cfg) == ["AMOUNT", "DATE"]


def _store_with_receipts(tmp_path: Path, n: int):
    from receipt_dynamo import open_store
    from receipt_layoutlm.importers import import_documents

    store = open_store("sqlite", path=tmp_path / "r.sqlite3")
    docs = [_receipt(f"test:{i}") for i in range(n)]
    import_documents(store, docs, source="TEST", label_proposed_by="test")
    return store


def _label(store, doc_key: str, line: int, word: int, label: str, status: str, ts: str):
    from receipt_dynamo import ReceiptWordLabel

    image_id, receipt = doc_key.split("#")
    store.add_word_label(
        ReceiptWordLabel(
            image_id=image_id,
            receipt_id=int(receipt),
            line_id=line,
            word_id=word,
            label=label,
            label_proposed_by="test",
            validation_status=status,
            timestamp_added=ts,
        ),
        overwrite=True,
    )


def test_store_loading_unverified_mask_vs_o_and_conflicts(tmp_path: Path, tokenizer) -> None:
    store = _store_with_receipts(tmp_path, 2)
    docs = load_documents(store, DatasetConfig())
    assert len(docs) == 2 and docs.conflicts == 0
    key = sorted(d.key for d in docs)[0]
    # "THANKS" (line 4) gets an unverified proposal; "ACME" a second VALID label (a conflict).
    _label(store, key, 4, 1, "COUPON", "PENDING", "2024-01-01T00:00:00+00:00")
    _label(store, key, 1, 1, "WEBSITE", "VALID", "2030-01-01T00:00:00+00:00")

    for mode, expect_masked in (("o", False), ("mask", True)):
        cfg = DatasetConfig(unverified=mode)
        docs = load_documents(store, cfg)
        assert docs.conflicts == 1
        doc = next(d for d in docs if d.key == key)
        labels = label_list(entity_labels(docs, cfg))
        encoded = encode_documents(docs.subset([key]), tokenizer, EncodingConfig(), labels, cfg)
        receipt = encoded.receipts[0]
        thanks = next(i for i, w in enumerate(receipt.words) if w.text == "THANKS")
        window = receipt.windows[0]
        first = window.word_index.index(thanks)
        if expect_masked:
            assert window.labels[first] == IGNORE_INDEX
            assert encoded.masked[0] == {thanks}
        else:
            assert window.labels[first] == labels.index("O")
            assert encoded.masked[0] == set()
        # The conflict was resolved by records.document_from_details (newest label wins).
        assert next(w for w in doc.words if w.text == "ACME").label == "WEBSITE"


def test_no_receipts_is_a_clear_error(tmp_path: Path) -> None:
    from receipt_dynamo import open_store

    store = open_store("sqlite", path=tmp_path / "empty.sqlite3")
    with pytest.raises(DatasetError, match="no receipt with labels of status VALID"):
        load_documents(store, DatasetConfig())


def test_split_is_deterministic_hashed_and_can_be_frozen(tmp_path: Path) -> None:
    docs = [_receipt(f"k{i:03d}") for i in range(50)]
    a = split_documents(docs, DatasetConfig(dev_ratio=0.2, split_seed=7))
    b = split_documents(list(reversed(docs)), DatasetConfig(dev_ratio=0.2, split_seed=7))
    c = split_documents(docs, DatasetConfig(dev_ratio=0.2, split_seed=8))
    assert a.keys() == b.keys() and a.hashes == b.hashes
    assert a.keys() != c.keys()
    assert a.counts == {"train": 40, "dev": 10}
    assert not set(a.keys()["train"]) & set(a.keys()["dev"])
    frozen = a.write_json(tmp_path / "split.json")
    again = split_documents(docs, DatasetConfig(split_file=str(frozen), split_seed=99))
    assert again.keys() == a.keys() and again.hashes == a.hashes
    partial = {"train": a.keys()["train"][:5], "dev": [*a.keys()["dev"][:2], "gone"]}
    (tmp_path / "partial.json").write_text(json.dumps(partial))
    p = split_documents(docs, DatasetConfig(split_file=str(tmp_path / "partial.json")))
    assert p.counts == {"train": 5, "dev": 2, "missing": 1, "left_out": 43}
    (tmp_path / "bad.json").write_text(json.dumps({"train": ["k000"], "dev": ["k000"]}))
    with pytest.raises(DatasetError, match="both train and dev"):
        split_documents(docs, DatasetConfig(split_file=str(tmp_path / "bad.json")))


def test_jsonl_dataset_file_and_window_datasets(tmp_path: Path, tokenizer) -> None:
    from receipt_layoutlm.importers import write_jsonl

    path = tmp_path / "data.jsonl"
    write_jsonl([_receipt(f"j{i}") for i in range(6)], path)
    cfg = DatasetConfig(dataset_file=str(path), dev_ratio=0.34, merge_preset="sroie")
    docs = load_documents(None, cfg)
    assert sorted(d.key for d in docs) == [f"j{i}" for i in range(6)]
    split = split_documents(docs, cfg)
    labels = label_list(entity_labels(split.train, cfg))
    ds = build_datasets(split, tokenizer, EncodingConfig(max_seq_length=16, stride=4), labels,
                        config=cfg)  # fmt: skip
    assert set(ds) == {"train", "dev"}
    assert {"input_ids", "attention_mask", "token_type_ids", "bbox", "labels", "key"} <= set(
        ds["train"].column_names
    )
    row = ds["train"][0]
    assert len(row["input_ids"]) == len(row["bbox"]) == len(row["labels"]) <= 16
    assert len(ds["dev"]) > 0 and set(ds["dev"]["key"]) == {d.key for d in split.dev}
    # Windows without any entity can be downsampled (train only).
    only_empty = DatasetConfig(dataset_file=str(path), dev_ratio=0.34, downsample_empty=0.0)
    small = build_datasets(split, tokenizer, EncodingConfig(max_seq_length=16, stride=4), labels,
                           config=only_empty)  # fmt: skip
    assert 0 < len(small["train"]) < len(ds["train"])
    assert len(small["dev"]) == len(ds["dev"])


def test_collator_pads_dynamically_with_pad_boxes() -> None:
    from receipt_layoutlm.training.collator import LayoutLMCollator

    rows = [
        {"input_ids": [101, 5, 102], "attention_mask": [1, 1, 1], "token_type_ids": [0, 0, 0],
         "bbox": [[0, 0, 0, 0], [1, 2, 3, 4], [1000] * 4], "labels": [-100, 1, -100], "key": "a"},
        {"input_ids": [101, 102], "attention_mask": [1, 1], "token_type_ids": [0, 0],
         "bbox": [[0, 0, 0, 0], [1000] * 4], "labels": [-100, -100], "key": "b"},
    ]  # fmt: skip
    batch = LayoutLMCollator(pad_token_id=0)(rows)
    assert set(batch) == {"input_ids", "attention_mask", "token_type_ids", "bbox", "labels"}
    assert tuple(batch["input_ids"].shape) == (2, 3) and tuple(batch["bbox"].shape) == (2, 3, 4)
    assert batch["bbox"][1, 2].tolist() == [0, 0, 0, 0]
    assert batch["labels"][1, 2].item() == -100 and batch["attention_mask"][1, 2].item() == 0
    fixed = LayoutLMCollator(pad_token_id=0, pad_to_length=8)(rows)
    assert tuple(fixed["input_ids"].shape) == (2, 8)


def test_training_config_from_strings_and_validation() -> None:
    from receipt_layoutlm.training import TrainingConfig

    cfg, rest = TrainingConfig.from_strings(
        {"epochs": "3", "learning_rate": "1e-4", "model_size": "tiny", "max_steps": "None",
         "job_name": "x"}
    )  # fmt: skip
    assert (cfg.epochs, cfg.learning_rate, cfg.model_size, cfg.max_steps) == (3, 1e-4, "tiny", None)
    assert rest == {"job_name": "x"}
    with pytest.raises(TrainingError, match="learning_rate"):
        TrainingConfig(learning_rate=math.nan)
    with pytest.raises(TrainingError, match="model_size"):
        TrainingConfig.from_strings({"model_size": "huge"})


@pytest.mark.slow
def test_warm_start_copies_text_encoder_and_lists_new_tensors() -> None:
    from safetensors.torch import load_file

    from receipt_layoutlm.pretrained import minilm_dir
    from receipt_layoutlm.training import TrainingConfig, build_model

    init = build_model(TrainingConfig(init_from=str(minilm_dir())), ["O", "B-X", "I-X"])
    assert sorted(init.new_tensors) == sorted(
        [f"layoutlm.embeddings.{a}_position_embeddings.weight" for a in "xyhw"]
        + ["classifier.weight", "classifier.bias"]
    )
    source = load_file(str(minilm_dir() / "model.safetensors"))
    state = init.model.state_dict()
    for name in ("embeddings.word_embeddings.weight", "encoder.layer.5.output.dense.weight"):
        assert (state[f"layoutlm.{name}"] == source[name]).all()
    assert init.model.config.num_labels == 3


@pytest.mark.slow
def test_init_layers_keeps_the_lower_layers_of_the_warm_start() -> None:
    from safetensors.torch import load_file

    from receipt_layoutlm.pretrained import minilm_dir
    from receipt_layoutlm.training import TrainingConfig, build_model

    init = build_model(TrainingConfig(init_layers=4), ["O", "B-X", "I-X"])
    assert init.model.config.num_hidden_layers == 4
    source = load_file(str(minilm_dir() / "model.safetensors"))
    state = init.model.state_dict()
    assert (state["layoutlm.encoder.layer.3.output.dense.weight"]
            == source["encoder.layer.3.output.dense.weight"]).all()
    assert not any(".layer.4." in name for name in state)
    assert not any(".layer.4." in name for name in init.copied_tensors)
    with pytest.raises(TrainingError, match=r"--init-layers 7: the warm start \S+ has 6 layers"):
        build_model(TrainingConfig(init_layers=7), ["O", "B-X", "I-X"])


def test_init_layers_needs_a_warm_start() -> None:
    from receipt_layoutlm.training import TrainingConfig

    with pytest.raises(TrainingError, match="init_layers must be >= 1"):
        TrainingConfig(init_layers=0)
    with pytest.raises(TrainingError, match="init_layers needs a warm start"):
        TrainingConfig(init_layers=2, model_size="tiny")
    with pytest.raises(TrainingError, match="init_layers needs a warm start"):
        TrainingConfig(init_layers=2, pretrained="somewhere")
