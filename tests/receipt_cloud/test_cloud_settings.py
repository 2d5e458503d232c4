"""Settings: local defaults, stack outputs, and the outputs < env vars < flags precedence."""

from __future__ import annotations

import argparse
import json
import os
import stat
import uuid
from pathlib import Path

import boto3
import pytest

from receipt_cloud.errors import (
    MissingSettingError,
    StackOutputsError,
    UnknownObjectsKindError,
    UnknownQueueNameError,
)
from receipt_cloud.objects import LocalObjectStore
from receipt_cloud.queues import LocalQueue, create_queue_with_dlq
from receipt_cloud.settings import (
    STACK_OUTPUT_NAMES,
    add_settings_arguments,
    resolve_settings,
    settings_from_args,
)
from receipt_dynamo import Image

OUTPUTS = {
    "dynamodb_table_name": "receipts-dev",
    "raw_bucket_name": "raw-dev",
    "runs_bucket_name": "runs-dev",
    "bundles_bucket_name": "bundles-dev",
    "coreml_export_job_queue_url": "https://sqs.eu-west-1.amazonaws.com/1/export-jobs",
    "coreml_export_results_queue_url": "https://sqs.eu-west-1.amazonaws.com/1/export-results",
    "ocr_job_queue_url": "https://sqs.eu-west-1.amazonaws.com/1/ocr-jobs",
    "ocr_results_queue_url": "https://sqs.eu-west-1.amazonaws.com/1/ocr-results",
    "region": "eu-west-1",
}


@pytest.fixture
def outputs_file(tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(OUTPUTS))
    return path


def _empty_path_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH has no pulumi."""
    empty = tmp_path / "empty-bin"
    empty.mkdir(exist_ok=True)
    return {"PATH": str(empty)}


def test_local_defaults_live_under_the_data_dir(tmp_path: Path) -> None:
    settings = resolve_settings(data_dir=tmp_path / "data", environ={})
    data = tmp_path / "data"
    assert settings.env == "local" and settings.is_local
    assert settings.data_dir == data
    assert settings.store_backend == "sqlite"
    assert settings.table_name == str(data / "receipts.sqlite3")
    objects = (data / "objects").as_uri()
    assert settings.raw_uri == settings.runs_uri == settings.bundles_uri == objects
    queues = data / "queues.sqlite3"
    assert settings.ocr_job_queue_url == f"local://{queues}#ocr-jobs"
    assert settings.ocr_results_queue_url == f"local://{queues}#ocr-results"
    assert settings.coreml_export_job_queue_url == f"local://{queues}#coreml-export-jobs"
    assert settings.coreml_export_results_queue_url == f"local://{queues}#coreml-export-results"
    assert (settings.region, settings.endpoint_url) == (None, None)
    assert not data.exists()  # resolving creates nothing


def test_data_dir_from_receipts_home_then_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    assert resolve_settings(environ={"RECEIPTS_HOME": str(home)}).data_dir == home
    flag = tmp_path / "flag"
    assert resolve_settings(data_dir=flag, environ={"RECEIPTS_HOME": str(home)}).data_dir == flag
    monkeypatch.chdir(tmp_path)
    assert resolve_settings(environ={}).data_dir == tmp_path / ".receipts"


def test_local_env_vars_still_apply(tmp_path: Path) -> None:
    environ = {
        "OCR_JOB_QUEUE_URL": "http://127.0.0.1:5000/123/ocr",
        "AWS_REGION": "us-west-2",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
        "DYNAMO_TABLE_NAME": "remote-table",
    }
    settings = resolve_settings(data_dir=tmp_path, environ=environ)
    assert settings.ocr_job_queue_url == "http://127.0.0.1:5000/123/ocr"
    assert (settings.region, settings.endpoint_url) == ("us-west-2", "http://127.0.0.1:5000")
    # The local table is a SQLite file; a DynamoDB table name only applies on dynamodb.
    assert settings.table_name == str(tmp_path / "receipts.sqlite3")
    dynamo = resolve_settings(
        data_dir=tmp_path, environ=environ, overrides={"store_backend": "dynamodb"}
    )
    assert (dynamo.store_backend, dynamo.table_name) == ("dynamodb", "remote-table")


def test_stack_reads_outputs_file(outputs_file: Path, tmp_path: Path) -> None:
    settings = resolve_settings(
        "dev", stack_outputs_file=outputs_file, environ=_empty_path_env(tmp_path)
    )
    assert settings.env == "dev" and not settings.is_local
    assert settings.store_backend == "dynamodb"
    assert settings.table_name == "receipts-dev"
    assert (settings.raw_uri, settings.runs_uri, settings.bundles_uri) == (
        "s3://raw-dev",
        "s3://runs-dev",
        "s3://bundles-dev",
    )
    assert settings.ocr_job_queue_url == OUTPUTS["ocr_job_queue_url"]
    assert settings.coreml_export_results_queue_url == OUTPUTS["coreml_export_results_queue_url"]
    assert settings.region == "eu-west-1"
    assert set(STACK_OUTPUT_NAMES) == set(OUTPUTS)


def test_outputs_file_from_environment_variable(outputs_file: Path, tmp_path: Path) -> None:
    environ = {**_empty_path_env(tmp_path), "RECEIPTS_STACK_OUTPUTS": str(outputs_file)}
    assert resolve_settings("prod", environ=environ).table_name == "receipts-dev"


def test_precedence_outputs_then_env_then_flags(outputs_file: Path, tmp_path: Path) -> None:
    environ = {
        **_empty_path_env(tmp_path),
        "DYNAMO_TABLE_NAME": "from-env",
        "OCR_RESULTS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/1/env-results",
        "AWS_REGION": "us-east-2",
        "RUNS_BUCKET_NAME": "runs-from-env",
    }
    settings = resolve_settings(
        "dev",
        stack_outputs_file=outputs_file,
        environ=environ,
        overrides={"table_name": "from-flag", "region": None, "bundles_uri": "s3://b-flag/x"},
    )
    assert settings.table_name == "from-flag"  # flag beats env beats output
    assert settings.ocr_results_queue_url.endswith("/env-results")  # env beats output
    assert settings.region == "us-east-2"  # a None override is "not given"
    assert settings.runs_uri == "s3://runs-from-env"
    assert settings.bundles_uri == "s3://b-flag/x"
    assert settings.ocr_job_queue_url == OUTPUTS["ocr_job_queue_url"]  # untouched output


def test_one_error_lists_every_missing_value(tmp_path: Path) -> None:
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"raw_bucket_name": "raw", "region": "us-east-1"}))
    with pytest.raises(MissingSettingError) as info:
        resolve_settings("dev", stack_outputs_file=partial, environ=_empty_path_env(tmp_path))
    message = str(info.value)
    assert "table name: pass --table-name or set DYNAMO_TABLE_NAME" in message
    for flag, var in [
        ("--runs-uri", "RUNS_BUCKET_NAME"),
        ("--bundles-uri", "BUNDLES_BUCKET_NAME"),
        ("--coreml-export-job-queue-url", "COREML_EXPORT_JOB_QUEUE_URL"),
        ("--coreml-export-results-queue-url", "COREML_EXPORT_RESULTS_QUEUE_URL"),
        ("--ocr-job-queue-url", "OCR_JOB_QUEUE_URL"),
        ("--ocr-results-queue-url", "OCR_RESULTS_QUEUE_URL"),
    ]:
        assert f"pass {flag} or set {var}" in message
    assert "--raw-uri" not in message and "--region" not in message
    assert len(info.value.missing) == 7


def test_everything_from_env_vars_needs_no_pulumi(tmp_path: Path) -> None:
    environ = {
        **_empty_path_env(tmp_path),
        "DYNAMO_TABLE_NAME": "t",
        "RAW_BUCKET_NAME": "raw",
        "RUNS_BUCKET_NAME": "runs",
        "BUNDLES_BUCKET_NAME": "bundles",
        "COREML_EXPORT_JOB_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/a",
        "COREML_EXPORT_RESULTS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/b",
        "OCR_JOB_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/c",
        "OCR_RESULTS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/d",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    settings = resolve_settings("prod", environ=environ)
    assert (settings.table_name, settings.raw_uri) == ("t", "s3://raw")
    assert settings.region == "us-east-1"


def test_missing_pulumi_says_so_and_suggests_the_outputs_file(tmp_path: Path) -> None:
    with pytest.raises(StackOutputsError) as info:
        resolve_settings("dev", environ=_empty_path_env(tmp_path))
    message = str(info.value)
    assert "pulumi is not installed" in message
    assert "--stack-outputs" in message and "RECEIPTS_STACK_OUTPUTS" in message


def _fake_pulumi(bin_dir: Path, script: str) -> None:
    bin_dir.mkdir()
    exe = bin_dir / "pulumi"
    exe.write_text("#!/bin/sh\n" + script)
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)


def test_runs_pulumi_stack_output(tmp_path: Path) -> None:
    args_file = tmp_path / "args.txt"
    _fake_pulumi(
        tmp_path / "bin",
        # Shell builtins only: PATH holds nothing but this fake pulumi.
        f"echo \"$@\" > {args_file}\nprintf '%s\\n' '{json.dumps(OUTPUTS)}'\n",
    )
    settings = resolve_settings("staging", environ={"PATH": str(tmp_path / "bin")})
    assert args_file.read_text().split() == ["stack", "output", "--json", "--stack", "staging"]
    assert settings.table_name == "receipts-dev"
    assert settings.runs_uri == "s3://runs-dev"


def test_pulumi_failure_is_reported(tmp_path: Path) -> None:
    _fake_pulumi(tmp_path / "bin", 'echo "error: no stack named nope" >&2\nexit 255\n')
    with pytest.raises(StackOutputsError, match="no stack named nope"):
        resolve_settings("nope", environ={"PATH": str(tmp_path / "bin")})


def test_bad_outputs_files(tmp_path: Path) -> None:
    with pytest.raises(StackOutputsError, match="does not exist"):
        resolve_settings("dev", stack_outputs_file=tmp_path / "absent.json", environ={})
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    with pytest.raises(StackOutputsError, match="not valid JSON"):
        resolve_settings("dev", stack_outputs_file=bad, environ={})
    bad.write_text("[1, 2]")
    with pytest.raises(StackOutputsError, match="JSON object"):
        resolve_settings("dev", stack_outputs_file=bad, environ={})


def test_unknown_override_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="tabel_name"):
        resolve_settings(data_dir=tmp_path, environ={}, overrides={"tabel_name": "x"})


def test_cli_flags(outputs_file: Path, tmp_path: Path) -> None:
    parser = add_settings_arguments(argparse.ArgumentParser())
    args = parser.parse_args(
        [
            "--env",
            "dev",
            "--stack-outputs",
            str(outputs_file),
            "--table-name",
            "flag-table",
            "--region",
            "ap-south-1",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--ocr-job-queue-url",
            "http://127.0.0.1:9/1/ocr",
            "--coreml-export-job-queue-url",
            "http://127.0.0.1:9/1/exp",
            "--coreml-export-results-queue-url",
            "http://127.0.0.1:9/1/res",
            "--ocr-results-queue-url",
            "http://127.0.0.1:9/1/ocr-res",
        ]
    )
    settings = settings_from_args(args, environ={"DYNAMO_TABLE_NAME": "env-table"})
    assert settings.env == "dev"
    assert settings.table_name == "flag-table"
    assert (settings.region, settings.endpoint_url) == ("ap-south-1", "http://127.0.0.1:9")
    assert settings.ocr_job_queue_url == "http://127.0.0.1:9/1/ocr"
    assert settings.coreml_export_results_queue_url == "http://127.0.0.1:9/1/res"
    assert settings.raw_uri == "s3://raw-dev"

    local = settings_from_args(parser.parse_args(["--data-dir", str(tmp_path / "d")]), environ={})
    assert local.env == "local" and local.data_dir == tmp_path / "d"
    help_text = parser.format_help()
    assert "DYNAMO_TABLE_NAME" in help_text and "OCR_JOB_QUEUE_URL" in help_text


def test_receipts_env_picks_the_default_env(outputs_file: Path) -> None:
    parser = add_settings_arguments(argparse.ArgumentParser())
    environ = {"RECEIPTS_ENV": "dev", "RECEIPTS_STACK_OUTPUTS": str(outputs_file)}
    assert settings_from_args(parser.parse_args([]), environ=environ).env == "dev"


def test_local_settings_open_working_objects_and_queues(tmp_path: Path) -> None:
    settings = resolve_settings(data_dir=tmp_path / "data", environ={})
    runs = settings.open_objects("runs")
    assert isinstance(runs, LocalObjectStore)
    runs.put_bytes("runs/job-1/metrics.json", b"{}")
    assert settings.open_objects("bundles").exists("runs/job-1/metrics.json")  # one local root
    assert (tmp_path / "data" / "objects" / "runs" / "job-1" / "metrics.json").exists()

    jobs = settings.open_queue("ocr_jobs")
    assert isinstance(jobs, LocalQueue) and jobs.name == "ocr-jobs"
    jobs.send({"image_id": "i", "job_id": "j"})
    [message] = settings.open_queue("ocr_jobs").receive()
    assert message.json() == {"image_id": "i", "job_id": "j"}
    assert settings.open_queue("coreml_export_jobs").receive() == []

    with pytest.raises(UnknownQueueNameError, match="ocr_jobs"):
        settings.open_queue("ocr-jobs")
    with pytest.raises(UnknownObjectsKindError, match="bundles"):
        settings.open_objects("images")


def test_local_open_store_round_trips_through_the_sqlite_file(tmp_path: Path) -> None:
    settings = resolve_settings(data_dir=tmp_path / "data", environ={})
    image = Image(image_id=str(uuid.uuid4()), width=640, height=480, raw_s3_bucket="raw",
                  raw_s3_key="images/a.png")
    with settings.open_store() as store:
        store.add_image(image)
    assert Path(settings.table_name).exists()
    with settings.open_store() as reopened:  # a fresh connection reads what was written
        assert reopened.get_image(image.image_id) == image


@pytest.mark.aws
def test_stack_settings_reach_moto(aws_env: str, unique_name: str, tmp_path: Path) -> None:
    boto3.client("s3").create_bucket(Bucket=f"{unique_name}-runs")
    queue = create_queue_with_dlq(f"{unique_name}-ocr", 3)
    outputs = {
        **OUTPUTS,
        "runs_bucket_name": f"{unique_name}-runs",
        "ocr_job_queue_url": queue.url,
        "region": "us-east-1",
    }
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    settings = resolve_settings("dev", stack_outputs_file=path, environ=dict(os.environ))
    assert settings.endpoint_url == aws_env
    settings.open_objects("runs").put_bytes("runs/j/x.txt", b"x")
    assert (
        boto3.client("s3")
        .get_object(Bucket=f"{unique_name}-runs", Key="runs/j/x.txt")["Body"]
        .read()
        == b"x"
    )
    settings.open_queue("ocr_jobs").send({"image_id": "i", "job_id": "j"})
    [message] = queue.receive(wait_seconds=2)
    assert message.json() == {"image_id": "i", "job_id": "j"}
