"""The SageMaker entrypoint end to end in a subprocess, with a temporary dir standing in for
/opt/ml: string hyperparameters, a JSONL training channel, a tiny model, best model in
SM_MODEL_DIR, checkpoints in the checkpoint dir, the Job in the (local) store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from receipt_layoutlm.document import DocWord, ReceiptDocument

REPO = Path(__file__).resolve().parents[2]
ENTRYPOINT = REPO / "infra" / "sagemaker_training" / "train.py"

pytestmark = pytest.mark.slow


def _doc(i: int) -> ReceiptDocument:
    rows = [("SHOP", "MERCHANT_NAME"), (f"0{i % 9 + 1}/01/2020", "DATE"), ("ITEM", None),
            (f"{i}.50", "GRAND_TOTAL"), ("THANK", None)]  # fmt: skip
    words = []
    for line, (text, label) in enumerate(rows, 1):
        y = 20 * line
        words.append(DocWord(text, ((10, y), (90, y), (90, y + 15), (10, y + 15)), line, 1, label))
    return ReceiptDocument(key=f"sm:{i}", width=200, height=150, words=words)


def test_entrypoint_trains_from_a_jsonl_channel(tmp_path: Path) -> None:
    from receipt_dynamo import open_store
    from receipt_layoutlm.checkpoint import load_checkpoint
    from receipt_layoutlm.importers import write_jsonl

    base = tmp_path / "opt-ml"
    channel = base / "input" / "data" / "training"
    channel.mkdir(parents=True)
    write_jsonl([_doc(i) for i in range(8)], channel / "receipts.jsonl")
    config = base / "input" / "config"
    config.mkdir(parents=True)
    hyperparameters = {
        "model_size": "tiny", "epochs": "2", "batch_size": "4", "learning_rate": "0.001",
        "max_seq_length": "64", "stride": "16", "dev_ratio": "0.25", "merge_preset": '"sroie"',
        "early_stopping_patience": "0", "env": "local",
    }  # fmt: skip
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    home = tmp_path / "home"
    env = {
        **os.environ,
        "SM_BASE_DIR": str(base),
        "SM_CHANNEL_TRAINING": str(channel),
        "TRAINING_JOB_NAME": "layoutlm-sm-test",
        "RECEIPTS_HOME": str(home),
        "HF_HUB_OFFLINE": "1",
    }
    proc = subprocess.run(
        [sys.executable, str(ENTRYPOINT), "train"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    model = load_checkpoint(base / "model")
    assert "B-AMOUNT" in model.labels  # the sroie preset merged GRAND_TOTAL
    assert any((base / "checkpoints" / "checkpoints").glob("checkpoint-*"))
    assert (base / "output" / "data" / "run.json").exists()
    run = json.loads((base / "output" / "data" / "run.json").read_text())
    assert run["config"]["epochs"] == 2 and run["dataset_config"]["merge_preset"] == "sroie"
    store = open_store("sqlite", path=home / "receipts.sqlite3")
    job = store.get_job_by_name("layoutlm-sm-test")
    assert job.status.value == "SUCCEEDED" and job.results["best_checkpoint_s3_path"]
    assert not (base / "output" / "failure").exists()


def test_entrypoint_failure_writes_the_reason(tmp_path: Path) -> None:
    base = tmp_path / "opt-ml"
    (base / "input" / "config").mkdir(parents=True)
    (base / "input" / "config" / "hyperparameters.json").write_text(
        json.dumps({"model_size": "tiny", "env": "local"})
    )
    env = {**os.environ, "SM_BASE_DIR": str(base), "TRAINING_JOB_NAME": "sm-empty",
           "RECEIPTS_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}  # fmt: skip
    env.pop("SM_CHANNEL_TRAINING", None)
    proc = subprocess.run(
        [sys.executable, str(ENTRYPOINT)], env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "no receipt with labels" in (base / "output" / "failure").read_text()
