"""``training_job_status`` against a moto server over HTTP: a job's status and log streams, and
a readable error (never an exception) for a job SageMaker does not know."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

import boto3

from receipt_cloud.sagemaker_status import SAGEMAKER_LOG_GROUP, training_job_status


def _create_training_job(endpoint: str, name: str) -> None:
    sagemaker = boto3.client("sagemaker", region_name="us-east-1", endpoint_url=endpoint)
    sagemaker.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={
            "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/layoutlm:latest",
            "TrainingInputMode": "File",
        },
        RoleArn="arn:aws:iam::123456789012:role/sagemaker",
        OutputDataConfig={"S3OutputPath": "s3://runs/output"},
        ResourceConfig={"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )


def test_status_and_log_streams_of_a_known_job(aws_env: str, unique_name: str) -> None:
    _create_training_job(aws_env, unique_name)
    logs = boto3.client("logs", region_name="us-east-1", endpoint_url=aws_env)
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=SAGEMAKER_LOG_GROUP)
    logs.create_log_stream(logGroupName=SAGEMAKER_LOG_GROUP, logStreamName=f"{unique_name}/algo-1")
    logs.create_log_stream(logGroupName=SAGEMAKER_LOG_GROUP, logStreamName="another-job/algo-1")

    status = training_job_status(
        unique_name, SimpleNamespace(region="us-east-1", endpoint_url=aws_env)
    )
    assert "error" not in status
    assert status["status"] in {"InProgress", "Completed", "Failed", "Stopping", "Stopped"}
    assert status["log_group"] == SAGEMAKER_LOG_GROUP
    assert status["log_streams"] == [f"{unique_name}/algo-1"]


def test_an_unknown_job_gives_an_error_entry(aws_env: str, unique_name: str) -> None:
    status = training_job_status(
        unique_name, SimpleNamespace(region="us-east-1", endpoint_url=aws_env)
    )
    assert set(status) == {"error"} and unique_name in status["error"]
