"""Which store and runs bucket the SageMaker entrypoint writes to (``backend_settings``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ENTRYPOINT = Path(__file__).resolve().parents[2] / "infra" / "sagemaker_training" / "train.py"


@pytest.fixture(scope="module")
def entrypoint() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sagemaker_train_entrypoint", ENTRYPOINT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DEPLOYED = {
    "DYNAMO_TABLE_NAME": "receipts-dev",
    "RUNS_BUCKET_NAME": "runs-dev",
    "AWS_REGION": "eu-west-1",
}


def test_no_env_with_a_table_uses_the_deployed_store(entrypoint, tmp_path: Path) -> None:
    """Inside SageMaker nobody sets ``env``: the job must still write the deployed Job records."""
    environ = {**DEPLOYED, "RECEIPTS_HOME": str(tmp_path)}
    hps = {"epochs": "1"}
    settings = entrypoint.backend_settings(hps, environ)
    assert settings.store_backend == "dynamodb"
    assert settings.table_name == "receipts-dev"
    assert settings.runs_uri == "s3://runs-dev"
    assert settings.region == "eu-west-1"
    assert hps == {"epochs": "1"}  # only its own keys are consumed


def test_hyperparameters_override_the_variables(entrypoint) -> None:
    hps = {"table_name": "other-table", "runs_uri": "s3://other-runs/prefix", "lr": "1"}
    settings = entrypoint.backend_settings(hps, DEPLOYED)
    assert (settings.table_name, settings.runs_uri) == ("other-table", "s3://other-runs/prefix")
    assert hps == {"lr": "1"}


def test_no_env_and_no_table_is_local(entrypoint, tmp_path: Path) -> None:
    settings = entrypoint.backend_settings({}, {"RECEIPTS_HOME": str(tmp_path)})
    assert settings.store_backend == "sqlite"
    assert Path(settings.table_name) == tmp_path / "receipts.sqlite3"


def test_explicit_local_env_wins_over_the_table(entrypoint, tmp_path: Path) -> None:
    hps = {"env": "local", "data_dir": str(tmp_path)}
    settings = entrypoint.backend_settings(hps, {**DEPLOYED, "RECEIPTS_ENV": "dev"})
    assert settings.store_backend == "sqlite" and settings.table_name.startswith(str(tmp_path))


def test_a_stack_env_without_a_runs_bucket_says_what_is_missing(entrypoint) -> None:
    with pytest.raises(SystemExit, match="runs bucket: hyperparameter runs_uri or RUNS_BUCKET"):
        entrypoint.backend_settings({}, {"RECEIPTS_ENV": "dev", "DYNAMO_TABLE_NAME": "t"})


@pytest.mark.aws
def test_deployed_backends_open_the_table_and_bucket(entrypoint, aws_env, unique_name) -> None:
    import os
    import uuid

    import boto3

    from receipt_dynamo import Job, create_table

    create_table(boto3.client("dynamodb"), unique_name)
    boto3.client("s3").create_bucket(Bucket=unique_name)
    environ = {**os.environ, "DYNAMO_TABLE_NAME": unique_name, "RUNS_BUCKET_NAME": unique_name}
    store, objects = entrypoint.open_backends({}, environ)
    job_id = str(uuid.uuid4())
    store.add_job(Job(job_id=job_id, name="layoutlm-sm", job_config={}))
    assert store.get_job_by_name("layoutlm-sm").job_id == job_id
    objects.put_bytes("runs/layoutlm-sm/run.json", b"{}")
    listed = boto3.client("s3").list_objects_v2(Bucket=unique_name)["Contents"]
    assert [o["Key"] for o in listed] == ["runs/layoutlm-sm/run.json"]
