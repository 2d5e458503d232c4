"""End to end: 20 imported SROIE receipts → a tiny model trained for 2 epochs, the Job and its
metrics, the artifacts, an interruption (SIGTERM) and the resume that finishes only epoch 2."""

from __future__ import annotations

import json
import os
import random
import signal
from pathlib import Path

import pytest

from receipt_dynamo.vocabulary import JobStatus
from receipt_layoutlm.document import DocWord, ReceiptDocument

pytestmark = pytest.mark.slow

TINY = {
    "model_size": "tiny",
    "epochs": 2,
    "batch_size": 4,
    "learning_rate": 1e-3,
    "max_seq_length": 128,
    "stride": 32,
}


@pytest.fixture(scope="module")
def sroie_store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    from receipt_dynamo import open_store
    from receipt_layoutlm.importers import get_importer, import_documents

    root = tmp_path_factory.mktemp("train-store")
    store = open_store("sqlite", path=root / "receipts.sqlite3")
    parsed = get_importer("sroie")(shared_data / "sroie" / "train", limit=20)
    report = import_documents(
        store, parsed.documents, source="SROIE", label_proposed_by="import:sroie"
    )
    assert report.receipts_written == 20
    return store


@pytest.fixture
def objects(tmp_path: Path):
    from receipt_cloud.objects import open_object_store

    return open_object_store(str(tmp_path / "objects"))


def _epoch_metrics(store, job_id: str, name: str) -> dict[int, float]:
    rows = store.list_job_metrics(job_id, metric_name=name)
    epochs = [m.epoch for m in rows]
    assert len(epochs) == len(set(epochs)), f"{name} recorded twice for an epoch: {epochs}"
    return {m.epoch: m.value for m in rows}


def test_train_records_job_metrics_and_artifacts(sroie_store, objects, tmp_path: Path) -> None:
    from receipt_layoutlm.checkpoint import load_checkpoint
    from receipt_layoutlm.data import DatasetConfig
    from receipt_layoutlm.training import TrainingConfig, train

    result = train(
        TrainingConfig(**TINY),
        DatasetConfig(dev_ratio=0.25),
        store=sroie_store,
        objects=objects,
        job_name="layoutlm-e2e",
        output_dir=tmp_path / "work",
    )
    assert result.status is JobStatus.SUCCEEDED
    job = sroie_store.get_job_by_name("layoutlm-e2e")
    assert job.status.value == "SUCCEEDED"
    assert set(job.results) >= {"best_f1", "best_epoch", "best_checkpoint_s3_path"}
    assert job.results["best_epoch"] in (1, 2)
    assert job.results["best_checkpoint_s3_path"] == objects.uri("runs/layoutlm-e2e/best")
    split = job.job_config["split"]
    assert split["counts"] == {"train": 15, "dev": 5} and set(split["hashes"]) == {"train", "dev"}
    assert job.job_config["training"]["seed"] == 42

    for name in ("loss", "learning_rate", "eval_f1", "eval_precision", "eval_recall"):
        assert set(_epoch_metrics(sroie_store, job.job_id, name)) == {1, 2}, name
    per_label = _epoch_metrics(sroie_store, job.job_id, "eval_per_label")
    assert set(per_label[2]) <= {"MERCHANT_NAME", "ADDRESS_LINE", "DATE", "GRAND_TOTAL"}
    assert per_label[2] and all("f1" in v and "support" in v for v in per_label[2].values())
    best_f1 = _epoch_metrics(sroie_store, job.job_id, "eval_f1")[job.results["best_epoch"]]
    assert job.results["best_f1"] == pytest.approx(best_f1)

    keys = set(objects.list("runs/layoutlm-e2e/"))
    for name in ("run.json", "metrics.jsonl", "learning_curves.png", "confusion_matrix.png"):
        assert f"runs/layoutlm-e2e/{name}" in keys, name
    assert any(k.startswith("runs/layoutlm-e2e/checkpoints/checkpoint-") for k in keys)
    best = tmp_path / "downloaded-best"
    objects.download_dir("runs/layoutlm-e2e/best", best)
    checkpoint = load_checkpoint(best)
    assert checkpoint.labels == job.job_config["labels"]
    run = json.loads(objects.get_bytes("runs/layoutlm-e2e/run.json"))
    assert run["split"]["hashes"] == split["hashes"]
    assert run["results"]["best_checkpoint_s3_path"] == job.results["best_checkpoint_s3_path"]
    assert {"load_s", "encode_s", "train_s", "total_s"} <= set(run["timings"])
    lines = objects.get_bytes("runs/layoutlm-e2e/metrics.jsonl").decode().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2]

    # The per-epoch word-level metrics equal the inference path's on the same dev receipts: the
    # eval windows were decoded in dataset order (a length-grouped eval order would break this).
    from receipt_layoutlm.data import load_documents, split_documents
    from receipt_layoutlm.evaluation.evaluate import evaluate_documents
    from receipt_layoutlm.runtime import load_runtime

    dev = split_documents(load_documents(sroie_store), DatasetConfig(dev_ratio=0.25)).dev
    evaluation = evaluate_documents(load_runtime("torch", best), list(dev))
    final = job.results["final_eval"]
    assert evaluation.metrics["token_accuracy"] == pytest.approx(final["eval_accuracy"], abs=1e-6)
    assert evaluation.metrics["entity"]["f1"] == pytest.approx(final["eval_f1"], abs=1e-6)


def test_sigterm_interrupts_and_resume_runs_only_the_rest(
    sroie_store, objects, tmp_path: Path
) -> None:
    from transformers import TrainerCallback

    from receipt_layoutlm.data import DatasetConfig
    from receipt_layoutlm.training import TrainingConfig, train

    class SigtermAfterFirstEpoch(TrainerCallback):
        """Plays the spot reclaim: SIGTERM once epoch 1's checkpoint is saved."""

        steps_per_epoch = 0

        def on_save(self, args, state, control, **kwargs):
            if state.epoch >= 1 and not self.steps_per_epoch:
                type(self).steps_per_epoch = state.global_step
                os.kill(os.getpid(), signal.SIGTERM)

    config, data = TrainingConfig(**TINY), DatasetConfig(dev_ratio=0.25)
    work = tmp_path / "work"
    first = train(
        config,
        data,
        store=sroie_store,
        objects=objects,
        job_name="layoutlm-resume",
        output_dir=work,
        callbacks=[SigtermAfterFirstEpoch()],
    )
    assert first.status is JobStatus.INTERRUPTED
    job = sroie_store.get_job_by_name("layoutlm-resume")
    assert job.status.value == "INTERRUPTED"
    assert "SIGTERM" in job.status_message and "--job-name layoutlm-resume" in job.status_message
    assert "best_checkpoint_s3_path" not in job.results
    assert set(_epoch_metrics(sroie_store, job.job_id, "eval_f1")) == {1}
    per_epoch = SigtermAfterFirstEpoch.steps_per_epoch
    assert per_epoch > 0

    # A fresh machine: no local work dir, the checkpoint comes back from the object store.
    second = train(
        config,
        data,
        store=sroie_store,
        objects=objects,
        job_name="layoutlm-resume",
        output_dir=tmp_path / "elsewhere",
    )
    assert second.status is JobStatus.SUCCEEDED and second.resumed_from is not None
    done_before = int(Path(second.resumed_from).name.split("-")[1])
    assert done_before >= per_epoch
    assert second.steps_this_run == 2 * per_epoch - done_before < per_epoch
    job = sroie_store.get_job_by_name("layoutlm-resume")
    assert job.status.value == "SUCCEEDED" and job.job_id == first.job.job_id
    assert set(_epoch_metrics(sroie_store, job.job_id, "eval_f1")) == {1, 2}
    assert [row["epoch"] for row in second.epochs] == [1, 2]


def test_nothing_to_train_on_records_no_job_and_no_run(objects, tmp_path: Path) -> None:
    from receipt_dynamo import EntityNotFoundError, open_store
    from receipt_layoutlm.data import DatasetConfig
    from receipt_layoutlm.errors import DatasetError
    from receipt_layoutlm.training import TrainingConfig, train

    store = open_store("sqlite", path=tmp_path / "empty.sqlite3")
    with pytest.raises(DatasetError):
        train(
            TrainingConfig(**TINY),
            DatasetConfig(),
            store=store,
            objects=objects,
            job_name="layoutlm-empty",
            output_dir=tmp_path / "w",
        )
    with pytest.raises(EntityNotFoundError):  # refused before a Job record exists
        store.get_job_by_name("layoutlm-empty")
    assert not (tmp_path / "w").exists()


def test_cli_train_then_jobs_show_and_evaluate(sroie_store, tmp_path: Path, capsys) -> None:
    from receipt_layoutlm.cli import main
    from receipt_layoutlm.importers import write_jsonl

    data_dir = tmp_path / "home"
    dataset = tmp_path / "sroie.jsonl"
    from receipt_layoutlm.data import load_documents

    write_jsonl(load_documents(sroie_store), dataset)
    flags = ["--data-dir", str(data_dir), "--dataset", str(dataset), "--dev-ratio", "0.25"]
    code = main(
        ["train", "--job-name", "cli-run", *flags, "--model-size", "tiny", "--epochs", "1",
         "--batch-size", "4", "--max-seq-length", "128", "--stride", "32", "--max-steps", "3",
         "--tag", "skip-coreml-export=true", "--tag", "owner=tests"]
    )  # fmt: skip
    printed = capsys.readouterr().out  # the Trainer's progress dicts come first
    out = json.loads(printed[printed.rindex('{\n  "job_name"') :])
    assert code == 0 and out["status"] == "SUCCEEDED"
    from receipt_dynamo import open_store

    job = open_store("sqlite", path=data_dir / "receipts.sqlite3").get_job_by_name("cli-run")
    assert job.tags == {"skip-coreml-export": "true", "owner": "tests"}
    best_meta = json.loads((data_dir / "training/cli-run/best/checkpoint.json").read_text())
    assert best_meta["dataset_config"]["dev_ratio"] == 0.25
    assert main(["jobs", "show", "cli-run", "--data-dir", str(data_dir)]) == 0
    shown = capsys.readouterr().out
    assert "SUCCEEDED" in shown and "runs/cli-run/best/model.safetensors" in shown
    assert main(["jobs", "list", "--data-dir", str(data_dir)]) == 0
    assert "cli-run" in capsys.readouterr().out
    code = main(
        ["evaluate", "--model", out["best_checkpoint"], *flags,
         "--output-dir", str(tmp_path / "eval")]
    )  # fmt: skip
    printed = capsys.readouterr().out
    summary = json.loads(printed[printed.rindex('{\n  "receipts"') :])
    assert code == 0 and summary["receipts"] == 20
    assert 0.0 <= summary["entity_f1"] <= 1.0 and 0.0 <= summary["token_accuracy"] <= 1.0
    assert (tmp_path / "eval" / "report.md").exists()


def test_eval_windows_stay_in_dataset_order(tmp_path: Path) -> None:
    """transformers length-groups eval batches too; word-level decoding needs dataset order."""
    import torch
    from transformers import TrainingArguments

    from receipt_layoutlm.data import rows_to_dataset
    from receipt_layoutlm.training.hf_trainer import make_trainer_class

    rows = [
        {"input_ids": [1] * n, "attention_mask": [1] * n, "token_type_ids": [0] * n,
         "bbox": [[0, 0, 0, 0]] * n, "labels": [0] * n, "key": f"k{n}", "window": 0, "length": n}
        for n in (3, 9, 5, 7, 4, 8, 2, 6)
    ]  # fmt: skip
    dataset = rows_to_dataset(rows)
    args = TrainingArguments(
        output_dir=str(tmp_path),
        train_sampling_strategy="group_by_length",
        per_device_eval_batch_size=2,
        report_to="none",
        use_cpu=True,
    )
    trainer = make_trainer_class()(model=torch.nn.Linear(1, 1), args=args)
    assert list(trainer._get_eval_sampler(dataset)) == list(range(len(rows)))


def _tiny_task_receipt(i: int, rng: random.Random) -> ReceiptDocument:
    """A receipt whose entities a tiny model can tell apart by the words alone: a merchant from
    a small set, a date, a grand total, and O filler lines in a varying number and order."""

    merchant = rng.choice(["MART", "BAKERY", "KIOSK", "GROCER"])
    rows = [(merchant, "MERCHANT_NAME"), (f"{rng.randint(1, 28):02d}/03/2021", "DATE")]
    rows += [(rng.choice(["ITEM", "QTY", "THANK", "YOU", "CASH", "VISIT"]), None)
             for _ in range(rng.randint(2, 5))]  # fmt: skip
    rows.append((f"{rng.randint(1, 99)}.{rng.randint(0, 99):02d}", "GRAND_TOTAL"))
    rows.append((rng.choice(["BYE", "AGAIN", "WELCOME"]), None))
    words = []
    for line, (text, label) in enumerate(rows, 1):
        y = 20 * line
        words.append(DocWord(text, ((10, y), (90, y), (90, y + 15), (10, y + 15)), line, 1, label))
    return ReceiptDocument(key=f"tiny:{i:03d}", width=200, height=20 * len(rows) + 40, words=words)


def test_a_tiny_model_learns_a_tiny_task_well_above_chance(objects, tmp_path: Path) -> None:
    """Always predicting O scores entity F1 0; a tiny model trained for a few seconds (seeded)
    must find the three entities of held-out receipts."""
    from receipt_dynamo import open_store
    from receipt_layoutlm.data import DatasetConfig
    from receipt_layoutlm.training import TrainingConfig, train

    rng = random.Random(7)
    docs = [_tiny_task_receipt(i, rng) for i in range(48)]
    result = train(
        TrainingConfig(model_size="tiny", epochs=1, max_steps=30, batch_size=8,
                       learning_rate=2e-3, max_seq_length=64, stride=16, warmup_ratio=0.0),
        DatasetConfig(dev_ratio=0.25),
        store=open_store("sqlite", path=tmp_path / "jobs.sqlite3"),
        objects=objects,
        job_name="tiny-task",
        output_dir=tmp_path / "work",
        documents=docs,
    )  # fmt: skip
    assert result.status is JobStatus.SUCCEEDED
    assert result.best_f1 is not None and result.best_f1 >= 0.8, result.epochs
