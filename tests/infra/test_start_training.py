"""``receipt_cloud.handlers.start_training`` against a moto server over HTTP: the
CreateTrainingJob request read back with DescribeTrainingJob, the PENDING Job in the DynamoDB
table, and every refusal leaving neither a Job nor a training job behind."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from receipt_cloud.handlers.start_training import handler
from receipt_cloud.training_launch import (
    CHECKPOINT_LOCAL_PATH,
    DEFAULT_HYPERPARAMETERS,
    LaunchSettings,
    TrainingLaunchError,
    launch_training,
)
from receipt_dynamo import JobStatus, create_table, open_store
from receipt_dynamo.errors import EntityNotFoundError

pytestmark = pytest.mark.aws

TAG = "src-0123456789abcdef"
ROLE = "arn:aws:iam::123456789012:role/receipt-labeler-dev-sagemaker"


@pytest.fixture
def stack_env(aws_env: str, unique_name: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """What the stack gives the function: a table, a runs bucket, a built image, a role."""
    create_table(boto3.client("dynamodb"), unique_name)
    boto3.client("s3").create_bucket(Bucket=unique_name)
    ecr = boto3.client("ecr")
    repository = ecr.create_repository(repositoryName=unique_name)["repository"]
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "digest": "sha256:" + "0" * 64,
            "size": 1,
            "mediaType": "application/vnd.docker.container.image.v1+json",
        },
        "layers": [],
    }
    ecr.put_image(repositoryName=unique_name, imageManifest=json.dumps(manifest), imageTag=TAG)
    env = {
        "DYNAMO_TABLE_NAME": unique_name,
        "RUNS_BUCKET_NAME": unique_name,
        "TRAINING_IMAGE_URI": f"{repository['repositoryUri']}:{TAG}",
        "SAGEMAKER_ROLE_ARN": ROLE,
        "TRAINING_INSTANCE_TYPE": "ml.g5.xlarge",
        "TRAINING_MAX_RUNTIME_HOURS": "12",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def _described(name: str) -> dict[str, Any]:
    return boto3.client("sagemaker").describe_training_job(TrainingJobName=name)


def _tags(arn: str) -> dict[str, str]:
    tags = boto3.client("sagemaker").list_tags(ResourceArn=arn)["Tags"]
    return {t["Key"]: t["Value"] for t in tags}


def _store(env: dict[str, str], endpoint: str) -> Any:
    return open_store("dynamodb", table_name=env["DYNAMO_TABLE_NAME"], endpoint_url=endpoint)


def test_spot_job_request_and_pending_job(stack_env: dict[str, str], aws_env: str) -> None:
    name = "layoutlm-spot-1"
    payload = {
        "job_name": name,
        "use_spot": True,
        "hyperparameters": {"epochs": 3, "merge_amounts": True},
        "merge_preset": "sroie",
        "skip_coreml_export": True,
        "max_runtime_hours": 2,
    }
    result = handler(payload, None)
    assert result["status"] == "started" and result["use_spot"] is True
    job = _described(name)
    assert job["TrainingJobArn"] == result["training_job_arn"]
    assert job["AlgorithmSpecification"]["TrainingImage"] == stack_env["TRAINING_IMAGE_URI"]
    assert job["AlgorithmSpecification"]["TrainingImage"].endswith(f":{TAG}")
    assert job["RoleArn"] == ROLE
    assert job["EnableManagedSpotTraining"] is True
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200, "MaxWaitTimeInSeconds": 14400}
    bucket = stack_env["RUNS_BUCKET_NAME"]
    assert job["CheckpointConfig"] == {
        "S3Uri": f"s3://{bucket}/sagemaker-checkpoints/{name}/",
        "LocalPath": CHECKPOINT_LOCAL_PATH,
    }
    assert job["OutputDataConfig"]["S3OutputPath"].startswith(f"s3://{bucket}/")
    assert job["ResourceConfig"]["InstanceType"] == "ml.g5.xlarge"
    hps = job["HyperParameters"]
    assert all(isinstance(v, str) for v in hps.values())
    assert hps == {"epochs": "3", "batch_size": "8", "learning_rate": "5e-05",
                   "warmup_ratio": "0.1", "early_stopping_patience": "2",
                   "merge_amounts": "true", "merge_preset": "sroie"}  # fmt: skip
    assert _tags(job["TrainingJobArn"]) == {"skip-coreml-export": "true"}

    stored = _store(stack_env, aws_env).get_job_by_name(name)
    assert stored.job_id == result["job_id"]
    assert stored.status is JobStatus.PENDING
    assert stored.tags == {"skip-coreml-export": "true"}
    assert stored.job_config["hyperparameters"] == hps
    assert stored.job_config["sagemaker"]["use_spot"] is True
    assert stored.job_config["sagemaker"]["image"] == stack_env["TRAINING_IMAGE_URI"]


def test_seed_payload_on_demand_uses_the_defaults(stack_env: dict[str, str], aws_env: str) -> None:
    name = "layoutlm-ondemand-1"
    handler({"job_name": name, "use_spot": False, "hyperparameters": {}}, None)
    job = _described(name)
    assert job["EnableManagedSpotTraining"] is False
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 12 * 3600}  # no MaxWaitTime
    assert job["CheckpointConfig"]["S3Uri"].endswith(f"/sagemaker-checkpoints/{name}/")
    expected = {k: (str(v).lower() if isinstance(v, bool) else str(v))
                for k, v in DEFAULT_HYPERPARAMETERS.items()}  # fmt: skip
    assert job["HyperParameters"] == expected
    assert "skip-coreml-export" not in _tags(job["TrainingJobArn"])
    assert _store(stack_env, aws_env).get_job_by_name(name).tags == {}


def test_init_from_becomes_the_init_channel(stack_env: dict[str, str]) -> None:
    source = f"s3://{stack_env['RUNS_BUCKET_NAME']}/init/minilm"
    handler({"job_name": "layoutlm-warm-1", "use_spot": False, "init_from": source}, None)
    job = _described("layoutlm-warm-1")
    (channel,) = job["InputDataConfig"]
    assert channel["ChannelName"] == "init"
    assert channel["DataSource"]["S3DataSource"]["S3Uri"] == source + "/"
    assert job["HyperParameters"]["init_from"] == "/opt/ml/input/data/init"


REFUSALS = [
    ({"job_name": "sroie-1"}, "must start with 'layoutlm-'"),
    ({"job_name": "LayoutLM-1"}, "must start with 'layoutlm-'"),
    ({"job_name": "layoutlm-bad_name"}, "not a valid SageMaker"),
    ({"job_name": "layoutlm-" + "x" * 60}, "is not allowed: use 1-63 letters"),
    ({"job_name": "layoutlm-r\n"}, "is not allowed: use 1-63 letters"),
    ({"job_name": "layoutlm-r", "hyperparameters": {"model_size": "gigantic"}}, "base, tiny"),
    ({"job_name": "layoutlm-r", "hyperparameters": {"warmup_ratio": 5}}, r"in \[0, 1\)"),
    ({"job_name": "layoutlm-r", "hyperparameters": {"dev_ratio": 1.0}}, r"in \[0, 1\)"),
    ({"job_name": "layoutlm-r", "hyperparameters": {"epochs": 1e300}}, "epochs must be"),
    ({"job_name": "layoutlm-r", "init_from": "s3://runs/../other/x"}, "runs bucket"),
    ({}, "job_name is required"),
    ({"job_name": "layoutlm-r", "hyperparameters": {"epochz": 3}}, "unknown hyperparameter"),
    ({"job_name": "layoutlm-r", "hyperparameters": {"merge_preset": "sroie"}}, "top level"),
    ({"job_name": "layoutlm-r", "hyperparameters": {"epochs": "ten"}}, "epochs must be"),
    ({"job_name": "layoutlm-r", "hyperparameters": {"epochs": 2.5}}, "epochs must be an integer"),
    ({"job_name": "layoutlm-r", "hyperparameters": {"batch_size": 0}}, r"in \[1, 4096\]"),
    ({"job_name": "layoutlm-r", "hyperparameters": {"learning_rate": True}}, "learning_rate"),
    ({"job_name": "layoutlm-r", "hyperparameters": {"merge_amounts": "maybe"}}, "true or false"),
    ({"job_name": "layoutlm-r", "hyperparameters": ["epochs"]}, "JSON object"),
    ({"job_name": "layoutlm-r", "use_spot": "yes"}, "use_spot must be"),
    ({"job_name": "layoutlm-r", "merge_preset": "everything"}, "merge_preset"),
    ({"job_name": "layoutlm-r", "init_from": "s3://someone-elses-bucket/x"}, "runs bucket"),
    ({"job_name": "layoutlm-r", "instance_type": "g5.xlarge"}, "instance_type"),
    ({"job_name": "layoutlm-r", "instance_count": 0}, "instance_count"),
    ({"job_name": "layoutlm-r", "max_runtime_hours": -1}, "max_runtime_hours"),
    ({"job_name": "layoutlm-r", "tags": {"a": 1}}, "tags must be"),
    ({"job_name": "layoutlm-r", "gpus": 4}, "unknown payload key"),
]


@pytest.mark.parametrize(("payload", "message"), REFUSALS)
def test_refusals_leave_nothing_behind(
    stack_env: dict[str, str], aws_env: str, payload: dict[str, Any], message: str
) -> None:
    with pytest.raises(TrainingLaunchError, match=message) as refused:
        handler(payload, None)
    assert "\n" not in str(refused.value)
    assert _store(stack_env, aws_env).list_jobs() == []
    assert boto3.client("sagemaker").list_training_jobs(NameContains="layoutlm-r")[
        "TrainingJobSummaries"] == []  # fmt: skip


def test_duplicate_name_is_refused(stack_env: dict[str, str], aws_env: str) -> None:
    handler({"job_name": "layoutlm-dup-1", "use_spot": False}, None)
    with pytest.raises(TrainingLaunchError, match="already exists"):
        handler({"job_name": "layoutlm-dup-1", "use_spot": True}, None)
    jobs = _store(stack_env, aws_env).list_jobs()
    assert [j.name for j in jobs] == ["layoutlm-dup-1"]
    assert _described("layoutlm-dup-1")["EnableManagedSpotTraining"] is False  # first one kept


def test_a_name_sagemaker_already_used_is_refused(stack_env: dict[str, str], aws_env: str) -> None:
    """A training job started outside this stack (no Job record) still owns its name."""
    boto3.client("sagemaker").create_training_job(
        TrainingJobName="layoutlm-elsewhere-1",
        AlgorithmSpecification={"TrainingImage": stack_env["TRAINING_IMAGE_URI"],
                                "TrainingInputMode": "File"},
        RoleArn=ROLE,
        OutputDataConfig={"S3OutputPath": f"s3://{stack_env['RUNS_BUCKET_NAME']}/x/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
    )  # fmt: skip
    with pytest.raises(TrainingLaunchError, match="SageMaker already has"):
        handler({"job_name": "layoutlm-elsewhere-1"}, None)
    with pytest.raises(EntityNotFoundError):
        _store(stack_env, aws_env).get_job_by_name("layoutlm-elsewhere-1")


def test_an_image_not_built_yet_is_refused(
    stack_env: dict[str, str], aws_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    unbuilt = stack_env["TRAINING_IMAGE_URI"].replace(TAG, "src-ffffffffffffffff")
    monkeypatch.setenv("TRAINING_IMAGE_URI", unbuilt)
    with pytest.raises(TrainingLaunchError, match="not built yet"):
        handler({"job_name": "layoutlm-early-1"}, None)
    assert _store(stack_env, aws_env).list_jobs() == []


def test_latest_is_refused(stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    latest = stack_env["TRAINING_IMAGE_URI"].replace(TAG, "latest")
    monkeypatch.setenv("TRAINING_IMAGE_URI", latest)
    with pytest.raises(TrainingLaunchError, match="latest"):
        handler({"job_name": "layoutlm-latest-1"}, None)


def test_missing_stack_variables_are_named(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "DYNAMO_TABLE_NAME",
        "RUNS_BUCKET_NAME",
        "TRAINING_IMAGE_URI",
        "SAGEMAKER_ROLE_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(Exception, match="TRAINING_IMAGE_URI") as missing:
        handler({"job_name": "layoutlm-x"}, None)
    assert "SAGEMAKER_ROLE_ARN" in str(missing.value) and "DYNAMO_TABLE_NAME" in str(missing.value)


class _RefusingSageMaker(BaseHTTPRequestHandler):
    """A SageMaker endpoint on 127.0.0.1 that knows no job and refuses to create one, as AWS
    does when the account's quota for the instance type is 0."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("X-Amz-Target", "").endswith("DescribeTrainingJob"):
            body = {"__type": "ValidationException", "message": "Requested resource not found."}
        else:
            body = {"__type": "ResourceLimitExceeded", "message": "The account-level service "
                    "limit 'ml.g5.xlarge for spot training job usage' is 0 Instances"}  # fmt: skip
        data = json.dumps(body).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_sagemaker() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RefusingSageMaker)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_request_sagemaker_refuses_leaves_no_job(
    stack_env: dict[str, str], aws_env: str, refusing_sagemaker: str
) -> None:
    settings = LaunchSettings.from_environ(os.environ)
    sagemaker = boto3.client("sagemaker", endpoint_url=refusing_sagemaker)
    with pytest.raises(TrainingLaunchError, match="service limit") as refused:
        launch_training({"job_name": "layoutlm-quota-1", "use_spot": True}, settings,
                        sagemaker=sagemaker)  # fmt: skip
    assert "no Job was recorded" in str(refused.value)
    assert _store(stack_env, aws_env).list_jobs() == []


def test_runtime_beyond_sagemakers_limit_is_refused(stack_env: dict[str, str]) -> None:
    with pytest.raises(TrainingLaunchError, match="limit of 672 hours"):
        handler({"job_name": "layoutlm-long-1", "max_runtime_hours": 700}, None)
