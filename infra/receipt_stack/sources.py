"""Source files of a build, their content hash and a byte-for-byte reproducible zip of them.

The training image is tagged ``src-<hash>`` of exactly what its Dockerfile copies, so an unchanged
source tree never triggers a rebuild, a changed one always does, and a training job names the
image it was started with (never ``:latest``).
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

TRAINING_IMAGE_SOURCES: tuple[str, ...] = (
    "pyproject.toml",
    "README.md",
    "src",
    "infra/sagemaker_training/Dockerfile",
    "infra/sagemaker_training/requirements.txt",
    "infra/sagemaker_training/train.py",
)
"""Everything ``infra/sagemaker_training/Dockerfile`` COPYs, relative to the repository root."""

DOCKERFILE = "infra/sagemaker_training/Dockerfile"
_SKIPPED_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo")
# Zip entries carry this fixed time so the archive's bytes depend on contents only.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

SourceFile = tuple[str, Path]
"""(name inside the archive, file on disk)."""


def repo_root() -> Path:
    """The repository holding this file (``infra/receipt_stack/`` is two levels down)."""
    return Path(__file__).resolve().parents[2]


def _skipped(path: Path) -> bool:
    return any(
        part in _SKIPPED_DIRS or part.endswith(".egg-info") for part in path.parts
    ) or path.name.endswith(_SKIPPED_SUFFIXES)


def collect(root: Path, entries: Iterable[str], *, base: Path | None = None) -> list[SourceFile]:
    """Files under each entry (a file or a directory) of ``root``, named relative to ``base``
    (default ``root``), sorted; caches and egg-info are left out. A missing entry is an error."""
    base = base or root
    files: dict[str, Path] = {}
    for entry in entries:
        path = root / entry
        if not path.exists():
            raise FileNotFoundError(f"build source {path} does not exist")
        found = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        for file in found:
            relative = file.relative_to(base)
            if not _skipped(relative):
                files[relative.as_posix()] = file
    return sorted(files.items())


def content_hash(files: Sequence[SourceFile]) -> str:
    """sha256 over each file's archive name and bytes, in name order."""
    digest = hashlib.sha256()
    for name, path in sorted(files):
        data = path.read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def training_image_tag(root: Path | None = None) -> str:
    """``src-<first 16 hex digits of the content hash>`` of the training image's sources."""
    files = collect(root or repo_root(), TRAINING_IMAGE_SOURCES)
    return "src-" + content_hash(files)[:16]


def write_zip(files: Sequence[SourceFile], dest: Path) -> Path:
    """A deflated zip of ``files`` whose bytes depend only on names and contents."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, path in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    tmp.replace(dest)
    return dest
