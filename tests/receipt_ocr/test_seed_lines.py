"""The seed's own command lines, copied verbatim from its text, run against the moto server.

Only the seed's placeholders are filled in (``<account>``, ``<uuid>``, ``<job>``, ``<step>``,
``bucket``, the queue URL placeholders, and the program paths of its Swift/macOS build and
venv); everything else reaches our programs as the seed wrote it. Its AWS resources are mapped
onto moto through the documented overrides only: ``AWS_ENDPOINT_URL`` (every boto3 call goes to
the moto server), ``RECEIPTS_STACK_OUTPUTS`` (what ``--env dev`` reads instead of running
Pulumi), and the bucket variables (``RUNS_BUCKET_NAME``, ``BUNDLES_BUCKET_NAME``). Records must
land in DynamoDB: no command may fall back to the local SQLite store.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from ocr_support import moto_stack_outputs, serve_bundle

from receipt_cloud.queues import create_queue_with_dlq
from receipt_cloud.settings import resolve_settings

pytestmark = [pytest.mark.slow, pytest.mark.aws]

REPO = Path(__file__).resolve().parents[2]
SEED_TEXT = REPO.parent / "shared" / "seed" / "000_1001f411171f4ff2.txt"
MOTO_ACCOUNT = "123456789012"  # the account id moto answers for

# -- verbatim from the seed ---------------------------------------------------------------------
SEED_EXPORT_WORKER = """\
~/.coreml-venv/bin/layoutlm-cli export-worker --once \\
     --job-queue-url "https://sqs.us-east-1.amazonaws.com/<account>/coreml-export-prod-prod-coreml-export-job-queue" \\
     --results-queue-url "https://sqs.us-east-1.amazonaws.com/<account>/coreml-export-prod-prod-coreml-export-results-queue"
"""  # noqa: E501
SEED_EXPORT_WORKER_ENV = "layoutlm-cli export-worker --once"
SEED_SEND_MESSAGE = """\
aws sqs send-message \\
  --queue-url <coreml-export-job-queue-url> \\
  --message-body '{
    "export_id": "<uuid>",
    "job_id": "<training-job-name>",
    "model_s3_uri": "s3://bucket/runs/<job>/checkpoint-<step>/",
    "quantize": "float16",
    "output_s3_prefix": "s3://bucket/coreml/<job>/"
  }'
"""
SEED_OCR_BATCH = "./receipt_ocr_swift/.build/arm64-apple-macosx/release/receipt-ocr --env dev"
SEED_OCR_CONTINUOUS = """\
./receipt_ocr_swift/.build/arm64-apple-macosx/release/receipt-ocr \\
  --env dev \\
  --continuous \\
  --log-level info
"""
SEED_OCR_STUB = """\
./receipt_ocr_swift/.build/arm64-apple-macosx/release/receipt-ocr \\
  --env dev \\
  --stub-ocr \\
  --continuous
"""
# -----------------------------------------------------------------------------------------------

PROGRAMS = {
    "~/.coreml-venv/bin/layoutlm-cli": "receipt_layoutlm.cli",
    "layoutlm-cli": "receipt_layoutlm.cli",
    "./receipt_ocr_swift/.build/arm64-apple-macosx/release/receipt-ocr": "receipt_ocr.cli",
}


def test_the_lines_are_the_seeds() -> None:
    if not SEED_TEXT.is_file():
        pytest.skip(f"seed text not found at {SEED_TEXT}")
    seed = SEED_TEXT.read_text(encoding="utf-8")
    for line in (SEED_EXPORT_WORKER, SEED_EXPORT_WORKER_ENV, SEED_SEND_MESSAGE, SEED_OCR_BATCH,
                 SEED_OCR_CONTINUOUS, SEED_OCR_STUB):  # fmt: skip
        assert line.rstrip("\n") in seed


def _argv(line: str, fill: dict[str, str]) -> list[str]:
    """The seed's shell line as argv: placeholders filled, continuations joined, program
    replaced by ours."""
    for placeholder, value in fill.items():
        line = line.replace(placeholder, value)
    words = shlex.split(line.replace("\\\n", " "))
    module = PROGRAMS[words[0]]
    runner = f"import sys; from {module} import main; sys.exit(main(sys.argv[1:]))"
    return [sys.executable, "-c", runner, *words[1:]]


def _run(argv: list[str], environ: dict[str, str], cwd: Path, timeout: float = 600) -> dict:
    path = f"{REPO / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    env = {**environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1", "HOME": str(cwd / "home")}
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    assert not (cwd / ".receipts").exists(), "a command fell back to the local store"
    return json.loads(done.stdout.strip().splitlines()[-1])


def _seed_message(line: str, fill: dict[str, str]) -> tuple[str, dict]:
    """The queue URL and the parsed body of the seed's ``aws sqs send-message`` line."""
    for placeholder, value in fill.items():
        line = line.replace(placeholder, value)
    words = shlex.split(line.replace("\\\n", " "))
    assert words[:3] == ["aws", "sqs", "send-message"]
    options = dict(zip(words[3::2], words[4::2], strict=True))
    return options["--queue-url"], json.loads(options["--message-body"])


@pytest.fixture
def aws_base(aws_env: str, unique_name: str, tmp_path: Path) -> dict[str, str]:
    """Dummy credentials, the moto endpoint and region; no RECEIPTS_* of the test runner."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RECEIPTS_")}
    for var in ("DYNAMO_TABLE_NAME", "COREML_EXPORT_JOB_QUEUE_URL",
                "COREML_EXPORT_RESULTS_QUEUE_URL", "OCR_JOB_QUEUE_URL", "OCR_RESULTS_QUEUE_URL"):
        environ.pop(var, None)
    (tmp_path / "home").mkdir()
    return environ


def _seed_queues() -> tuple[str, str]:
    """The seed's two export queues on moto (fixed names, so emptied first)."""
    import boto3

    sqs = boto3.client("sqs")
    urls = []
    for name in ("coreml-export-prod-prod-coreml-export-job-queue",
                 "coreml-export-prod-prod-coreml-export-results-queue"):  # fmt: skip
        queue = create_queue_with_dlq(name, 3)
        for url in (queue.url, queue.dead_letter_queue().url):
            sqs.purge_queue(QueueUrl=url)
        urls.append(f"https://sqs.us-east-1.amazonaws.com/{MOTO_ACCOUNT}/{name}")
    return urls[0], urls[1]


def _upload_run(tiny_bundle, bucket: str) -> tuple[str, str]:
    """The tiny run (``runs/<job>/best`` and ``runs/<job>/checkpoints/checkpoint-<step>``) in
    the bucket; returns (job, step)."""
    from receipt_cloud.objects import open_object_store

    run = tiny_bundle.objects_root / "runs" / "layoutlm-ocr-tiny"
    found = (run / "checkpoints").glob("checkpoint-*")
    steps = sorted((p.name.removeprefix("checkpoint-") for p in found), key=int)
    assert steps, f"the tiny run has no step checkpoints under {run / 'checkpoints'}"
    open_object_store(f"s3://{bucket}").upload_dir(run, "runs/layoutlm-ocr-tiny")
    return "layoutlm-ocr-tiny", steps[-1]


def test_seed_export_worker_lines_write_dynamodb(
    aws_base, unique_name: str, tiny_bundle, tmp_path: Path
) -> None:
    """Both export-worker lines, each fed the seed's message in a bucket of its own (the
    message's output prefix is fixed, and a prefix holds one bundle)."""
    import boto3

    from receipt_dynamo import create_table

    create_table(boto3.client("dynamodb"), unique_name)
    job_url, results_url = _seed_queues()
    queue_env = {"COREML_EXPORT_JOB_QUEUE_URL": job_url,
                 "COREML_EXPORT_RESULTS_QUEUE_URL": results_url}  # fmt: skip
    done = []
    for n, (line, extra) in enumerate(((SEED_EXPORT_WORKER, {}),
                                       (SEED_EXPORT_WORKER_ENV, queue_env))):  # fmt: skip
        bucket = f"{unique_name}-{n}"
        boto3.client("s3").create_bucket(Bucket=bucket)
        job, step = _upload_run(tiny_bundle, bucket)
        export_id = str(uuid.uuid4())
        fill = {"<coreml-export-job-queue-url>": job_url, "<training-job-name>": job,
                "<job>": job, "<step>": step, "<uuid>": export_id,
                "s3://bucket/": f"s3://{bucket}/"}  # fmt: skip
        url, body = _seed_message(SEED_SEND_MESSAGE, fill)
        boto3.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(body))
        environ = {**aws_base, **extra, "DYNAMO_TABLE_NAME": unique_name,
                   "RUNS_BUCKET_NAME": bucket, "BUNDLES_BUCKET_NAME": bucket}  # fmt: skip
        stats = _run(_argv(line, {"<account>": MOTO_ACCOUNT}), environ, tmp_path)
        assert stats["succeeded"] == 1, stats
        done.append((export_id, bucket, job))

    table = boto3.resource("dynamodb").Table(unique_name)
    for export_id, bucket, job in done:
        item = table.get_item(Key={"PK": f"COREML_EXPORT#{export_id}", "SK": "EXPORT"})["Item"]
        assert item["status"] == "SUCCEEDED" and item["job_id"] == job
        assert item["bundle_s3_uri"].rstrip("/") == f"s3://{bucket}/coreml/{job}"
        assert item["rollout"].startswith("promoted")  # the first bundle of its store
    results = boto3.client("sqs").receive_message(
        QueueUrl=results_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
    ).get("Messages", [])
    assert results and {json.loads(m["Body"])["export_id"] for m in results} <= {
        export_id for export_id, _, _ in done
    }


def test_seed_receipt_ocr_lines_write_dynamodb(
    aws_base, unique_name: str, tiny_bundle, sample_images: Path, tmp_path: Path
) -> None:
    import boto3

    from receipt_cloud.ocr_submit import submit_image

    outputs_file = moto_stack_outputs(unique_name, tmp_path / "dev-outputs.json")
    serve_bundle(f"{unique_name}-bundles", tiny_bundle.bundle_dir,
                 "bundles/layoutlm-ocr-tiny/export-1")

    settings = resolve_settings("dev", stack_outputs_file=outputs_file, environ={})
    store = settings.open_store()
    photos = sorted((sample_images / "img").glob("*.jpg"))[:3]
    environ = {**aws_base, "RECEIPTS_STACK_OUTPUTS": str(outputs_file)}
    submitted = []
    for line, photo in zip((SEED_OCR_BATCH, SEED_OCR_CONTINUOUS, SEED_OCR_STUB), photos,
                           strict=True):  # fmt: skip
        sub = submit_image(photo.read_bytes(), filename=photo.name, store=store,
                           objects=settings.open_objects("raw"),
                           queue=settings.open_queue("ocr_jobs"))  # fmt: skip
        stats = _run(_argv(line, {}), environ, tmp_path)
        assert stats["succeeded"] == 1, stats
        submitted.append(sub)
    # The model cache defaults to ~/.models/layoutlm (HOME is the test's), not ./.models.
    assert not (tmp_path / ".models").exists()
    assert any((tmp_path / "home" / ".models" / "layoutlm").iterdir())

    table = boto3.resource("dynamodb").Table(unique_name)
    for sub in submitted:
        job = table.get_item(Key={"PK": f"IMAGE#{sub.image_id}", "SK": f"OCR_JOB#{sub.job_id}"})
        assert job["Item"]["status"] == "COMPLETED"
        labels = table.query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :sk)",
            ExpressionAttributeValues={":pk": f"IMAGE#{sub.image_id}", ":sk": "RECEIPT#"},
        )["Items"]
        assert any("#LABEL#" in item["SK"] for item in labels)
    shutil.rmtree(tmp_path / "home", ignore_errors=True)
