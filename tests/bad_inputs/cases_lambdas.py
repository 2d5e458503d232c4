"""Corpus rows: start-training payloads (what ``aws lambda invoke`` sends), refused before
anything is written or any AWS call is made; the store must be unchanged."""

from __future__ import annotations

from typing import Any

from bad_input_harness import Case, Workspace

from receipt_cloud.training_launch import LaunchSettings, launch_training
from receipt_dynamo import Job

G = "lambdas"
SETTINGS = LaunchSettings(
    table_name="receipts-corpus",
    runs_bucket="runs-corpus",
    image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/train:src-0123456789abcdef",
    role_arn="arn:aws:iam::123456789012:role/sagemaker",
    region="us-east-1",
)


def start(payload: Any) -> Any:
    def command(ws: Workspace) -> object:
        store = ws.open_store()
        try:
            return launch_training(payload, SETTINGS, store=store)
        finally:
            store.close()

    return command


def existing_job(ws: Workspace) -> None:
    store = ws.open_store()
    try:
        store.add_job(Job(job_id="0f0e0d0c-0b0a-4908-8706-050403020100", name="layoutlm-dup"))
    finally:
        store.close()


def refused(name: str, payload: Any, message: str, **kwargs: Any) -> Case:
    return Case(name=f"start_training_{name}", group=G, command=start(payload), exit_code=2,
                message=message, **kwargs)  # fmt: skip


CASES = [
    refused("name_outside_prefix", {"job_name": "sroie-1"},
            r"error: job_name 'sroie-1' must start with 'layoutlm-': auto-export only exports .*"),
    refused("name_not_a_sagemaker_name", {"job_name": "layoutlm-a_b"},
            r"error: job_name 'layoutlm-a_b' is not a valid SageMaker training job name: .*"),
    refused("name_missing", {"use_spot": True},
            r"error: job_name is required \(a string like 'layoutlm-\.\.\.'\), got None"),
    refused("unknown_hyperparameter", {"job_name": "layoutlm-a", "hyperparameters": {"epoch": 3}},
            r"error: unknown hyperparameter\(s\) epoch; allowed: .*batch_size.*"),
    refused("hyperparameter_not_a_number",
            {"job_name": "layoutlm-a", "hyperparameters": {"learning_rate": "fast"}},
            r"error: hyperparameter learning_rate must be a number in \[1e-12, 1\], got 'fast'"),
    refused("epochs_fraction", {"job_name": "layoutlm-a", "hyperparameters": {"epochs": 2.5}},
            r"error: hyperparameter epochs must be an integer in \[1, 1000\], got 2\.5"),
    refused("merge_preset_unknown", {"job_name": "layoutlm-a", "merge_preset": "all"},
            r"error: merge_preset 'all' is unknown; choose one of none, amounts, .*"),
    refused("init_from_foreign_bucket", {"job_name": "layoutlm-a", "init_from": "s3://x/bert"},
            r"error: init_from must be an s3:// prefix inside the runs bucket .*"),
    refused("unknown_payload_key", {"job_name": "layoutlm-a", "epochs": 3},
            r"error: unknown payload key\(s\) epochs; allowed: .*"),
    refused("payload_not_an_object", ["layoutlm-a"],
            r"error: the payload must be a JSON object, got list"),
    refused("use_spot_not_boolean", {"job_name": "layoutlm-a", "use_spot": "yes"},
            r"error: use_spot must be true or false, got 'yes'"),
    refused("runtime_over_sagemaker_limit", {"job_name": "layoutlm-a", "max_runtime_hours": 1e6},
            r"error: max_runtime_hours 1e\+06 exceeds SageMaker's limit of 672 hours"),
    refused("duplicate_name", {"job_name": "layoutlm-dup"},
            r"error: a Job named 'layoutlm-dup' already exists \(status PENDING\); .*",
            setup=existing_job),
]  # fmt: skip
