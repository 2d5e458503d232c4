"""No silent local: AWS settings select the AWS backends without ``--env``; a command given local
and AWS settings at once is refused in one line naming them."""

from __future__ import annotations

import argparse

import pytest

from receipt_cloud.settings import (
    MissingSettingError,
    SettingsConflictError,
    add_settings_arguments,
    choose_env,
    settings_from_args,
)

SEED_QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/coreml-export-prod-prod-coreml-export-job-queue"


def _args(*argv: str) -> argparse.Namespace:
    return add_settings_arguments(argparse.ArgumentParser()).parse_args(list(argv))


@pytest.mark.parametrize(
    ("flags", "environ"),
    [
        ({}, {"DYNAMO_TABLE_NAME": "receipts"}),
        ({}, {"COREML_EXPORT_JOB_QUEUE_URL": SEED_QUEUE}),
        ({"coreml_export_job_queue_url": SEED_QUEUE}, {}),
        ({"bundles_uri": "s3://bundles"}, {}),
        ({}, {"RUNS_BUCKET_NAME": "runs"}),
    ],
)
def test_aws_settings_select_aws(flags, environ) -> None:
    assert choose_env(None, flags, environ) == "aws"


def test_nothing_given_is_local_and_explicit_env_wins() -> None:
    assert choose_env(None, {}, {"AWS_REGION": "us-east-1"}) == "local"
    assert choose_env("dev", {}, {"DYNAMO_TABLE_NAME": "t"}) == "dev"


@pytest.mark.parametrize(
    ("explicit", "flags", "environ", "words"),
    [
        ("local", {}, {"DYNAMO_TABLE_NAME": "t"}, ["--env local", "DYNAMO_TABLE_NAME"]),
        (None, {"coreml_export_results_queue_url": "local:///q.sqlite3#r"},
         {"COREML_EXPORT_JOB_QUEUE_URL": SEED_QUEUE},
         ["--coreml-export-results-queue-url", "COREML_EXPORT_JOB_QUEUE_URL"]),
        (None, {"table_name": "/tmp/receipts.sqlite3"}, {"OCR_JOB_QUEUE_URL": "https://sqs.x/1/q"},
         ["--table-name", "OCR_JOB_QUEUE_URL"]),
        ("dev", {"raw_uri": "/tmp/objects"}, {}, ["--raw-uri", "--env dev"]),
    ],
)  # fmt: skip
def test_a_mix_is_refused_naming_both_sides(explicit, flags, environ, words) -> None:
    with pytest.raises(SettingsConflictError) as info:
        choose_env(explicit, flags, environ)
    message = str(info.value)
    assert "\n" not in message and all(word in message for word in words)


def test_receipts_env_local_names_the_variable() -> None:
    with pytest.raises(SettingsConflictError, match=r"RECEIPTS_ENV=local \(local\)"):
        settings_from_args(_args(), environ={"RECEIPTS_ENV": "local", "DYNAMO_TABLE_NAME": "t"})


def test_the_seeds_export_worker_settings_resolve_to_aws_and_name_what_is_missing() -> None:
    environ = {"DYNAMO_TABLE_NAME": "receipts", "COREML_EXPORT_JOB_QUEUE_URL": SEED_QUEUE,
               "COREML_EXPORT_RESULTS_QUEUE_URL": SEED_QUEUE.replace("job", "results"),
               "PATH": "/nonexistent"}  # no pulumi is ever run for env aws
    settings = settings_from_args(_args(), environ=environ)
    assert (settings.env, settings.store_backend, settings.table_name) == (
        "aws", "dynamodb", "receipts")
    assert settings.queue_url("coreml_export_jobs") == SEED_QUEUE
    with pytest.raises(MissingSettingError) as info:
        settings.require("table_name", "bundles_uri", "runs_uri")
    text = str(info.value)
    assert "BUNDLES_BUCKET_NAME" in text and "RUNS_BUCKET_NAME" in text
    assert "DYNAMO_TABLE_NAME" not in text
    with pytest.raises(MissingSettingError, match="OCR_JOB_QUEUE_URL"):
        settings.open_queue("ocr_jobs")
