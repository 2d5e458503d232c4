"""Training pieces without a training run: resume selection, checkpoint upload order, the
``--pretrained`` hub id, Job refusals, the auto-export hook, CLI flags and ``evaluate``'s
checkpoint-recorded split and merges."""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
import types
import uuid
from pathlib import Path

import pytest
from tiny_layoutlm import tiny_layoutlm

from receipt_cloud.objects.local import LocalObjectStore
from receipt_layoutlm.cli import build_parser, main
from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.errors import TrainingError

# -- resume: only complete checkpoints ---------------------------------------------------------


def _checkpoint(root: Path, step: int, *, complete: bool) -> Path:
    path = root / f"checkpoint-{step}"
    path.mkdir(parents=True)
    (path / "model.safetensors").write_bytes(b"weights")
    if complete:
        (path / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    return path


def test_resume_skips_a_newest_checkpoint_without_trainer_state(tmp_path: Path) -> None:
    from receipt_layoutlm.training.run_dir import RunDir, step_of

    run_dir = RunDir(root=tmp_path, objects=None, prefix="runs/j")
    assert run_dir.newest_checkpoint() is None
    _checkpoint(run_dir.checkpoints, 4, complete=True)
    _checkpoint(run_dir.checkpoints, 9, complete=True)
    complete = _checkpoint(run_dir.checkpoints, 12, complete=True)  # 12 > 9 as numbers
    _checkpoint(run_dir.checkpoints, 16, complete=False)  # an upload or save cut short
    (run_dir.checkpoints / "checkpoint-notes").mkdir()
    assert run_dir.newest_checkpoint() == complete
    assert step_of(complete) == 12 and step_of("checkpoint-notes") is None


class _RecordingStore(LocalObjectStore):
    """A real local object store that remembers the order of its writes (a subclass, so the
    base class's ``upload_dir`` goes through the recording ``put_file``)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.writes: list[str] = []

    def put_file(self, key: str, path: Path) -> None:
        self.writes.append(key)
        super().put_file(key, path)


def test_checkpoint_sync_uploads_trainer_state_last(tmp_path: Path) -> None:
    from receipt_layoutlm.training.callbacks import CheckpointSync
    from receipt_layoutlm.training.run_dir import RunDir

    store = _RecordingStore(tmp_path / "objects")
    run_dir = RunDir(root=tmp_path / "work", objects=store, prefix="runs/j")
    ckpt = _checkpoint(run_dir.checkpoints, 8, complete=True)
    for name in ("optimizer.pt", "scheduler.pt", "zz_rng_state.pth"):
        (ckpt / name).write_bytes(b"x")
    CheckpointSync(run_dir).sync()
    assert store.writes[-1] == "runs/j/checkpoints/checkpoint-8/trainer_state.json"
    assert len(store.writes) == 5


# -- --pretrained HUB_ID -----------------------------------------------------------------------


def test_pretrained_hub_id_offline_and_not_cached_is_one_clear_error(monkeypatch) -> None:
    from receipt_layoutlm.training.model_init import resolve_pretrained

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    repo = f"receipt-tests/not-cached-{uuid.uuid4().hex[:8]}"
    with pytest.raises(TrainingError) as err:
        resolve_pretrained(repo)
    message = str(err.value)
    assert f"--pretrained {repo}" in message and "offline" in message
    assert "HF_HUB_OFFLINE" in message and "local LayoutLM checkpoint directory" in message


def test_pretrained_directory_is_used_as_is(tmp_path: Path) -> None:
    from receipt_layoutlm.training.model_init import resolve_pretrained

    assert resolve_pretrained(str(tmp_path)) == tmp_path


# -- the Job record ------------------------------------------------------------------------------


def test_a_finished_job_name_is_refused_with_its_runs_prefix(tmp_path: Path) -> None:
    from receipt_dynamo import Job, open_store
    from receipt_dynamo.vocabulary import JobStatus
    from receipt_layoutlm.training._jobs import JobRecorder

    store = open_store("sqlite", path=tmp_path / "r.sqlite3")
    job = Job(job_id=str(uuid.uuid4()), name="layoutlm-done", job_config={})
    store.add_job(job)
    store.update_job(dataclasses.replace(job, status=JobStatus.SUCCEEDED))
    with pytest.raises(TrainingError, match=r"already succeeded.*runs/layoutlm-done/\)"):
        JobRecorder.open(store, "layoutlm-done", job_config={}, resume=False)


# -- auto-export hook ------------------------------------------------------------------------------


def _job(name: str, tags: dict[str, str] | None = None) -> types.SimpleNamespace:
    results = {"best_checkpoint_s3_path": "s3://runs/x/best"}
    return types.SimpleNamespace(name=name, tags=tags or {}, results=results)


def test_wants_auto_export_by_name_and_skip_tag() -> None:
    from receipt_layoutlm.training.auto_export import wants_auto_export

    assert wants_auto_export(_job("layoutlm-a"))
    assert not wants_auto_export(_job("other-a"))
    assert not wants_auto_export(_job("layoutlm-a", {"skip-coreml-export": "TRUE"}))
    assert wants_auto_export(_job("layoutlm-a", {"skip-coreml-export": "false"}))


def test_run_auto_export_without_the_handler_logs_and_returns_none(caplog, monkeypatch) -> None:
    from receipt_layoutlm.training import auto_export

    missing = f"receipt_cloud.no_such_{uuid.uuid4().hex}"
    monkeypatch.setattr(auto_export, "AUTO_EXPORT_MODULE", missing)
    with caplog.at_level(logging.INFO, logger=auto_export.__name__):
        assert auto_export.run_auto_export(_job("layoutlm-a"), settings=None) is None
    assert "auto-export is not available" in caplog.text and "s3://runs/x/best" in caplog.text


def test_run_auto_export_calls_the_handler_and_swallows_its_failure(caplog, monkeypatch) -> None:
    from receipt_layoutlm.training import auto_export

    calls: list[dict] = []
    handler = types.ModuleType("fake_auto_export")

    def start_export_for_job(**kwargs):
        calls.append(kwargs)
        if kwargs["job_name"] == "layoutlm-broken":
            raise RuntimeError("queue down")
        return {"export_id": "e-1"}

    handler.start_export_for_job = start_export_for_job
    monkeypatch.setitem(sys.modules, "fake_auto_export", handler)
    monkeypatch.setattr(auto_export, "AUTO_EXPORT_MODULE", "fake_auto_export")
    assert auto_export.run_auto_export(_job("layoutlm-ok"), settings="S") == {"export_id": "e-1"}
    assert calls == [{"job_name": "layoutlm-ok", "settings": "S"}]
    assert auto_export.run_auto_export(_job("other"), settings="S") is None  # not a layoutlm- job
    with caplog.at_level(logging.ERROR, logger=auto_export.__name__):
        assert auto_export.run_auto_export(_job("layoutlm-broken"), settings="S") is None
    assert "auto-export for job layoutlm-broken failed" in caplog.text
    assert len(calls) == 2


# -- CLI flags -----------------------------------------------------------------------------------


def test_train_tags_are_repeatable_key_value_pairs(capsys) -> None:
    args = build_parser().parse_args(
        ["train", "--tag", "skip-coreml-export=true", "--tag", "owner=ml=team"]
    )
    assert dict(args.tag) == {"skip-coreml-export": "true", "owner": "ml=team"}
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--tag", "no-equals-sign"])
    assert "expected KEY=VALUE" in capsys.readouterr().err


def test_log_level_before_or_after_the_subcommand() -> None:
    parser = build_parser()
    assert parser.parse_args(["jobs", "list"]).log_level == "INFO"
    assert parser.parse_args(["--log-level", "ERROR", "jobs", "list"]).log_level == "ERROR"
    assert parser.parse_args(["jobs", "list", "--log-level", "DEBUG"]).log_level == "DEBUG"
    assert parser.parse_args(["train", "--log-level", "WARNING"]).log_level == "WARNING"


# -- evaluate: the checkpoint's split and merges -------------------------------------------------

LABELS = ["O", "B-AMOUNT", "I-AMOUNT", "B-DATE", "I-DATE", "B-MERCHANT_NAME", "I-MERCHANT_NAME"]


def _receipt(i: int) -> ReceiptDocument:
    rows = [("SHOP", "MERCHANT_NAME"), (f"0{i % 9 + 1}/01/2020", "DATE"), ("ITEM", None),
            (f"{i}.50", "GRAND_TOTAL"), ("THANK", None)]  # fmt: skip
    words = []
    for line, (text, label) in enumerate(rows, 1):
        y = 20 * line
        words.append(DocWord(text, ((10, y), (90, y), (90, y + 15), (10, y + 15)), line, 1, label))
    return ReceiptDocument(key=f"ev:{i:02d}", width=200, height=150, words=words)


@pytest.fixture(scope="module")
def eval_setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    """A tiny checkpoint trained (on paper) with dev_ratio 0.5 / seed 7 and amounts merged."""
    pytest.importorskip("torch")

    from receipt_layoutlm.checkpoint import save_checkpoint
    from receipt_layoutlm.data import DatasetConfig, load_dataset_file, split_documents
    from receipt_layoutlm.encoding import EncodingConfig, load_tokenizer
    from receipt_layoutlm.importers import write_jsonl
    from receipt_layoutlm.pretrained import minilm_dir

    root = tmp_path_factory.mktemp("eval")
    dataset = root / "receipts.jsonl"
    write_jsonl([_receipt(i) for i in range(10)], dataset)
    trained_with = DatasetConfig(dev_ratio=0.5, split_seed=7, merge_amounts=True)
    split = split_documents(load_dataset_file(dataset), trained_with)
    tokenizer = load_tokenizer(minilm_dir())
    model = tiny_layoutlm(len(LABELS), len(tokenizer), seed=0, layers=1)
    meta = {
        "job_name": "layoutlm-eval",
        "split_hashes": split.hashes,
        "merges": trained_with.merges,
        "dataset_config": trained_with.to_dict(),
    }
    best = root / "run" / "best"
    save_checkpoint(best, model, tokenizer, LABELS, EncodingConfig(64, 16), extra_meta=meta)
    return best, dataset, meta


def _evaluate(capsys, argv: list[str]) -> tuple[int, dict | None, str]:
    code = main(["evaluate", *argv])
    captured = capsys.readouterr()
    out = captured.out
    summary = json.loads(out[out.rindex('{\n  "receipts"') :]) if code == 0 else None
    return code, summary, captured.err


def _with_meta(best: Path, tmp_path: Path, **changes) -> Path:
    import shutil

    copy = tmp_path / "copy" / "best"
    shutil.copytree(best, copy)
    meta = json.loads((copy / "checkpoint.json").read_text())
    for key, value in changes.items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    (copy / "checkpoint.json").write_text(json.dumps(meta))
    return copy


def test_evaluate_split_side_defaults_to_the_checkpoints_split(eval_setup, tmp_path, capsys):
    best, dataset, _ = eval_setup
    flags = ["--model", str(best), "--dataset", str(dataset), "--output-dir", str(tmp_path)]
    code, summary, _ = _evaluate(capsys, [*flags, "--split-side", "dev"])
    assert code == 0 and summary["receipts"] == 5  # dev_ratio 0.5 of 10, not the default 0.2
    code, summary, _ = _evaluate(capsys, [*flags, "--split-side", "dev", "--dev-ratio", "0.2"])
    assert code == 0 and summary["receipts"] == 2  # an explicit split is evaluated (warned)


def test_evaluate_split_side_refuses_a_split_other_than_the_recorded_one(
    eval_setup, tmp_path, capsys
):
    best, dataset, _ = eval_setup
    other = _with_meta(best, tmp_path, split_hashes={"train": "0" * 64, "dev": "1" * 64})
    flags = ["--model", str(other), "--dataset", str(dataset), "--output-dir", str(tmp_path)]
    code, _, err = _evaluate(capsys, [*flags, "--split-side", "dev"])
    assert code == 2 and "is not the one" in err and "--split-file" in err


def _amount_support(out_dir: Path) -> dict[str, int]:
    report = json.loads((out_dir / "report.json").read_text())
    return {k: v["support"] for k, v in report["metrics"]["entity"]["per_label"].items()}


def test_evaluate_merge_amounts_and_allowed_label_flags_reach_the_truth(
    eval_setup, tmp_path, capsys
):
    best, dataset, _ = eval_setup
    bare = _with_meta(best, tmp_path, merges={}, dataset_config=None)  # records no merges
    base = ["--model", str(bare), "--dataset", str(dataset)]
    out = tmp_path / "merged"
    assert _evaluate(capsys, [*base, "--merge-amounts", "--output-dir", str(out)])[0] == 0
    assert _amount_support(out).get("AMOUNT") == 10  # GRAND_TOTAL → AMOUNT, one per receipt
    out = tmp_path / "allowed"
    argv = [*base, "--merge-amounts", "--allowed-label", "DATE", "--output-dir", str(out)]
    assert _evaluate(capsys, argv)[0] == 0
    support = _amount_support(out)
    assert support.get("DATE") == 10 and not support.get("AMOUNT")
    assert not support.get("MERCHANT_NAME")
