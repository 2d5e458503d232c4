"""No log line holds a credential, at any level: real commands (``receipt-ocr submit``,
``layoutlm-cli bundles``) run as processes against the moto server with distinctive fake
credentials, at every ``--log-level`` including the opt-in ``trace-wire``; every line they print
is searched for the key id, the secret, the session token and request signatures."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from receipt_cloud.log_levels import WIRE_LOGGERS, configure_lambda_logging
from receipt_cloud.log_redaction import REDACTED, RedactingFilter, redact

REPO = Path(__file__).resolve().parents[2]
KEY_ID = "ASIAZFAKEKEYID7Q3ZK2"
SECRET = "fAkeSecretKey/Zq9+Xx7LmN3pQrStUvWx12345678"
TOKEN = "fake-session-token-7f3c9a1b2d4e5f60718293a4b5c6d7e8"
LEAKS = [
    re.compile(re.escape(KEY_ID)),
    re.compile(re.escape(SECRET)),
    re.compile(re.escape(TOKEN)),
    re.compile(r"(?i)signature[=:]\s*[0-9a-f]{16}"),
    re.compile(r"Credential=[A-Z0-9]{16}"),
]
LEVELS = ["trace-wire", "trace", "debug", "info", "warn", "error"]


def _env(endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k not in ("PYTHONPATH",)}
    return {**env, "PYTHONPATH": str(REPO / "src"), "AWS_ACCESS_KEY_ID": KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN,
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint}


@pytest.fixture
def stack(aws_env: str, unique_name: str, tmp_path: Path) -> Path:
    """A stack on the moto server (created with the fixture's own credentials); its outputs."""
    import boto3

    from receipt_cloud.queues import create_queue_with_dlq
    from receipt_dynamo import create_table

    create_table(boto3.client("dynamodb"), unique_name)
    boto3.client("s3").create_bucket(Bucket=unique_name)
    queues = {name: create_queue_with_dlq(f"{unique_name}-{short}", 3).url
              for name, short in [("ocr_job_queue_url", "oj"), ("ocr_results_queue_url", "or"),
                                  ("coreml_export_job_queue_url", "ej"),
                                  ("coreml_export_results_queue_url", "er")]}
    outputs = {"dynamodb_table_name": unique_name, "raw_bucket_name": unique_name,
               "runs_bucket_name": unique_name, "bundles_bucket_name": unique_name,
               "region": "us-east-1", **queues}
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path


def _run(argv: list[str], endpoint: str) -> str:
    proc = subprocess.run([sys.executable, "-c", argv[0], *argv[1:]], env=_env(endpoint),
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout + proc.stderr


OCR = "import sys; from receipt_ocr.cli import main; sys.exit(main())"
LAYOUTLM = "import sys; from receipt_layoutlm.cli import main; sys.exit(main())"


def _leaks(text: str) -> list[str]:
    return [line for line in text.splitlines() if any(p.search(line) for p in LEAKS)]


@pytest.mark.aws
# Two CLI processes on a moto stack per level: trace-wire (the level that logs the wire)
# stays in test-fast, the quieter levels are slow (make test).
@pytest.mark.parametrize(
    "level",
    [pytest.param(level, marks=() if level == "trace-wire" else pytest.mark.slow)
     for level in LEVELS],
)
def test_no_credential_in_any_log_line(level: str, stack: Path, aws_env: str,
                                       tmp_path: Path) -> None:
    photo = tmp_path / "receipt.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (300, 500), "white").save(buffer, format="JPEG")
    photo.write_bytes(buffer.getvalue())
    env_flags = ["--env", "moto", "--stack-outputs", str(stack)]
    text = _run([OCR, "--log-level", level, "submit", str(photo), *env_flags], aws_env)
    text += _run([LAYOUTLM, "--log-level", level, "bundles", "list", *env_flags], aws_env)
    assert _leaks(text) == []
    botocore_lines = [line for line in text.splitlines() if " botocore." in line]
    if level == "trace-wire":  # the opt-in level really logs the wire, redacted
        assert any("Authorization" in line for line in botocore_lines), text[-2000:]
        assert REDACTED in text
    else:  # below it, the AWS libraries say nothing at DEBUG
        assert [line for line in botocore_lines if " DEBUG " in line] == []


def test_redaction_covers_each_credential_form() -> None:
    samples = {
        f"Authorization: AWS4-HMAC-SHA256 Credential={KEY_ID}/20261207/us-east-1/s3/"
        "aws4_request, SignedHeaders=host, Signature=" + "ab" * 32: [KEY_ID, "ab" * 32],
        f"{{'X-Amz-Security-Token': b'{TOKEN}'}}": [TOKEN],
        f"https://b/k?X-Amz-Credential={KEY_ID}%2F2026&X-Amz-Signature=00ff&"
        f"X-Amz-Security-Token=IQoJb3JpZ2luX2VjEFAKE0123456789abcdef": ["00ff", "IQoJb3Jp"],
        f"aws_secret_access_key = {SECRET}": [SECRET],
        "x-amz-security-token:FwoGZXIvYXdzEFAKEFAKEFAKEFAKE": ["FwoGZXIvYXdz"],
        "found AKIAIOSFODNN7EXAMPLE in a config": ["AKIAIOSFODNN7EXAMPLE"],
        f"<Credentials><SecretAccessKey>{SECRET}</SecretAccessKey><SessionToken>{TOKEN}"
        "</SessionToken></Credentials>": [SECRET, TOKEN],
        f'{{"AccessKeyId": "{KEY_ID}", "SecretAccessKey": "{SECRET}", "Token": "{TOKEN}"}}':
            [KEY_ID, SECRET, TOKEN],
    }
    for text, secrets in samples.items():
        cleaned = redact(text)
        assert REDACTED in cleaned
        assert not [s for s in secrets if s in cleaned], cleaned
    assert redact(f"token {TOKEN} here", [TOKEN]) == f"token {REDACTED} here"


def test_lambda_logging_caps_aws_loggers_and_redacts(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    saved = (root.level, {n: logging.getLogger(n).level for n in WIRE_LOGGERS})
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    root.addHandler(handler)
    try:
        configure_lambda_logging({"LOG_LEVEL": "debug"})
        assert logging.getLogger("botocore").getEffectiveLevel() == logging.INFO
        assert any(isinstance(f, RedactingFilter) for f in handler.filters)
        logging.getLogger("receipt_cloud.handlers.upload").debug("secret %s", SECRET)
        logging.getLogger("botocore.endpoint").debug("headers %s", TOKEN)
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)
    assert stream.getvalue() == f"secret {REDACTED}\n"
