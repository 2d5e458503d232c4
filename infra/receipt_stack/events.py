"""EventBridge patterns the stack subscribes to."""

from __future__ import annotations

from typing import Any

from receipt_cloud.training_launch import JOB_NAME_PREFIX
from receipt_stack.buckets import BUILD_SOURCES_PREFIX


def training_completed_pattern() -> dict[str, Any]:
    """A SageMaker training job named ``layoutlm-*`` reached Completed (auto-export)."""
    return {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Training Job State Change"],
        "detail": {
            "TrainingJobStatus": ["Completed"],
            "TrainingJobName": [{"prefix": JOB_NAME_PREFIX}],
        },
    }


def build_source_uploaded_pattern(bucket_name: str) -> dict[str, Any]:
    """A new training-image source archive in the runs bucket (starts the image build)."""
    return {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [bucket_name]},
            "object": {"key": [{"prefix": BUILD_SOURCES_PREFIX}]},
        },
    }
