"""Run ``receipt_stack.build_stack`` under ``pulumi.runtime.set_mocks`` and record every resource.

No Pulumi engine and no AWS: each resource's inputs are what the program declared (resolved),
plus the few computed attributes a real provider would return (ARN, bucket name, queue URL,
repository URL), so references between resources can be followed.
"""

from __future__ import annotations

import dataclasses
import json
import zipfile
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime.mocks import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await
from receipt_stack.config import StackConfig
from receipt_stack.stack import ReceiptStack, build_stack

ACCOUNT = "123456789012"
REGION = "us-east-1"

_SERVICES = {"dynamodb": "dynamodb", "sqs": "sqs", "lambda": "lambda", "iam": "iam", "ecr": "ecr",
             "codebuild": "codebuild", "cloudwatch": "events"}  # fmt: skip


@dataclasses.dataclass
class Declared:
    """One resource as the program declared it."""

    typ: str
    name: str
    state: dict[str, Any]


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[Declared] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        module = args.typ.split(":")[1].split("/")[0]
        physical = state.get("name") or f"{args.name}-a1b2c3"
        if args.typ == "aws:s3/bucket:Bucket":
            state["bucket"] = physical
            arn = f"arn:aws:s3:::{physical}"
        elif args.typ == "aws:sqs/queue:Queue":
            state["url"] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{physical}"
            arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{physical}"
        elif args.typ == "aws:ecr/repository:Repository":
            state["repositoryUrl"] = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{physical}"
            arn = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{physical}"
        elif args.typ == "aws:cloudwatch/logGroup:LogGroup":
            arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{physical}"
        elif args.typ == "aws:dynamodb/table:Table":
            arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{physical}"
        elif args.typ == "aws:iam/role:Role":
            arn = f"arn:aws:iam::{ACCOUNT}:role/{physical}"
        else:
            arn = f"arn:aws:{_SERVICES.get(module, module)}:{REGION}:{ACCOUNT}:{physical}"
        state.setdefault("name", physical)
        state.setdefault("arn", arn)  # an EventTarget's ``arn`` is an input: keep it
        self.resources.append(Declared(args.typ, args.name, state))
        return f"{physical}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/ci", "userId": "ci",
                    "id": ACCOUNT}  # fmt: skip
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws",
                    "reverseDnsPrefix": "com.amazonaws"}  # fmt: skip
        raise AssertionError(f"the program made an unexpected provider call {args.token}")


@dataclasses.dataclass
class Deployment:
    """What one mocked run declared."""

    stack: ReceiptStack
    resources: list[Declared]
    outputs: dict[str, Any]
    environments: dict[str, dict[str, str]]

    def of_type(self, typ: str) -> list[Declared]:
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str, name_part: str) -> Declared:
        found = [r for r in self.of_type(typ) if name_part in r.name]
        assert len(found) == 1, f"expected one {typ} named *{name_part}*, got {found}"
        return found[0]

    def arns(self) -> set[str]:
        return {r.state["arn"] for r in self.resources if "arn" in r.state}


def dummy_lambda_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("placeholder.py", "")
    return path


def load_stack_file(path: Path) -> None:
    """Put a ``Pulumi.<stack>.yaml``'s config where ``pulumi.Config`` reads it, as the engine
    would (objects as JSON strings)."""
    config = yaml.safe_load(path.read_text())["config"]
    pulumi.runtime.set_all_config(
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    )


def deploy(config: StackConfig | str, tmp: Path) -> Deployment:
    """Run the program under fresh mocks for ``config``, or for stack ``config`` with
    ``StackConfig.from_pulumi()`` reading the runtime config (see ``load_stack_file``)."""
    mocks = RecordingMocks()
    stack_name = config if isinstance(config, str) else config.stack
    pulumi.runtime.set_mocks(mocks, project="receipt-labeler", stack=stack_name, preview=False)
    result: dict[str, Any] = {}

    def program() -> None:
        chosen = StackConfig.from_pulumi() if isinstance(config, str) else config
        result["config"] = chosen
        code = dummy_lambda_zip(tmp / "code.zip")
        stack = build_stack(chosen, build_dir=tmp, lambda_zip=code)
        values = pulumi.Output.from_input(
            {"outputs": stack.outputs, "envs": stack.functions.environments}
        )
        result["stack"] = stack
        result["values"] = _sync_await(values.future())

    _sync_await(run_pulumi_func(program))
    return Deployment(
        stack=result["stack"],
        resources=mocks.resources,
        outputs=result["values"]["outputs"],
        environments=result["values"]["envs"],
    )


def policy_documents(deployment: Deployment) -> list[tuple[str, dict[str, Any]]]:
    """Every inline role policy, queue policy and bucket policy, parsed."""
    docs = []
    for typ in ("aws:iam/rolePolicy:RolePolicy", "aws:sqs/queuePolicy:QueuePolicy",
                "aws:s3/bucketPolicy:BucketPolicy"):  # fmt: skip
        for resource in deployment.of_type(typ):
            docs.append((resource.name, json.loads(resource.state["policy"])))
    return docs
