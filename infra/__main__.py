"""Pulumi entry point: ``cd infra && pulumi up --stack dev`` (see docs/deploy.md)."""

import sys
from pathlib import Path

import pulumi

# The program imports receipt_cloud/receipt_dynamo from this checkout even without an install.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from receipt_stack.config import StackConfig
from receipt_stack.stack import build_stack

stack = build_stack(StackConfig.from_pulumi())
for name, value in stack.outputs.items():
    pulumi.export(name, value)
