"""The checkpoint directory contract: save → load round trip and every refusal."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tiny_layoutlm import tiny_layoutlm

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from receipt_layoutlm.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402
from receipt_layoutlm.document import DocWord, ReceiptDocument  # noqa: E402
from receipt_layoutlm.encoding import (  # noqa: E402
    EncodingConfig,
    encode_receipt,
    label_list,
)
from receipt_layoutlm.errors import CheckpointError  # noqa: E402
from receipt_layoutlm.pretrained import minilm_dir  # noqa: E402

LABELS = label_list(["DATE", "GRAND_TOTAL", "MERCHANT_NAME"])


def _tiny_model(num_labels: int, vocab_size: int, seed: int = 0):
    return tiny_layoutlm(num_labels, vocab_size, seed=seed)


@pytest.fixture(scope="module")
def saved(tmp_path_factory, tokenizer) -> Path:
    directory = tmp_path_factory.mktemp("ckpt") / "best"
    model = _tiny_model(len(LABELS), len(tokenizer))
    save_checkpoint(
        directory,
        model,
        tokenizer,
        LABELS,
        EncodingConfig(max_seq_length=64, stride=16),
        extra_meta={"job_id": "job-123", "job_name": "layoutlm-test", "best_f1": 0.5},
    )
    return directory


def _doc() -> ReceiptDocument:
    words = []
    for i, text in enumerate(["ACME", "STORE", "TOTAL", "12.50", "01/02/2024"]):
        x = 10 + 70 * i
        words.append(
            DocWord(text=text, corners=((x, 10), (x + 60, 10), (x + 60, 30), (x, 30)), line_id=1)
        )
    return ReceiptDocument(key="t:1", width=400, height=100, words=words)


def test_round_trip_files_labels_encoding_meta_and_logits(saved: Path, tokenizer) -> None:
    for name in (
        "model.safetensors",
        "config.json",
        "tokenizer.json",
        "vocab.txt",
        "label_map.json",
        "encoding.json",
        "checkpoint.json",
    ):
        assert (saved / name).is_file(), name
    label_map = json.loads((saved / "label_map.json").read_text())
    assert label_map["labels"] == LABELS
    assert label_map["id2label"] == {str(i): t for i, t in enumerate(LABELS)}
    assert label_map["label2id"] == {t: i for i, t in enumerate(LABELS)}
    # vocab.txt is the tokenizer's vocabulary, line number = id.
    vocab_lines = (saved / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert vocab_lines == (minilm_dir() / "vocab.txt").read_text(encoding="utf-8").splitlines()

    ckpt = load_checkpoint(saved)
    assert ckpt.labels == LABELS
    assert ckpt.encoding_config == EncodingConfig(max_seq_length=64, stride=16)
    assert ckpt.meta["job_id"] == "job-123"
    assert ckpt.model.config.id2label == dict(enumerate(LABELS))

    # Same weights and same tokenizer: identical inputs and logits.
    doc = _doc()
    config = ckpt.encoding_config
    a = encode_receipt(doc, tokenizer, config).windows[0].as_arrays()
    b = encode_receipt(doc, ckpt.tokenizer, config).windows[0].as_arrays()
    for key in a:
        assert (a[key] == b[key]).all()
    reference = _tiny_model(len(LABELS), len(tokenizer))
    tensors = {k: torch.from_numpy(v) for k, v in a.items()}
    with torch.no_grad():
        assert torch.allclose(reference(**tensors).logits, ckpt.model(**tensors).logits)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope")


def test_no_weights_file(saved: Path, tmp_path: Path) -> None:
    broken = tmp_path / "ckpt"
    shutil.copytree(saved, broken)
    (broken / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="no weights file"):
        load_checkpoint(broken)


def test_missing_label_map(saved: Path, tmp_path: Path) -> None:
    broken = tmp_path / "ckpt"
    shutil.copytree(saved, broken)
    (broken / "label_map.json").unlink()
    with pytest.raises(CheckpointError, match=r"label_map\.json"):
        load_checkpoint(broken)


def test_label_map_from_another_run(saved: Path, tmp_path: Path) -> None:
    broken = tmp_path / "ckpt"
    shutil.copytree(saved, broken)
    (broken / "label_map.json").write_text(json.dumps({"labels": ["O", "B-X"]}))
    with pytest.raises(CheckpointError, match="different runs"):
        load_checkpoint(broken)


def test_nan_weights_refused_on_save_and_load(saved: Path, tmp_path: Path, tokenizer) -> None:
    from safetensors.torch import load_file, save_file

    model = _tiny_model(len(LABELS), len(tokenizer))
    with torch.no_grad():
        model.classifier.weight[0, 0] = float("nan")
    target = tmp_path / "never"
    with pytest.raises(CheckpointError, match="NaN/Inf"):
        save_checkpoint(target, model, tokenizer, LABELS, EncodingConfig())
    assert not target.exists()

    broken = tmp_path / "ckpt"
    shutil.copytree(saved, broken)
    weights = load_file(str(broken / "model.safetensors"))
    name = next(k for k in weights if k.endswith("classifier.weight"))
    weights[name][0, 0] = float("inf")
    save_file(weights, str(broken / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(CheckpointError, match=r"NaN/Inf weights in .*classifier\.weight"):
        load_checkpoint(broken)


def test_label_count_must_match_model(tmp_path: Path, tokenizer) -> None:
    model = _tiny_model(3, len(tokenizer))
    with pytest.raises(CheckpointError, match="3 output labels"):
        save_checkpoint(tmp_path / "c", model, tokenizer, LABELS, EncodingConfig())


@pytest.mark.aws
def test_fetch_from_s3_and_nonexistent_uri(aws_env, unique_name, saved: Path, tmp_path) -> None:
    import boto3

    from receipt_cloud.objects import open_object_store
    from receipt_layoutlm.remote_dirs import fetch_checkpoint

    boto3.client("s3").create_bucket(Bucket=unique_name)
    open_object_store(f"s3://{unique_name}/runs/job/best").upload_dir(saved, "")
    local = fetch_checkpoint(f"s3://{unique_name}/runs/job/best", tmp_path / "dl")
    assert load_checkpoint(local).labels == LABELS

    target = tmp_path / "missing"
    with pytest.raises(CheckpointError, match="does not exist"):
        fetch_checkpoint(f"s3://{unique_name}/runs/nope/best", target)
    assert not target.exists()


@pytest.mark.aws
def test_fetched_checkpoint_removes_its_download(aws_env, unique_name, saved: Path) -> None:
    import boto3

    from receipt_cloud.objects import open_object_store
    from receipt_layoutlm.remote_dirs import fetched_checkpoint

    boto3.client("s3").create_bucket(Bucket=unique_name)
    open_object_store(f"s3://{unique_name}/runs/job/best").upload_dir(saved, "")
    with fetched_checkpoint(f"s3://{unique_name}/runs/job/best") as local:
        assert load_checkpoint(local).labels == LABELS
    assert not local.exists() and not local.parent.exists()
    with fetched_checkpoint(saved) as same:  # a local directory is used in place and kept
        assert same == saved
    assert saved.is_dir()


def test_training_dataset_config_from_meta_or_the_runs_run_json(saved: Path, tmp_path) -> None:
    from receipt_layoutlm.run_record import training_dataset_config

    best = tmp_path / "run" / "best"
    shutil.copytree(saved, best)
    meta = json.loads((best / "checkpoint.json").read_text())
    assert training_dataset_config(best) == {}
    run = {"job_id": meta.get("job_id"), "dataset_config": {"dev_ratio": 0.3}}
    (best.parent / "run.json").write_text(json.dumps(run))
    assert training_dataset_config(best) == {"dev_ratio": 0.3}
    meta["dataset_config"] = {"dev_ratio": 0.4}
    (best / "checkpoint.json").write_text(json.dumps(meta))
    assert training_dataset_config(best) == {"dev_ratio": 0.4}


@pytest.mark.parametrize("text", ["{not json", "[1, 2]"])
def test_an_unreadable_run_record_is_not_used_and_says_so(
    saved: Path, tmp_path, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    from receipt_layoutlm.run_record import training_dataset_config

    best = tmp_path / "run" / "best"
    shutil.copytree(saved, best)
    (best.parent / "run.json").write_text(text)
    with caplog.at_level("WARNING", logger="receipt_layoutlm.run_record"):
        assert training_dataset_config(best) == {}
    assert "unreadable run record" in caplog.text and "run.json" in caplog.text


def test_recorded_job_reads_checkpoint_json_without_the_weights(tmp_path) -> None:
    from receipt_layoutlm.bundle_format import META_FILE
    from receipt_layoutlm.errors import CheckpointError
    from receipt_layoutlm.run_record import recorded_job

    assert recorded_job(tmp_path) is None
    (tmp_path / META_FILE).write_text('{"job_id": "j-1", "job_name": "layoutlm-x"}')
    assert recorded_job(tmp_path) == "layoutlm-x"
    (tmp_path / META_FILE).write_text('{"job_id": "j-1"}')
    assert recorded_job(str(tmp_path)) == "j-1"
    (tmp_path / META_FILE).write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        recorded_job(tmp_path)
    (tmp_path / META_FILE).write_text("[1, 2]")  # JSON, but not an object
    with pytest.raises(CheckpointError, match="not valid JSON"):
        recorded_job(tmp_path)
