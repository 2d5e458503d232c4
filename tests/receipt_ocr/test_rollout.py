"""Guarded rollout on the local stack, end to end: three training jobs (tiny models, recorded dev
F1 0.50, 0.30, 0.70) are auto-exported by the export worker under the default ``if-better``
policy while a labelling worker (``receipt-ocr --serve``) runs. The first bundle is promoted;
the worse one is exported but not promoted (``exports show`` says why); the better one is
promoted and the running worker labels with it without a hand in between; ``promote
--rollback`` brings the previous one back to that same worker. The seed's ``coreml/`` mirror
matches ``active.json`` after every step."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from image_factory import blank

from receipt_cloud.handlers.auto_export import start_export_for_job
from receipt_cloud.ocr_submit import submit_image
from receipt_cloud.settings import resolve_settings
from receipt_cloud.worker import WorkerConfig
from receipt_dynamo import Job, JobStatus

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
LABELS_USED = ["ADDRESS_LINE", "DATE", "GRAND_TOTAL", "MERCHANT_NAME"]


def _add_trained_job(settings, name: str, dev_f1: float, seed: int) -> None:
    """A succeeded training Job with a tiny model as its verified best checkpoint."""
    from receipt_layoutlm.checkpoint import save_checkpoint
    from receipt_layoutlm.encoding import EncodingConfig, label_list
    from receipt_layoutlm.training._config import TrainingConfig
    from receipt_layoutlm.training.model_init import build_model

    labels = label_list(LABELS_USED)
    init = build_model(TrainingConfig(model_size="tiny", seed=seed), labels)
    best = Path(settings.runs_uri.removeprefix("file://")) / "runs" / name / "best"
    save_checkpoint(best, init.model.eval(), init.tokenizer, labels,
                    EncodingConfig(max_seq_length=128, stride=32),
                    extra_meta={"job_name": name})  # fmt: skip
    settings.open_store().add_job(Job(
        job_id=str(uuid.uuid4()), name=name, status=JobStatus.SUCCEEDED,
        results={"best_checkpoint_s3_path": best.as_uri(), "best_f1": dev_f1},
    ))  # fmt: skip


def _train_and_export(settings, parity_jsonl: Path, name: str, dev_f1: float, seed: int) -> str:
    """What the end of ``train`` does (auto-export), then one export worker run; the export id."""
    from receipt_layoutlm.export import ParityThresholds
    from receipt_layoutlm.export_worker import ExportWorkerOptions, run_export_worker

    _add_trained_job(settings, name, dev_f1, seed)
    message = start_export_for_job(job_name=name, settings=settings, quantize="float32")
    options = ExportWorkerOptions.of(
        formats=("onnx",), seq_length=64, parity_receipts=3, parity_data=str(parity_jsonl),
        make_zip=False, thresholds=ParityThresholds(float32=0.97),
    )  # the default rollout: if-better
    worker = WorkerConfig(mode="once", visibility_timeout=60, wait_seconds=1,
                          handle_signals=False)  # fmt: skip
    stats = run_export_worker(settings, worker, options)
    assert stats.succeeded == 1, stats
    return message["export_id"]


def _label_one(settings, timeout: float = 120) -> str:
    """Submit a photo and wait for the running worker; the model version it labelled with."""
    store = settings.open_store()
    sub = submit_image(blank(), filename="r.jpg", store=store,
                       objects=settings.open_objects("raw"),
                       queue=settings.open_queue("ocr_jobs"))  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if store.get_ocr_job(sub.image_id, sub.job_id).status.value == "COMPLETED":
            labels = store.get_receipt_details(sub.image_id, 1).labels
            assert labels, "the worker proposed no labels"
            return {label.label_proposed_by for label in labels}.pop()
        time.sleep(0.3)
    raise AssertionError(f"OCR job {sub.job_id} never completed")


def _check_mirror(settings) -> dict:
    """The active pointer, after checking the seed's coreml/ mirror is a copy of its bundle."""
    objects = settings.open_objects("bundles")
    active = json.loads(objects.get_bytes("bundles/active.json"))
    mirrored = objects.get_bytes("coreml/manifest.json")
    assert hashlib.sha256(mirrored).hexdigest() == active["manifest_sha256"]
    files = json.loads(mirrored)["files"]
    assert sorted(k.removeprefix("coreml/") for k in objects.list("coreml/")) == sorted(
        [*files, "manifest.json"]
    )
    return active


def test_worse_is_not_promoted_better_is_served_rollback_restores(
    tmp_path: Path, parity_jsonl: Path, capsys
) -> None:
    from receipt_layoutlm.cli import main

    data = tmp_path / "home"
    settings = resolve_settings("local", data_dir=data, environ={})
    home = ["--data-dir", str(data)]

    first = _train_and_export(settings, parity_jsonl, "layoutlm-first", 0.50, seed=1)
    assert settings.open_store().get_export_job(first).rollout.startswith("promoted: if-better")
    assert _check_mirror(settings)["export_id"] == first

    path = f"{REPO / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "receipt_ocr.cli", "--serve", "--stub-ocr", *home,
         "--layoutlm-cache-path", str(tmp_path / "cache")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert _label_one(settings) == f"layoutlm-first/{first}"

        worse = _train_and_export(settings, parity_jsonl, "layoutlm-worse", 0.30, seed=2)
        record = settings.open_store().get_export_job(worse)
        assert record.status.value == "SUCCEEDED"
        assert record.rollout.startswith("not promoted: dev best_f1 0.3000 of layoutlm-worse")
        capsys.readouterr()
        assert main(["exports", "show", worse, *home]) == 0
        assert "not promoted: dev best_f1 0.3000" in capsys.readouterr().out
        assert _check_mirror(settings)["export_id"] == first
        assert _label_one(settings) == f"layoutlm-first/{first}"

        better = _train_and_export(settings, parity_jsonl, "layoutlm-better", 0.70, seed=3)
        assert settings.open_store().get_export_job(better).rollout.startswith("promoted")
        assert _check_mirror(settings)["export_id"] == better
        assert _label_one(settings) == f"layoutlm-better/{better}"  # no manual step

        assert main(["promote", "--rollback", *home]) == 0
        rolled = json.loads(capsys.readouterr().out)
        assert rolled["export_id"] == first and rolled["rolled_back_from"] == better
        assert _check_mirror(settings)["version"] == 3
        assert _label_one(settings) == f"layoutlm-first/{first}"
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err[-3000:]
    assert json.loads(out.strip().splitlines()[-1])["stopped_by"] == "SIGTERM"
