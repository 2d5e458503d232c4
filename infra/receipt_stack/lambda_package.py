"""The Lambda package: ``receipt_dynamo`` + ``receipt_cloud`` from ``src/`` and their pure-Python
dependencies (boto3 and what it needs) copied from the installed environment; never torch.

    python infra/receipt_stack/lambda_package.py --output build/lambda.zip

prints one JSON line (path, size, file count, distributions, sha256). The Pulumi program builds
the same zip into ``infra/.build/`` on every run (reproducible bytes, so an unchanged tree is no
change to the functions).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib.metadata
import json
import re
import sys
import tomllib
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``receipt_stack`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from receipt_stack.sources import SourceFile, collect, repo_root, write_zip

LAMBDA_PACKAGES = ("receipt_dynamo", "receipt_cloud")
"""Project packages the functions import (``src/<name>``)."""
FORBIDDEN = ("torch", "transformers", "coremltools", "onnx", "onnxruntime", "numpy")
"""Distributions that must never end up in the package (heavy, or native code)."""
_NATIVE_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")


class LambdaPackageError(RuntimeError):
    """The package cannot be built as pure Python (a native file, a forbidden or missing dist)."""


@dataclasses.dataclass(frozen=True)
class LambdaPackage:
    """A built package."""

    path: Path
    """The zip."""
    size_bytes: int
    """Zip size."""
    unpacked_bytes: int
    """Sum of the file sizes (Lambda's 250 MB limit applies to this)."""
    files: int
    """Number of files."""
    distributions: tuple[str, ...]
    """``name==version`` of every bundled third-party distribution."""
    sha256: str
    """Digest of the zip."""

    def summary(self) -> dict[str, object]:
        return {**dataclasses.asdict(self), "path": str(self.path)}


def project_requirements(root: Path) -> list[str]:
    """``[project].dependencies`` of the repository's ``pyproject.toml`` (what the Lambda path
    needs; extras are for the heavy paths)."""
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return list(data["project"]["dependencies"])


def _requirement_name(requirement: str) -> str | None:
    """The distribution a requirement line names, or None when its marker excludes it here."""
    from packaging.requirements import Requirement

    parsed = Requirement(requirement)
    if parsed.marker is not None and not parsed.marker.evaluate({"extra": ""}):
        return None
    return parsed.name


def dependency_closure(requirements: list[str]) -> list[importlib.metadata.Distribution]:
    """The installed distributions ``requirements`` pull in, recursively, sorted by name."""
    found: dict[str, importlib.metadata.Distribution] = {}
    pending = [name for r in requirements if (name := _requirement_name(r))]
    while pending:
        name = pending.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in found:
            continue
        if key in FORBIDDEN:
            raise LambdaPackageError(f"the Lambda package would include {name}; it must not")
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise LambdaPackageError(
                f"dependency {name} is not installed in {sys.prefix}; pip install the project "
                "first (pip install -e .)"
            ) from None
        found[key] = dist
        pending.extend(n for r in dist.requires or [] if (n := _requirement_name(r)))
    return [found[k] for k in sorted(found)]


def _distribution_files(dist: importlib.metadata.Distribution) -> list[SourceFile]:
    files: list[SourceFile] = []
    for entry in dist.files or []:
        name = entry.as_posix()
        if name.startswith("..") or "__pycache__" in name or name.endswith((".pyc", ".pyo")):
            continue  # console scripts outside site-packages; bytecode Lambda rebuilds itself
        if name.endswith(_NATIVE_SUFFIXES):
            raise LambdaPackageError(
                f"{dist.metadata['Name']} ships native code ({name}); the Lambda package is pure "
                "Python so it runs on any Lambda architecture"
            )
        path = Path(str(dist.locate_file(entry)))
        if path.is_file():
            files.append((name, path))
    return files


def package_files(root: Path | None = None) -> tuple[list[SourceFile], list[str]]:
    """(files of the package, ``name==version`` of each third-party distribution)."""
    root = root or repo_root()
    src = root / "src"
    files = collect(src, LAMBDA_PACKAGES)
    for name, _ in files:
        if name.endswith(_NATIVE_SUFFIXES):
            raise LambdaPackageError(f"src/{name} is native code; the Lambda path is pure Python")
    dists = dependency_closure(project_requirements(root))
    for dist in dists:
        files.extend(_distribution_files(dist))
    names = [f"{d.metadata['Name']}=={d.version}" for d in dists]
    return sorted(dict(files).items()), names


def build_lambda_package(dest: Path, root: Path | None = None) -> LambdaPackage:
    """Write the zip to ``dest`` and describe it."""
    files, dists = package_files(root)
    write_zip(files, dest)
    data = dest.read_bytes()
    return LambdaPackage(
        path=dest,
        size_bytes=len(data),
        unpacked_bytes=sum(path.stat().st_size for _, path in files),
        files=len(files),
        distributions=tuple(dists),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("build/lambda.zip"), help="zip path")
    args = parser.parse_args(argv)
    try:
        package = build_lambda_package(args.output)
    except LambdaPackageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(package.summary()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
