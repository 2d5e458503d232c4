"""Session-wide fixtures: a real moto server on 127.0.0.1 reached over HTTP through boto3."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """Start ``moto.server`` as a separate process and yield its http://127.0.0.1:PORT URL."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urlopen(f"{url}/moto-api/", timeout=1).close()
            break
        except (URLError, ConnectionError, OSError):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("moto server did not start on 127.0.0.1") from None
            time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point boto3 at the moto server with dummy credentials; returns the endpoint URL."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    for var in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(var, raising=False)
    return moto_endpoint


@pytest.fixture
def unique_name() -> str:
    """A short unique name for a table, bucket or queue, so tests never share server state."""
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests that need it skip with a reason when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (a fresh clone has no ../shared/data)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def parity_jsonl(shared_data: Path, tmp_path_factory) -> Path:
    """Three real SROIE receipts as JSONL: the parity set that keeps test exports to seconds."""
    from receipt_layoutlm.importers import get_importer, write_jsonl

    parsed = get_importer("sroie")(shared_data / "sroie" / "train", limit=3)
    path = tmp_path_factory.mktemp("parity") / "sroie3.jsonl"
    write_jsonl(parsed.documents, path)
    return path


os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def aws_stack(aws_env: str, unique_name: str):
    """A throwaway stack on the moto server: table, one bucket for raw/runs/bundles, and the
    four queues each with a DLQ (3 receives); returns its ``Settings`` (env ``dev``)."""
    import boto3

    from receipt_cloud.queues import create_queue_with_dlq
    from receipt_cloud.settings import resolve_settings
    from receipt_dynamo import create_table

    create_table(boto3.client("dynamodb"), unique_name)
    boto3.client("s3").create_bucket(Bucket=unique_name)
    queues = {
        field: create_queue_with_dlq(f"{unique_name}-{short}", 3).url
        for field, short in [
            ("coreml_export_job_queue_url", "ej"),
            ("coreml_export_results_queue_url", "er"),
            ("ocr_job_queue_url", "oj"),
            ("ocr_results_queue_url", "or"),
        ]
    }
    bucket = f"s3://{unique_name}"
    return resolve_settings(
        "dev",
        environ={},
        overrides={
            "table_name": unique_name,
            "raw_uri": bucket,
            "runs_uri": bucket,
            "bundles_uri": bucket,
            "region": "us-east-1",
            "endpoint_url": aws_env,
            **queues,
        },
    )
