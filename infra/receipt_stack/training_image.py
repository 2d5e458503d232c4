"""The training image: an ECR repository, a CodeBuild project that builds
``infra/sagemaker_training/Dockerfile`` and pushes ``<repo>:src-<content hash>``, and the
trigger that runs it whenever the sources change.

``pulumi up`` zips exactly what the Dockerfile copies (``sources.TRAINING_IMAGE_SOURCES``) to
``codebuild-sources/training-image-<tag>.zip`` in the runs bucket. The key changes only with the
content, so an unchanged tree uploads nothing; a new key emits an S3 "Object Created" event that
an EventBridge rule turns into a CodeBuild build. The project is updated (new source location,
new ``IMAGE_TAG``) before the upload, and the buildspec skips a tag that already exists (the
repository's tags are immutable). Training jobs name ``image_uri`` — never ``:latest``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from receipt_stack import iam
from receipt_stack._opts import child
from receipt_stack.buckets import BUILD_SOURCES_PREFIX, SecureBucket
from receipt_stack.config import StackConfig
from receipt_stack.events import build_source_uploaded_pattern
from receipt_stack.sources import (
    DOCKERFILE,
    TRAINING_IMAGE_SOURCES,
    collect,
    content_hash,
    write_zip,
)

BUILDSPEC = f"""version: 0.2
phases:
  pre_build:
    commands:
      - aws ecr get-login-password --region "$AWS_DEFAULT_REGION" | docker login --username AWS --password-stdin "${{IMAGE_REPO_URI%%/*}}"
  build:
    commands:
      - |
        if aws ecr describe-images --repository-name "$IMAGE_REPO_NAME" --image-ids imageTag="$IMAGE_TAG" >/dev/null 2>&1; then
          echo "$IMAGE_REPO_URI:$IMAGE_TAG already exists; nothing to build"
        else
          docker build -f {DOCKERFILE} -t "$IMAGE_REPO_URI:$IMAGE_TAG" .
          docker push "$IMAGE_REPO_URI:$IMAGE_TAG"
        fi
"""  # noqa: E501 — shell lines read better unbroken


def _ecr_lifecycle(keep: int) -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"keep the newest {keep} training images",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": keep,
                    },
                    "action": {"type": "expire"},
                }
            ]
        }
    )


class TrainingImage(pulumi.ComponentResource):
    """ECR + CodeBuild + trigger; ``image_uri`` is ``<repository url>:<tag>``."""

    def __init__(
        self,
        name: str,
        config: StackConfig,
        *,
        runs: SecureBucket,
        runs_events: pulumi.Resource,
        repo_root: Path,
        build_dir: Path,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("receipt:stack:TrainingImage", name, None, opts)
        files = collect(repo_root, TRAINING_IMAGE_SOURCES)
        self.tag = "src-" + content_hash(files)[:16]
        archive = write_zip(files, build_dir / f"training-image-{self.tag}.zip")
        self.source_key = f"{BUILD_SOURCES_PREFIX}training-image-{self.tag}.zip"

        self.repository = aws.ecr.Repository(
            name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            force_delete=not config.protect,
            opts=child(self, protect=config.protect),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=self.repository.name,
            policy=_ecr_lifecycle(config.ecr_keep_images),
            opts=child(self),
        )
        self.image_uri = pulumi.Output.concat(self.repository.repository_url, ":", self.tag)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-build-logs", retention_in_days=config.log_retention_days, opts=child(self)
        )
        self.build_role = iam.ServiceRole(
            f"{name}-build",
            "codebuild.amazonaws.com",
            {
                "repo": self.repository.arn,
                "runs": runs.arn,
                "logs": log_group.arn,
            },
            lambda v: [
                iam.statement(iam.ECR_PUSH, [v["repo"]]),
                iam.statement(["ecr:GetAuthorizationToken"], ["*"]),
                # CodeBuild's S3 source reads the archive (and its version) and the bucket ACL.
                iam.object_statement(
                    v["runs"], ("s3:GetObject", "s3:GetObjectVersion"), BUILD_SOURCES_PREFIX
                ),
                iam.statement(["s3:GetBucketAcl", "s3:GetBucketLocation"], [v["runs"]]),
                iam.log_statement(v["logs"]),
            ],
            opts=child(self),
        )
        self.project = aws.codebuild.Project(
            f"{name}-build",
            description="Builds the SageMaker training image, tagged by its source hash",
            service_role=self.build_role.arn,
            build_timeout=120,
            artifacts={"type": "NO_ARTIFACTS"},
            source={
                "type": "S3",
                "location": pulumi.Output.concat(runs.name, "/", self.source_key),
                "buildspec": BUILDSPEC,
            },
            environment={
                "type": "LINUX_CONTAINER",
                "compute_type": config.codebuild_compute_type,
                "image": "aws/codebuild/standard:7.0",
                "privileged_mode": True,
                "environment_variables": [
                    {"name": "IMAGE_REPO_URI", "value": self.repository.repository_url},
                    {"name": "IMAGE_REPO_NAME", "value": self.repository.name},
                    {"name": "IMAGE_TAG", "value": self.tag},
                ],
            },
            logs_config={"cloudwatch_logs": {"group_name": log_group.name}},
            opts=child(self, depends_on=[self.build_role]),
        )
        target = self._trigger(name, runs)
        aws.s3.BucketObjectv2(
            f"{name}-source",
            bucket=runs.bucket.id,
            key=self.source_key,
            source=pulumi.FileAsset(str(archive)),
            # Uploaded last: the project, the rule and the bucket's events must see it.
            opts=child(self, depends_on=[self.project, target, runs_events]),
        )
        self.register_outputs({"image_uri": self.image_uri, "project": self.project.name})

    def _trigger(self, name: str, runs: SecureBucket) -> Any:
        rule = aws.cloudwatch.EventRule(
            f"{name}-sources-changed",
            description="New training-image sources: start the image build",
            event_pattern=runs.name.apply(
                lambda bucket: json.dumps(build_source_uploaded_pattern(bucket))
            ),
            opts=child(self),
        )
        role = iam.ServiceRole(
            f"{name}-trigger",
            "events.amazonaws.com",
            {"project": self.project.arn},
            lambda v: [iam.statement(["codebuild:StartBuild"], [v["project"]])],
            opts=child(self),
        )
        return aws.cloudwatch.EventTarget(
            f"{name}-start-build",
            rule=rule.name,
            arn=self.project.arn,
            role_arn=role.arn,
            opts=child(self),
        )
