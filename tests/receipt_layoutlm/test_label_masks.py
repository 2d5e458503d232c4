"""One model on several datasets (``--mix``): the per-dataset label-mask loss, the logit fold that
reads the model with one dataset's labels, the mix's loading and checks, and a joint tiny run on
SROIE + WildReceipt receipts with its checkpoint metadata and per-dataset evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from receipt_layoutlm.data import DatasetConfig, dataset_label_sets, load_documents, parse_mix
from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.errors import DatasetError
from receipt_layoutlm.training.label_masks import (
    DatasetLabelMasks,
    fold_unannotated,
    recorded_label_set,
    unannotated_tags,
)

LABELS = ["O", "B-DATE", "I-DATE", "B-PHONE_NUMBER", "I-PHONE_NUMBER"]
"""A union label list: dataset ``a`` annotates DATE only, ``b`` DATE and PHONE_NUMBER."""
SETS = {"a": ["DATE"], "b": ["DATE", "PHONE_NUMBER"]}


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_unannotated_tags_mark_the_other_datasets_labels_never_o() -> None:
    assert unannotated_tags(LABELS, ["DATE"]) == [False, False, False, True, True]
    assert unannotated_tags(LABELS, ["DATE", "PHONE_NUMBER"]) == [False] * 5
    masks = DatasetLabelMasks.from_label_sets(LABELS, SETS)
    assert masks.names == ("a", "b") and masks.outside_id == 0
    assert masks.unannotated[0] == (False, False, False, True, True)


def test_loss_of_an_o_word_ignores_the_labels_its_dataset_never_annotates() -> None:
    torch = pytest.importorskip("torch")
    from receipt_layoutlm.training.label_masks import masked_token_loss

    masks = DatasetLabelMasks.from_label_sets(LABELS, SETS)
    rows = torch.tensor(masks.unannotated)
    # One O word the model calls a phone number with near certainty.
    logits = torch.tensor([[[0.0, 0.0, 0.0, 12.0, 0.0]]], requires_grad=True)
    labels = torch.tensor([[0]])
    plain = torch.nn.functional.cross_entropy(logits.view(-1, 5), labels.view(-1))
    in_a = masked_token_loss(logits, labels, rows[[0]], masks.outside_id)
    in_b = masked_token_loss(logits, labels, rows[[1]], masks.outside_id)
    assert plain.item() > 11.0
    # Dataset a never marks phone numbers: its O may be one, so nothing is charged...
    assert in_a.item() < 1e-3
    # ...dataset b marks them, so its O word called a phone number costs the full loss.
    assert in_b.item() == pytest.approx(plain.item(), abs=1e-5)
    # Moving probability between O and the unannotated tags changes nothing for a's word.
    pooled = torch.logsumexp(logits.detach()[0, 0, [0, 3, 4]], 0).item()
    moved = torch.tensor([[[pooled, 0.0, 0.0, -30.0, -30.0]]])
    assert masked_token_loss(moved, labels, rows[[0]], 0).item() == pytest.approx(
        in_a.item(), abs=1e-5
    )
    # What a's O word does teach: it is no DATE (descent lowers B-/I-DATE, raises the pool).
    (grad,) = torch.autograd.grad(in_a, logits)
    assert (grad[0, 0, [1, 2]] > 0).all() and grad[0, 0, [0, 3, 4]].sum() < 0


def test_loss_equals_cross_entropy_where_nothing_is_unannotated() -> None:
    torch = pytest.importorskip("torch")
    from receipt_layoutlm.training.label_masks import masked_token_loss

    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 6, 5, generator=generator)
    labels = torch.tensor([[0, 1, 2, 0, -100, 3], [4, 3, 0, -100, -100, 1]])
    nothing = torch.zeros(2, 5, dtype=torch.bool)
    expected = torch.nn.functional.cross_entropy(logits.view(-1, 5), labels.view(-1))
    got = masked_token_loss(logits, labels, nothing, 0)
    assert got.item() == pytest.approx(expected.item(), rel=1e-6)
    # An annotated (non-O) word is scored over every label, unannotated ones included.
    phone_off = torch.tensor([[False, False, False, True, True]] * 2)
    date_words = torch.where(labels == 1, labels, torch.full_like(labels, -100))
    assert masked_token_loss(logits, date_words, phone_off, 0).item() == pytest.approx(
        torch.nn.functional.cross_entropy(logits.view(-1, 5), date_words.view(-1)).item(),
        rel=1e-6,
    )


def test_loss_for_o_is_the_log_of_o_plus_the_unannotated_probabilities() -> None:
    torch = pytest.importorskip("torch")
    from receipt_layoutlm.training.label_masks import masked_token_loss

    logits = torch.tensor([[[1.0, 0.5, -1.0, 2.0, 0.3]]])
    p = torch.softmax(logits[0, 0], 0)
    loss = masked_token_loss(logits, torch.tensor([[0]]), torch.tensor([[0, 0, 0, 1, 1]]), 0)
    assert loss.item() == pytest.approx(-torch.log(p[0] + p[3] + p[4]).item(), rel=1e-6)
    # Only the counted tokens average in; -100 everywhere is 0, not NaN.
    none = masked_token_loss(logits, torch.tensor([[-100]]), torch.tensor([[0, 0, 0, 1, 1]]), 0)
    assert none.item() == 0.0


def test_fold_moves_the_unannotated_probability_onto_o_and_keeps_the_rest() -> None:
    logits = np.array([[0.2, 1.5, -0.3, 2.5, 0.1], [3.0, 0.0, 0.0, 0.0, 0.0]], dtype=np.float32)
    mask = unannotated_tags(LABELS, ["DATE"])
    before, after = _softmax(logits), _softmax(fold_unannotated(logits, mask, 0))
    np.testing.assert_allclose(after[:, 0], before[:, 0] + before[:, 3] + before[:, 4], rtol=1e-5)
    np.testing.assert_allclose(after[:, 1:3], before[:, 1:3], rtol=1e-5)
    assert np.all(after[:, 3:] < 1e-30)
    assert after.argmax(-1).tolist() == [0, 0]  # the phone-number word reads as O for a
    assert fold_unannotated(logits, [False] * 5, 0) is logits


def test_parse_mix_refuses_unnamed_duplicate_and_path_like_names() -> None:
    assert parse_mix(["sroie=a.jsonl", "wild=b.jsonl"]) == {"sroie": "a.jsonl", "wild": "b.jsonl"}
    with pytest.raises(DatasetError, match=r"--mix takes NAME=FILE\.jsonl, got 'a\.jsonl'"):
        parse_mix(["a.jsonl"])
    with pytest.raises(DatasetError, match="names dataset 'x' twice"):
        parse_mix(["x=a.jsonl", "x=b.jsonl"])
    with pytest.raises(DatasetError, match=r"dataset name '\.\./x' is not allowed \(--mix\)"):
        parse_mix(["../x=a.jsonl"])
    with pytest.raises(DatasetError, match="--dataset and --mix both name training data"):
        DatasetConfig(dataset_file="a.jsonl", mix=("x=b.jsonl",))


def _doc(key: str, labels: list[str | None]) -> ReceiptDocument:
    words = [
        DocWord(
            text=f"w{i}",
            corners=((10.0 * i, 10.0), (10.0 * i + 8, 10.0), (10.0 * i + 8, 20.0),
                     (10.0 * i, 20.0)),
            line_id=1,
            word_id=i + 1,
            label=label,
        )
        for i, label in enumerate(labels)
    ]
    return ReceiptDocument(key=key, width=200.0, height=100.0, words=words)


def _write(path: Path, docs: list[ReceiptDocument]) -> str:
    from receipt_layoutlm.importers import write_jsonl

    write_jsonl(docs, path)
    return str(path)


def test_mix_tags_receipts_and_finds_each_datasets_labels(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.jsonl", [_doc("a:1", ["DATE", None]), _doc("a:2", [None, None])])
    b = _write(tmp_path / "b.jsonl", [_doc("b:1", ["PHONE_NUMBER", "DATE", None])])
    config = DatasetConfig(mix=(f"a={a}", f"b={b}"))
    docs = load_documents(None, config)
    assert [d.key for d in docs] == ["a:1", "a:2", "b:1"]
    assert docs.datasets == {"a:1": "a", "a:2": "a", "b:1": "b"}
    assert docs.subset(["b:1"]).datasets == {"b:1": "b"}
    assert dataset_label_sets(docs, config) == {"a": ["DATE"], "b": ["DATE", "PHONE_NUMBER"]}
    merged = DatasetConfig(mix=config.mix, label_merges={"PHONE_NUMBER": "O"})
    assert dataset_label_sets(docs, merged)["b"] == ["DATE"]
    # The round trip a checkpoint's dataset_config makes.
    assert DatasetConfig.from_dict(json.loads(json.dumps(config.to_dict()))).mix == config.mix


def test_mix_windows_carry_their_dataset_to_the_loss(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from receipt_layoutlm.data import encode_documents, rows_to_dataset, window_rows
    from receipt_layoutlm.encoding import EncodingConfig, label_list, load_tokenizer
    from receipt_layoutlm.pretrained import minilm_dir
    from receipt_layoutlm.training.collator import LayoutLMCollator

    a = _write(tmp_path / "a.jsonl", [_doc("a:1", ["DATE", None])])
    b = _write(tmp_path / "b.jsonl", [_doc("b:1", ["PHONE_NUMBER", None]), _doc("b:2", [None])])
    config = DatasetConfig(mix=(f"b={b}", f"a={a}"))  # indices follow the sorted names
    docs = load_documents(None, config)
    tokenizer = load_tokenizer(minilm_dir())
    encoded = encode_documents(docs, tokenizer, EncodingConfig(64, 16),
                               label_list(["DATE", "PHONE_NUMBER"]), config)
    assert encoded.datasets == [1, 1, 0]
    rows = window_rows(encoded)
    assert [r["dataset"] for r in rows] == [1, 1, 0]
    assert rows_to_dataset(rows)["dataset"] == [1, 1, 0]
    batch = LayoutLMCollator(pad_token_id=0)(rows)
    assert batch["dataset"].tolist() == [1, 1, 0]
    single = encode_documents(docs, tokenizer, EncodingConfig(64, 16),
                              label_list(["DATE", "PHONE_NUMBER"]), DatasetConfig())
    assert single.datasets is None and "dataset" not in window_rows(single)[0]


def test_mix_refuses_a_dataset_without_labels_and_a_receipt_in_two(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.jsonl", [_doc("a:1", ["DATE", None])])
    empty = _write(tmp_path / "e.jsonl", [_doc("e:1", [None, None])])
    config = DatasetConfig(mix=(f"a={a}", f"e={empty}"))
    with pytest.raises(DatasetError, match="dataset 'e' of --mix annotates no label"):
        dataset_label_sets(load_documents(None, config), config)
    twice = DatasetConfig(mix=(f"a={a}", f"again={a}"))
    with pytest.raises(DatasetError, match="receipt 'a:1' is in dataset 'a' and in 'again'"):
        load_documents(None, twice)


def test_recorded_label_set_names_the_known_datasets(tmp_path: Path) -> None:
    (tmp_path / "checkpoint.json").write_text(json.dumps({"dataset_labels": SETS}))
    assert recorded_label_set(tmp_path, "b") == ["DATE", "PHONE_NUMBER"]
    with pytest.raises(DatasetError, match="unknown dataset; the model was trained on a, b"):
        recorded_label_set(tmp_path, "c")
    (tmp_path / "checkpoint.json").write_text(json.dumps({"job_name": "x"}))
    with pytest.raises(DatasetError, match="was not trained on a --mix"):
        recorded_label_set(tmp_path, "a")


@pytest.fixture(scope="module")
def mix_files(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Eight SROIE and eight WildReceipt receipts, one JSONL file each."""
    from receipt_layoutlm.importers import get_importer, write_jsonl

    root = tmp_path_factory.mktemp("mix")
    sroie = get_importer("sroie")(shared_data / "sroie" / "train", limit=8).documents
    wild = get_importer("wildreceipt")(
        shared_data / "wildreceipt" / "labelled" / "receipts.txt", limit=8
    ).documents
    write_jsonl(sroie, root / "sroie.jsonl")
    write_jsonl(wild, root / "wild.jsonl")
    return {"sroie": str(root / "sroie.jsonl"), "wild": str(root / "wild.jsonl")}


@pytest.mark.slow
def test_joint_run_records_label_sets_and_evaluates_per_dataset(
    mix_files: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    from receipt_cloud.objects import open_object_store
    from receipt_dynamo import open_store
    from receipt_layoutlm.checkpoint import read_meta
    from receipt_layoutlm.cli import main
    from receipt_layoutlm.training import TrainingConfig, train

    store = open_store("sqlite", path=tmp_path / "receipts.sqlite3")
    mix = tuple(f"{name}={path}" for name, path in mix_files.items())
    config = DatasetConfig(mix=mix, dev_ratio=0.25)
    result = train(
        TrainingConfig(model_size="tiny", epochs=1, batch_size=4, learning_rate=1e-3,
                       max_seq_length=128, stride=32),
        config,
        store=store,
        objects=open_object_store(str(tmp_path / "objects")),
        job_name="layoutlm-mix",
        output_dir=tmp_path / "work",
    )
    assert result.status.value == "SUCCEEDED"
    sroie_labels = ["ADDRESS_LINE", "DATE", "GRAND_TOTAL", "MERCHANT_NAME"]
    best = result.output_dir / "best"
    recorded = read_meta(best)["dataset_labels"]
    assert recorded["sroie"] == sroie_labels
    assert set(recorded["wild"]) > set(sroie_labels)  # WildReceipt marks items, phones...
    labels = json.loads((best / "label_map.json").read_text())["labels"]
    assert {t[2:] for t in labels if t != "O"} == set(recorded["sroie"]) | set(recorded["wild"])
    summary = store.get_job_by_name("layoutlm-mix").job_config["dataset_summary"]
    assert summary["dataset_labels"] == recorded
    assert summary["dataset_receipts"] == {"sroie": 8, "wild": 8}

    argv = ["evaluate", "--model", str(best), "--mix", mix[0], "--mix", mix[1],
            "--split-side", "dev", "--output-dir", str(tmp_path / "eval")]
    assert main([*argv, "--label-set", "sroie"]) == 0
    out = capsys.readouterr().out
    sroie_only = json.loads(out[out.rindex('{\n  "receipts"'):])
    dev_keys = json.loads((tmp_path / "work" / "run.json").read_text())
    assert "sroie_task3_f1" in sroie_only and "wildreceipt_segment_macro_f1" not in sroie_only
    assert set(sroie_only["per_label_f1"]) <= set(sroie_labels)
    assert main([*argv, "--label-set", "wild"]) == 0
    out = capsys.readouterr().out
    wild_only = json.loads(out[out.rindex('{\n  "receipts"'):])
    assert "wildreceipt_segment_macro_f1" in wild_only and "sroie_task3_f1" not in wild_only
    split_counts = dev_keys["split"]["counts"]
    assert sroie_only["receipts"] + wild_only["receipts"] == split_counts["dev"]
    assert main([*argv, "--label-set", "cord"]) == 2
    assert "unknown dataset; the model was trained on sroie, wild" in capsys.readouterr().err
