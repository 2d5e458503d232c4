"""The Lambda package builds from the repository and its handlers import in a fresh interpreter
that sees only the package (no site-packages, so no torch even if it were wanted)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from receipt_stack.config import HANDLERS
from receipt_stack.lambda_package import (
    FORBIDDEN,
    LambdaPackageError,
    build_lambda_package,
    dependency_closure,
)

SRC = Path(__file__).resolve().parents[2] / "src"
LAMBDA_ZIP_LIMIT = 50 * 1024 * 1024
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024

IMPORT_CHECK = """
import importlib, inspect, json, pkgutil, sys
sys.path.insert(0, sys.argv[1])
import receipt_cloud.handlers as handlers
# Private modules (``_lambda_env``) are shared helpers, not handlers.
names = [f"receipt_cloud.handlers.{m.name}" for m in pkgutil.iter_modules(handlers.__path__)
         if not m.name.startswith("_")]
signatures = {}
for name in names + ["receipt_cloud.training_launch", "receipt_dynamo"]:
    module = importlib.import_module(name)
    if name in names:
        # Lambda calls handler(event, context); keyword-only extras (a test's settings) are fine.
        params = inspect.signature(module.handler).parameters.values()
        signatures[name] = [p.name for p in params if p.kind is not p.KEYWORD_ONLY]
import boto3
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[2].split(",")))
print(json.dumps({"handlers": signatures, "heavy": heavy, "boto3": boto3.__file__}))
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    tmp = tmp_path_factory.mktemp("lambda")
    package = build_lambda_package(tmp / "lambda.zip")
    unpacked = tmp / "unpacked"
    with zipfile.ZipFile(package.path) as archive:
        archive.extractall(unpacked)
    return package, unpacked


def test_package_holds_the_lambda_path_and_nothing_heavy(built: tuple[object, Path]) -> None:
    package, _ = built
    names = zipfile.ZipFile(package.path).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {"receipt_cloud", "receipt_dynamo", "boto3", "botocore"} <= tops
    assert not tops & {"receipt_layoutlm", "receipt_ocr", *FORBIDDEN}
    assert not [n for n in names if n.endswith((".so", ".pyc")) or "__pycache__" in n]
    assert "receipt_cloud/handlers/start_training.py" in names
    assert package.size_bytes < LAMBDA_ZIP_LIMIT
    assert package.unpacked_bytes < LAMBDA_UNZIPPED_LIMIT
    print(json.dumps(package.summary()))  # the measured size, for the record (pytest -s)


def test_handlers_import_without_torch_in_a_fresh_interpreter(built: tuple[object, Path]) -> None:
    _, unpacked = built
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", IMPORT_CHECK, str(unpacked),
         ",".join(("torch", "transformers", "coremltools", "onnxruntime", "pulumi"))],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["heavy"] == []
    assert Path(report["boto3"]).is_relative_to(unpacked)  # bundled boto3, not the venv's
    present = {
        spec.module
        for spec in HANDLERS.values()
        if (SRC / (spec.module.replace(".", "/") + ".py")).exists()
    }
    assert "receipt_cloud.handlers.start_training" in present
    for module in present:
        assert report["handlers"][module] == ["event", "context"], module


def test_the_same_tree_builds_the_same_bytes(built: tuple[object, Path], tmp_path: Path) -> None:
    package, _ = built
    again = build_lambda_package(tmp_path / "again.zip")
    assert again.sha256 == package.sha256


def test_a_forbidden_dependency_is_refused() -> None:
    with pytest.raises(LambdaPackageError, match="torch"):
        dependency_closure(["torch>=2"])


def test_every_function_of_the_stack_has_its_handler_module() -> None:
    """The stack points each function at ``<module>.handler``; a missing module deploys a
    function that fails every invocation."""
    missing = {
        spec.module
        for spec in HANDLERS.values()
        if not (SRC / (spec.module.replace(".", "/") + ".py")).exists()
    }
    assert not missing, missing
