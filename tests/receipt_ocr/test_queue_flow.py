"""Queue flow with the stub engine and two worker processes, over the local queue and over a
moto server (DynamoDB, S3, SQS through boto3 over HTTP): 20 jobs → 20 COMPLETED, 20 results
messages, no duplicate label rows, a VALID label written before the run unchanged after it;
a worker killed with SIGKILL mid-job → the job is completed once by another worker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from image_factory import blank
from ocr_support import drain, moto_stack_outputs, serve_bundle

from receipt_cloud.ocr_submit import submit_image
from receipt_cloud.settings import resolve_settings
from receipt_dynamo import ReceiptWordLabel
from receipt_ocr.engines.stub import STUB_LINES

pytestmark = pytest.mark.slow
JOBS = 20
STUB_WORDS = sum(len(line.split()) for line in STUB_LINES)
REPO = Path(__file__).resolve().parents[2]


def _worker(args: list[str], extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    path = f"{REPO / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1", **(extra_env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "receipt_ocr.cli", "--stub-ocr", "--continuous", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _finish(proc: subprocess.Popen, timeout: float = 300) -> dict:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _submit(settings, count: int) -> list:
    store, objects = settings.open_store(), settings.open_objects("raw")
    queue = settings.open_queue("ocr_jobs")
    data = blank()
    return [submit_image(data, filename=f"r{i}.jpg", store=store, objects=objects, queue=queue)
            for i in range(count)]


def _valid_label(image_id: str) -> ReceiptWordLabel:
    return ReceiptWordLabel(
        image_id=image_id, receipt_id=1, line_id=1, word_id=1, label="MERCHANT_NAME",
        label_proposed_by="human:reviewer", validation_status="VALID", confidence=1.0,
        reasoning="checked by hand", timestamp_added="2026-01-02T03:04:05+00:00",
    )


def _check_run(settings, submissions, valid: ReceiptWordLabel, stats: list[dict]) -> None:
    store = settings.open_store()
    assert sum(s["succeeded"] for s in stats) == JOBS, stats
    assert sum(s["failed"] for s in stats) == 0
    for sub in submissions:
        assert store.get_ocr_job(sub.image_id, sub.job_id).status.value == "COMPLETED"
    results = drain(settings.open_queue("ocr_results"))
    assert sorted(r["job_id"] for r in results) == sorted(s.job_id for s in submissions)
    assert all(r["receipt_count"] == 1 for r in results)
    raw = settings.open_objects("raw")
    for sub in submissions:
        details = store.get_receipt_details(sub.image_id, 1)
        assert len(details.words) == STUB_WORDS  # the stub receipt, once
        keys = [(lab.line_id, lab.word_id, lab.label) for lab in details.labels]
        assert len(keys) == len(set(keys))
        json_words = json.loads(raw.get_bytes(f"ocr_results/{sub.image_id}/{sub.job_id}.json"))
        proposed = {(w["line_id"], w["word_id"], w["label"]) for w in json_words["words"]
                    if w["label"]}
        pending = {(lab.line_id, lab.word_id, lab.label) for lab in details.labels
                   if lab.validation_status.value == "PENDING"}
        assert pending == proposed - {(1, 1, "MERCHANT_NAME")}
    assert store.get_word_label(valid.image_id, 1, 1, 1, "MERCHANT_NAME") == valid


def test_twenty_jobs_two_workers_local_queue(tiny_bundle, tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = resolve_settings("local", data_dir=data)
    submissions = _submit(settings, JOBS)
    valid = _valid_label(submissions[0].image_id)
    settings.open_store().add_word_label(valid)
    args = ["--data-dir", str(data), "--layoutlm-model", str(tiny_bundle.bundle_dir)]
    workers = [_worker(args), _worker(args)]
    _check_run(settings, submissions, valid, [_finish(w) for w in workers])


@pytest.mark.aws
def test_twenty_jobs_two_workers_on_aws(aws_env: str, unique_name: str, tiny_bundle,
                                        tmp_path: Path) -> None:
    """DynamoDB + S3 + SQS on the moto server; the model comes from the S3 bundles bucket
    through the model cache (active pointer, download, manifest check)."""
    outputs_file = moto_stack_outputs(unique_name, tmp_path / "outputs.json")
    serve_bundle(f"{unique_name}-bundles", tiny_bundle.bundle_dir,
                 "bundles/layoutlm-ocr-tiny/export-1")

    settings = resolve_settings("moto", stack_outputs_file=outputs_file)
    submissions = _submit(settings, JOBS)
    assert submissions[0].s3_bucket == f"{unique_name}-raw"
    valid = _valid_label(submissions[0].image_id)
    settings.open_store().add_word_label(valid)
    workers = [
        _worker(["--env", "moto", "--stack-outputs", str(outputs_file),
                 "--layoutlm-cache-path", str(tmp_path / f"cache-{n}")])
        for n in range(2)
    ]
    _check_run(settings, submissions, valid, [_finish(w) for w in workers])


def _slow_worker_mid_job(args: list[str], delay: int, store, job) -> subprocess.Popen:
    """A worker whose OCR takes ``delay`` seconds, once it has started ``job``."""
    slow = _worker(args, {"RECEIPT_OCR_STUB_DELAY": str(delay)})
    deadline = time.monotonic() + 120
    while store.get_ocr_job(job.image_id, job.job_id).status.value != "RUNNING":
        assert time.monotonic() < deadline and slow.poll() is None, "the job never started"
        time.sleep(0.2)
    return slow


def test_worker_killed_mid_job_is_completed_once(tiny_bundle, tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = resolve_settings("local", data_dir=data)
    store = settings.open_store()
    (victim, *others) = _submit(settings, 3)
    args = ["--data-dir", str(data), "--layoutlm-model", str(tiny_bundle.bundle_dir),
            "--visibility-timeout", "4"]
    slow = _slow_worker_mid_job(args, 30, store, victim)
    slow.send_signal(signal.SIGKILL)  # mid-OCR: no heartbeat, no release, no cleanup
    slow.wait(timeout=30)
    time.sleep(5)  # past the visibility timeout: the message is visible again
    stats = _finish(_worker(args))
    assert stats["succeeded"] == 3
    assert store.get_ocr_job(victim.image_id, victim.job_id).status.value == "COMPLETED"
    results = drain(settings.open_queue("ocr_results"))
    assert sorted(r["job_id"] for r in results) == sorted(
        s.job_id for s in (victim, *others)
    )
    details = store.get_receipt_details(victim.image_id, 1)
    assert len(details.words) == STUB_WORDS
    assert len({(lab.line_id, lab.word_id, lab.label) for lab in details.labels}) == len(
        details.labels
    )


def test_sigterm_releases_the_job_for_another_worker(tiny_bundle, tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = resolve_settings("local", data_dir=data)
    store = settings.open_store()
    (job,) = _submit(settings, 1)
    args = ["--data-dir", str(data), "--layoutlm-model", str(tiny_bundle.bundle_dir),
            "--visibility-timeout", "600"]
    slow = _slow_worker_mid_job(args, 60, store, job)
    slow.send_signal(signal.SIGTERM)
    stopped = _finish(slow, timeout=30)  # exits 0 at once, not after the 60 s OCR
    assert stopped["stopped_by"] == "SIGTERM" and stopped["released"] == 1
    # Released, not left hidden for the 600 s visibility timeout: the next worker takes it now.
    assert _finish(_worker(args))["succeeded"] == 1
    assert store.get_ocr_job(job.image_id, job.job_id).status.value == "COMPLETED"
