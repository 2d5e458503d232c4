"""The three buckets: raw images, training runs, model bundles.

All block public access, encrypt at rest, refuse plain HTTP and enforce bucket-owner object
ownership. Bundles are versioned. Lifecycle rules exist only on the runs bucket and only on
scratch prefixes (SageMaker's checkpoint sync and the image-build sources): a released bundle
(``bundles/<job>/<export_id>/``), the active pointer (``bundles/active.json``) and a training
run's ``runs/<job>/`` (``best/`` included) are never expired.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from receipt_cloud.training_launch import CHECKPOINT_PREFIX
from receipt_stack._opts import child
from receipt_stack.config import StackConfig

BUILD_SOURCES_PREFIX = "codebuild-sources/"
"""Runs-bucket prefix for training-image source archives (the CodeBuild trigger watches it)."""
PROTECTED_PREFIXES = ("bundles/", "runs/")
"""Key prefixes no lifecycle rule may cover: bundles + active pointer, and every run (best/)."""


def lifecycle_rules(config: StackConfig) -> list[dict[str, Any]]:
    """The runs bucket's rules; each is scoped to one scratch prefix."""
    return [
        {
            "id": "expire-sagemaker-checkpoint-sync",
            "status": "Enabled",
            "filter": {"prefix": CHECKPOINT_PREFIX},
            "expiration": {"days": config.checkpoint_expiration_days},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 2},
        },
        {
            "id": "expire-image-build-sources",
            "status": "Enabled",
            "filter": {"prefix": BUILD_SOURCES_PREFIX},
            "expiration": {"days": config.build_source_expiration_days},
        },
    ]


def _deny_insecure_transport(bucket_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


class SecureBucket(pulumi.ComponentResource):
    """A private, encrypted bucket."""

    def __init__(
        self,
        name: str,
        config: StackConfig,
        *,
        versioned: bool = False,
        rules: list[dict[str, Any]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("receipt:stack:Bucket", name, None, opts)
        self.bucket = aws.s3.Bucket(
            name, force_destroy=not config.protect, opts=child(self, protect=config.protect)
        )
        bucket_id = self.bucket.id
        block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child(self),
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket_id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child(self),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket_id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"},
                    "bucket_key_enabled": True,
                }
            ],
            opts=child(self),
        )
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=bucket_id,
            policy=self.bucket.arn.apply(_deny_insecure_transport),
            opts=child(self, depends_on=[block]),
        )
        if versioned:
            aws.s3.BucketVersioning(
                f"{name}-versioning",
                bucket=bucket_id,
                versioning_configuration={"status": "Enabled"},
                opts=child(self),
            )
        if rules:
            aws.s3.BucketLifecycleConfiguration(
                f"{name}-lifecycle", bucket=bucket_id, rules=rules, opts=child(self)
            )
        self.name = self.bucket.bucket
        self.arn = self.bucket.arn
        self.register_outputs({"name": self.name, "arn": self.arn})


class Buckets(pulumi.ComponentResource):
    """Raw images, training runs (EventBridge notifications on, for the image build) and
    bundles (versioned)."""

    def __init__(self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None):
        super().__init__("receipt:stack:Buckets", name, None, opts)
        self.raw = SecureBucket(f"{name}-raw", config, opts=child(self))
        self.runs = SecureBucket(
            f"{name}-runs", config, rules=lifecycle_rules(config), opts=child(self)
        )
        self.bundles = SecureBucket(f"{name}-bundles", config, versioned=True, opts=child(self))
        self.runs_to_eventbridge = aws.s3.BucketNotification(
            f"{name}-runs-eventbridge",
            bucket=self.runs.bucket.id,
            eventbridge=True,
            opts=child(self),
        )
        self.register_outputs(
            {"raw": self.raw.name, "runs": self.runs.name, "bundles": self.bundles.name}
        )
