"""The export worker end to end on the local backends: real exports of a tiny model, real queue
redelivery, real processes killed with SIGKILL and stopped with SIGTERM.

Exports use Core ML only (run through the MIL interpreter), sequence length 64 and 3 real SROIE
receipts for parity, so one export takes seconds, not minutes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("coremltools")

from receipt_cloud.exports import list_exports  # noqa: E402
from receipt_cloud.handlers.auto_export import start_export_for_job  # noqa: E402
from receipt_cloud.settings import resolve_settings  # noqa: E402
from receipt_cloud.worker import WorkerConfig  # noqa: E402
from receipt_dynamo import ExportStatus, Job, JobStatus  # noqa: E402
from receipt_layoutlm.bundles import verify_bundle  # noqa: E402
from receipt_layoutlm.checkpoint import save_checkpoint  # noqa: E402
from receipt_layoutlm.cli import main  # noqa: E402
from receipt_layoutlm.encoding import EncodingConfig, label_list  # noqa: E402
from receipt_layoutlm.export import ParityThresholds  # noqa: E402
from receipt_layoutlm.export_worker import ExportWorkerOptions, run_export_worker  # noqa: E402

pytestmark = pytest.mark.slow

JOB = "layoutlm-tiny"
LABELS = label_list(["ADDRESS_LINE", "DATE", "GRAND_TOTAL", "MERCHANT_NAME"])
SRC = Path(__file__).resolve().parents[2] / "src"
# The tiny random model's logits are near-tied, so even float16 may flip a word or two.
TINY_FLOAT16_AGREEMENT = 0.97
EXPORT_FLAGS = [
    "--formats", "coreml", "--seq-length", "64", "--parity-receipts", "3", "--no-zip",
    "--min-agreement-float16", str(TINY_FLOAT16_AGREEMENT),
]  # fmt: skip


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """``--model-size tiny`` from scratch (fixed seed): near-tied logits, seconds to export."""
    from receipt_layoutlm.training._config import TrainingConfig
    from receipt_layoutlm.training.model_init import build_model

    init = build_model(TrainingConfig(model_size="tiny", seed=1234), LABELS)
    directory = tmp_path_factory.mktemp("ckpt") / "best"
    save_checkpoint(
        directory,
        init.model.eval(),
        init.tokenizer,
        LABELS,
        EncodingConfig(max_seq_length=128, stride=32),
        extra_meta={"job_name": JOB},
    )
    return directory


@pytest.fixture
def env(tmp_path: Path, tiny_checkpoint: Path):
    """A local environment holding the tiny run (``runs/<job>/best``) and its succeeded Job."""
    settings = resolve_settings("local", data_dir=tmp_path / "home", environ={})
    objects = Path(settings.runs_uri.removeprefix("file://"))
    best = objects / "runs" / JOB / "best"
    shutil.copytree(tiny_checkpoint, best)
    settings.open_store().add_job(
        Job(
            job_id=str(uuid.uuid4()),
            name=JOB,
            status=JobStatus.SUCCEEDED,
            results={"best_checkpoint_s3_path": best.as_uri()},
        )
    )
    return settings


def _options(parity_jsonl: Path, **changes) -> ExportWorkerOptions:
    fields = {
        "formats": ("coreml",),
        "seq_length": 64,
        "parity_receipts": 3,
        "parity_data": str(parity_jsonl),
        "make_zip": False,
        "thresholds": ParityThresholds(float16=TINY_FLOAT16_AGREEMENT),
    }
    return ExportWorkerOptions.of(**(fields | changes))


def _worker(**changes) -> WorkerConfig:
    fields = {
        "mode": "drain",
        "visibility_timeout": 30,
        "wait_seconds": 0.5,
        "retry_initial_delay": 0.05,
        "retry_max_delay": 0.2,
        "handle_signals": False,
    }
    return WorkerConfig(**(fields | changes))


def _results(settings) -> list[dict]:
    queue = settings.open_queue("coreml_export_results")
    out = []
    while batch := queue.receive(max_messages=10, wait_seconds=0.2):
        out += [m.json() for m in batch]
        for message in batch:
            queue.delete(message)
    return out


def _published_bundles(settings) -> list[str]:
    bundles = settings.open_objects("bundles")
    return sorted(k for k in bundles.list(f"bundles/{JOB}/") if k.endswith("/manifest.json"))


def _cli_worker(settings, parity_jsonl: Path, *flags: str) -> subprocess.Popen:
    code = "import sys; from receipt_layoutlm.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), *sys.path])}
    return subprocess.Popen(
        [sys.executable, "-c", code, "export-worker", *flags, *EXPORT_FLAGS,
         "--parity-data", str(parity_jsonl), "--data-dir", str(settings.data_dir),
         "--wait-seconds", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def _wait_for_status(settings, export_id: str, status: ExportStatus, timeout: float = 120):
    store = settings.open_store()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if store.get_export_job(export_id).status == status:
                return
        except LookupError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"export {export_id} never became {status}")


# -- the happy path, from `train` -------------------------------------------------------------


def test_train_hook_queues_and_export_worker_once_publishes(
    shared_data: Path, tmp_path: Path, capsys
) -> None:
    from receipt_layoutlm.importers import get_importer, write_jsonl

    dataset = tmp_path / "sroie.jsonl"
    write_jsonl(get_importer("sroie")(shared_data / "sroie" / "train", limit=8).documents, dataset)
    home = ["--data-dir", str(tmp_path / "home")]
    code = main(
        ["train", "--job-name", "layoutlm-e2e", *home, "--dataset", str(dataset),
         "--dev-ratio", "0.25", "--model-size", "tiny", "--epochs", "1", "--batch-size", "4",
         "--max-seq-length", "128", "--stride", "32", "--max-steps", "2"]
    )  # fmt: skip
    assert code == 0
    capsys.readouterr()
    # No hand-written message: the train hook queued it.
    code = main(["export-worker", "--once", *home, *EXPORT_FLAGS, "--wait-seconds", "1"])
    stats = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and stats["succeeded"] == 1, stats

    settings = resolve_settings("local", data_dir=tmp_path / "home", environ={})
    store = settings.open_store()
    [export] = list_exports(store, job="layoutlm-e2e")
    assert export.status == ExportStatus.SUCCEEDED and export.quantize.value == "float16"
    assert export.bundle_s3_uri.endswith(f"bundles/layoutlm-e2e/{export.export_id}")
    assert export.mlpackage_s3_uri == f"{export.bundle_s3_uri}/LayoutLM.mlpackage"
    assert export.model_size_bytes > 0 and export.export_duration_seconds > 0
    bundle_dir = Path(export.bundle_s3_uri.removeprefix("file://"))
    assert verify_bundle(bundle_dir).ok
    assert json.loads((bundle_dir / "manifest.json").read_text())["export_id"] == export.export_id
    [result] = _results(settings)
    assert result["status"] == "SUCCEEDED" and result["export_id"] == export.export_id
    assert result["job_id"] == "layoutlm-e2e" and result["error_message"] is None
    job = store.get_job_by_name("layoutlm-e2e")
    assert job.results["exports"][export.export_id]["status"] == "SUCCEEDED"
    assert job.results["latest_export"]["bundle_s3_uri"] == export.bundle_s3_uri

    assert main(["exports", "show", export.export_id, *home, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "SUCCEEDED" and shown["bundle_s3_uri"] == export.bundle_s3_uri
    assert main(["exports", "list", "--job", "layoutlm-e2e", *home, "--json"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert {"export_id", "job_id", "status", "quantize", "bundle_s3_uri", "mlpackage_s3_uri",
            "created_at", "updated_at", "error_message"} <= set(json.loads(line))  # fmt: skip
    assert main(["jobs", "show", "layoutlm-e2e", *home]) == 0
    assert export.export_id in capsys.readouterr().out.split("\nexports\n")[1]

    # promote also mirrors the bundle at the seed's fixed coreml/ prefix, manifest last
    assert main(["promote", export.bundle_s3_uri, *home]) == 0
    mirror = Path(settings.bundles_uri.removeprefix("file://")) / "coreml"
    assert (mirror / "LayoutLM.mlpackage" / "Manifest.json").is_file()
    for name in ("vocab.txt", "config.json", "label_map.json", "manifest.json"):
        assert (mirror / name).read_bytes() == (bundle_dir / name).read_bytes()
    assert verify_bundle(mirror).ok


# -- poison messages --------------------------------------------------------------------------


def _nan_checkpoint(settings, tiny_checkpoint: Path) -> str:
    from safetensors.torch import load_file, save_file

    target = Path(settings.runs_uri.removeprefix("file://")) / "runs" / JOB / "nan"
    shutil.copytree(tiny_checkpoint, target)
    weights = load_file(target / "model.safetensors")
    name = next(k for k in weights if k.endswith("classifier.weight"))
    weights[name][0, 0] = float("nan")
    save_file(weights, target / "model.safetensors")
    return target.as_uri()


def test_poison_messages_fail_with_a_reason_or_dead_letter(
    env, tiny_checkpoint: Path, parity_jsonl: Path
) -> None:
    jobs = env.open_queue("coreml_export_jobs")
    good = start_export_for_job(job_name=JOB, settings=env)  # queued first, served last

    def another(**changes) -> dict:
        """Another export of the run: its own id, and its own bundle folder named by it."""
        export_id = str(uuid.uuid4())
        prefix = good["output_s3_prefix"].replace(good["export_id"], export_id)
        return good | {"export_id": export_id, "output_s3_prefix": prefix} | changes

    jobs_queue_messages = [
        # (case, body, expected status or None for the dead-letter queue, reason)
        ("bad JSON", "{export_id: oops", None, None),
        ("missing field", {k: v for k, v in another().items() if k != "model_s3_uri"},
         "FAILED", "model_s3_uri is missing"),
        ("no checkpoint", another(model_s3_uri=f"{good['model_s3_uri']}-gone"), "FAILED",
         "does not exist"),
        ("NaN weights", another(model_s3_uri=_nan_checkpoint(env, tiny_checkpoint)), "FAILED",
         "NaN/Inf"),
        ("parity refusal", another(quantize="int4"), "FAILED", "word-label agreement"),
    ]  # fmt: skip
    jobs.purge()  # re-send so the good one comes last
    for _, body, _, _ in jobs_queue_messages:
        jobs.send(body)
    jobs.send(good)
    thresholds = ParityThresholds(float16=TINY_FLOAT16_AGREEMENT, int4=1.0)
    options = _options(parity_jsonl, weight_threshold=256, thresholds=thresholds)
    worker = _worker(mode="serve", idle_exit=4, max_receives=2)
    stats = run_export_worker(env, worker, options)
    assert stats.succeeded == 1 and stats.failed == 4, stats
    store = env.open_store()
    for case, body, status, reason in jobs_queue_messages[1:]:
        record = store.get_export_job(body["export_id"])
        assert record.status.value == status, case
        assert reason in record.error_message, (case, record.error_message)
    refusal = store.get_export_job(jobs_queue_messages[-1][1]["export_id"])
    assert "%" in refusal.error_message.splitlines()[0]  # the measured agreement
    assert store.get_export_job(good["export_id"]).status == ExportStatus.SUCCEEDED
    dead = jobs.dead_letter_queue().receive(max_messages=10, wait_seconds=1)
    assert [m.body for m in dead] == ["{export_id: oops"]
    statuses = sorted(r["status"] for r in _results(env))
    assert statuses == ["FAILED"] * 4 + ["SUCCEEDED"]
    assert jobs.purge() == 0


# -- idempotency: checkpoint-<step>, redelivery, an upload that outlived its worker -----------


def test_checkpoint_step_export_is_idempotent_on_export_id(env, parity_jsonl: Path) -> None:
    best = Path(env.runs_uri.removeprefix("file://")) / "runs" / JOB / "best"
    step = best.parent / "checkpoints" / "checkpoint-7"
    step.mkdir(parents=True)
    for name in ("model.safetensors", "config.json"):  # what a Trainer checkpoint holds
        shutil.copyfile(best / name, step / name)
    queued = start_export_for_job(job_name=JOB, settings=env)
    jobs = env.open_queue("coreml_export_jobs")
    jobs.purge()
    # A message sent by hand (no record yet): its own export id, bundle folder and checkpoint.
    export_id = str(uuid.uuid4())
    message = queued | {
        "export_id": export_id,
        "output_s3_prefix": queued["output_s3_prefix"].replace(queued["export_id"], export_id),
        "model_s3_uri": step.as_uri(),
    }
    jobs.send(message)
    assert run_export_worker(env, _worker(), _options(parity_jsonl)).succeeded == 1
    store = env.open_store()
    first = store.get_export_job(message["export_id"])
    manifest = Path(first.bundle_s3_uri.removeprefix("file://")) / "manifest.json"
    before = manifest.read_bytes()

    jobs.send(message)  # a redelivered duplicate: result re-sent, nothing exported again
    started = time.monotonic()
    assert run_export_worker(env, _worker(), _options(parity_jsonl)).succeeded == 1
    assert time.monotonic() - started < 10
    assert manifest.read_bytes() == before
    assert store.get_export_job(message["export_id"]) == first

    # A worker that died after the upload, before its record said so: the bundle is adopted.
    import dataclasses

    store.update_export_job(dataclasses.replace(first, status=ExportStatus.PENDING))
    jobs.send(message)
    assert run_export_worker(env, _worker(), _options(parity_jsonl)).succeeded == 1
    adopted = store.get_export_job(message["export_id"])
    assert adopted.status == ExportStatus.SUCCEEDED
    assert adopted.bundle_s3_uri == first.bundle_s3_uri and manifest.read_bytes() == before
    assert [r["status"] for r in _results(env)] == ["SUCCEEDED"] * 3
    assert _published_bundles(env) == [f"bundles/{JOB}/{message['export_id']}/manifest.json"]


# -- processes that die or are stopped --------------------------------------------------------


def test_kill_9_mid_export_then_a_second_worker_finishes(env, parity_jsonl: Path) -> None:
    message = start_export_for_job(job_name=JOB, settings=env)
    proc = _cli_worker(env, parity_jsonl, "--once", "--visibility-timeout", "6")
    try:
        _wait_for_status(env, message["export_id"], ExportStatus.RUNNING)
        time.sleep(1.0)
        assert proc.poll() is None, proc.communicate()
    finally:
        proc.kill()  # SIGKILL: no cleanup at all
        proc.communicate()
    assert env.open_store().get_export_job(message["export_id"]).status == ExportStatus.RUNNING
    # The message reappears after its visibility timeout; a fresh worker takes it over.
    worker = _worker(mode="serve", idle_exit=20, visibility_timeout=6, max_receives=3)
    stats = run_export_worker(env, worker, _options(parity_jsonl))
    assert stats.succeeded == 1, stats
    [export] = list_exports(env.open_store(), job=JOB)
    assert export.status == ExportStatus.SUCCEEDED
    assert _published_bundles(env) == [f"bundles/{JOB}/{message['export_id']}/manifest.json"]
    assert env.open_queue("coreml_export_jobs").purge() == 0  # nothing left, not even in flight


def test_sigterm_mid_export_exits_0_and_hands_the_export_back(env, parity_jsonl: Path) -> None:
    message = start_export_for_job(job_name=JOB, settings=env)
    proc = _cli_worker(env, parity_jsonl, "--once", "--visibility-timeout", "120")
    try:
        _wait_for_status(env, message["export_id"], ExportStatus.RUNNING)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    assert json.loads(out.strip().splitlines()[-1])["stopped_by"] == "SIGTERM"
    store = env.open_store()
    assert store.get_export_job(message["export_id"]).status == ExportStatus.PENDING
    # Visible again at once (not after 120 s), and the next worker finishes it.
    stats = run_export_worker(env, _worker(mode="once", wait_seconds=2), _options(parity_jsonl))
    assert stats.succeeded == 1
    assert store.get_export_job(message["export_id"]).status == ExportStatus.SUCCEEDED


def test_two_worker_processes_share_the_queue(env, parity_jsonl: Path) -> None:
    count = 4  # ten exports take minutes on a shared 2-core machine; four still interleave
    ids = [start_export_for_job(job_name=JOB, settings=env)["export_id"] for _ in range(count)]
    procs = [
        _cli_worker(
            env, parity_jsonl, "--serve", "--idle-exit", "6", "--visibility-timeout", "60"
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=400) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in outputs]
    per_worker = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert sum(s["succeeded"] for s in per_worker) == count
    exports = list_exports(env.open_store(), job=JOB)
    assert sorted(e.export_id for e in exports) == sorted(ids)
    assert {e.status for e in exports} == {ExportStatus.SUCCEEDED}
    assert _published_bundles(env) == sorted(f"bundles/{JOB}/{i}/manifest.json" for i in ids)
    assert env.open_queue("coreml_export_jobs").purge() == 0


# -- the same worker on AWS APIs (moto over HTTP: S3, SQS, DynamoDB) ---------------------------


@pytest.mark.aws
def test_worker_against_s3_sqs_and_dynamodb(aws_stack, tiny_checkpoint, parity_jsonl) -> None:
    settings = aws_stack
    runs = settings.open_objects("runs")
    runs.upload_dir(tiny_checkpoint, f"runs/{JOB}/best")
    for name in ("model.safetensors", "config.json"):  # a Trainer checkpoint: weights only
        runs.put_file(f"runs/{JOB}/checkpoints/checkpoint-9/{name}", tiny_checkpoint / name)
    job = Job(
        job_id=str(uuid.uuid4()),
        name=JOB,
        status=JobStatus.SUCCEEDED,
        results={"best_checkpoint_s3_path": runs.uri(f"runs/{JOB}/best")},
    )
    store = settings.open_store()
    store.add_job(job)
    queued = start_export_for_job(job_name=JOB, settings=settings)
    by_hand = queued | {  # the seed's shape: a checkpoint-<step>, the job named by its id
        "export_id": str(uuid.uuid4()),
        "job_id": job.job_id,
        "model_s3_uri": runs.uri(f"runs/{JOB}/checkpoints/checkpoint-9/"),
    }
    by_hand["output_s3_prefix"] = queued["output_s3_prefix"].replace(
        queued["export_id"], by_hand["export_id"]
    )
    settings.open_queue("coreml_export_jobs").send(by_hand)

    stats = run_export_worker(settings, _worker(wait_seconds=1), _options(parity_jsonl))
    assert stats.succeeded == 2, stats
    from receipt_layoutlm.remote_dirs import fetched_directory

    for message in (queued, by_hand):
        export = store.get_export_job(message["export_id"])
        assert export.status == ExportStatus.SUCCEEDED and export.job_id == JOB
        assert export.bundle_s3_uri == message["output_s3_prefix"].rstrip("/")
        assert export.bundle_s3_uri.startswith("s3://")
        with fetched_directory(export.bundle_s3_uri, what="bundle") as bundle:
            assert verify_bundle(bundle).ok
    results = _results(settings)
    assert sorted(r["export_id"] for r in results) == sorted(
        m["export_id"] for m in (queued, by_hand)
    )
    assert set(store.get_job(job.job_id).results["exports"]) == {
        queued["export_id"],
        by_hand["export_id"],
    }
    assert settings.open_queue("coreml_export_jobs").approximate_count() == 0


def test_an_export_failing_unforeseen_is_failed_on_its_last_receive(env, parity_jsonl) -> None:
    """The loop's on_exhausted gives up for the export worker: earlier receives release the
    export (PENDING), the last one records it FAILED with the error and deletes the message."""
    from receipt_cloud.worker import apply_queue_limits, run_worker
    from receipt_layoutlm.export_worker import ExportMessageHandler

    class Broken(ExportMessageHandler):
        def _export(self, request):
            raise RuntimeError(f"disk on fire (receive {len(attempts) + 1})")

    attempts: list[str] = []
    queued = start_export_for_job(job_name=JOB, settings=env)
    worker = _worker(max_receives=2, visibility_timeout=1)
    jobs = apply_queue_limits(env.open_queue("coreml_export_jobs"), worker)
    store = env.open_store()
    handler = Broken(settings=env, store=store, results_queue=env.open_queue(
        "coreml_export_results"), options=_options(parity_jsonl), worker=worker)

    def handle(message) -> None:
        try:
            handler(message)
        finally:
            attempts.append(store.get_export_job(queued["export_id"]).status.value)

    stats = run_worker(jobs, handle, _worker(mode="serve", idle_exit=3, max_receives=2,
                       visibility_timeout=1), on_exhausted=handler.on_exhausted)
    assert attempts == ["PENDING", "PENDING"]  # released after each unforeseen failure
    assert (stats.released, stats.failed) == (1, 1)
    record = store.get_export_job(queued["export_id"])
    assert record.status == ExportStatus.FAILED
    assert record.error_message == (
        "failed on 2 receives; last error RuntimeError: disk on fire (receive 2)")
    assert [r["status"] for r in _results(env)] == ["FAILED"]
    assert jobs.dead_letter_queue().receive(wait_seconds=0.5) == []
