"""``manifest.json``: every bundle file's size and sha256 plus provenance, and its verification."""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from receipt_layoutlm.bundle_format import MANIFEST_FILE
from receipt_layoutlm.errors import CheckpointError

MANIFEST_FORMAT = 1
"""Version of the manifest layout itself."""


def sha256_file(path: str | Path, *, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def file_inventory(bundle_dir: str | Path) -> dict[str, dict[str, Any]]:
    """``{relative posix path: {"size", "sha256"}}`` for every file under ``bundle_dir`` except
    the manifest itself; files inside the ``.mlpackage`` are listed one by one."""
    bundle_dir = Path(bundle_dir)
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(p for p in bundle_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(bundle_dir).as_posix()
        if rel == MANIFEST_FILE:
            continue
        files[rel] = {"size": path.stat().st_size, "sha256": sha256_file(path)}
    return files


def write_manifest(bundle_dir: str | Path, fields_: dict[str, Any]) -> Path:
    """Write ``manifest.json`` = ``fields_`` + the file inventory; returns its path."""
    bundle_dir = Path(bundle_dir)
    manifest = {"manifest_format": MANIFEST_FORMAT, **fields_}
    manifest["files"] = file_inventory(bundle_dir)
    manifest["total_size_bytes"] = sum(f["size"] for f in manifest["files"].values())
    path = bundle_dir / MANIFEST_FILE
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_manifest(bundle_dir: str | Path) -> dict[str, Any]:
    path = Path(bundle_dir) / MANIFEST_FILE
    if not path.is_file():
        raise CheckpointError(
            f"{path} is missing; only bundles written by export-coreml can be verified"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc}); the bundle is corrupt") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise CheckpointError(f"{path} has no 'files' table; the bundle is corrupt")
    for rel in manifest["files"]:
        if not _inside(Path(bundle_dir), rel):
            raise CheckpointError(
                f"{path} lists {rel!r}, which points outside the bundle; the bundle is refused"
            )
    return manifest


def _inside(bundle_dir: Path, rel: str) -> bool:
    """Whether manifest entry ``rel`` is a relative path that stays inside ``bundle_dir`` (no
    absolute path, no '..', no symlink out): a tampered manifest must not make verification
    read, or vouch for, files elsewhere."""
    parts = rel.split("/")
    if not rel or rel.startswith("/") or "\\" in rel or any(p in ("", ".", "..") for p in parts):
        return False
    root = bundle_dir.resolve()
    return (bundle_dir / rel).resolve().is_relative_to(root)


@dataclass
class Verification:
    """Result of checking a bundle directory against its manifest."""

    bundle_dir: Path
    """The directory checked."""
    manifest_sha256: str = ""
    """sha256 of manifest.json as found (what the active pointer records)."""
    problems: list[str] = field(default_factory=list)
    """One line per mismatch: missing, unlisted, wrong size, wrong checksum."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_for_problems(self) -> None:
        if self.problems:
            shown = "; ".join(self.problems[:5])
            more = f" (+{len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
            raise CheckpointError(
                f"bundle {self.bundle_dir} does not match its manifest: {shown}{more}; "
                "re-download or re-export it"
            )


def verify_bundle(bundle_dir: str | Path, *, job: str | None = None,
                  export_id: str | None = None) -> Verification:
    """Check every file listed in the manifest (size, sha256), that nothing unlisted exists, and
    that the manifest tells the truth about labels, export settings and provenance
    (:func:`~receipt_layoutlm.bundles.consistency.manifest_problems`; ``job``/``export_id`` are
    where the bundle is stored, ``bundles/<job>/<export_id>/``, when known)."""
    from receipt_layoutlm.bundles.consistency import manifest_problems

    bundle_dir = Path(bundle_dir)
    manifest = read_manifest(bundle_dir)
    result = Verification(bundle_dir, sha256_file(bundle_dir / MANIFEST_FILE))
    listed: dict[str, dict[str, Any]] = manifest["files"]
    for rel, expected in sorted(listed.items()):
        path = bundle_dir / rel
        if not path.is_file():
            result.problems.append(f"{rel} is missing")
            continue
        size = path.stat().st_size
        if size != expected.get("size"):
            result.problems.append(f"{rel} has {size} bytes, manifest says {expected.get('size')}")
            continue
        if sha256_file(path) != expected.get("sha256"):
            result.problems.append(f"{rel} sha256 differs from the manifest")
    for rel in file_inventory_names(bundle_dir):
        if rel not in listed:
            result.problems.append(f"{rel} is not listed in the manifest")
    if not result.problems:  # the files are the exported ones; now what the manifest says
        result.problems += manifest_problems(bundle_dir, manifest, job=job, export_id=export_id)
    return result


def file_inventory_names(bundle_dir: Path) -> list[str]:
    return sorted(
        p.relative_to(bundle_dir).as_posix()
        for p in bundle_dir.rglob("*")
        if p.is_file() and p.relative_to(bundle_dir).as_posix() != MANIFEST_FILE
    )


def verify_zip(zip_path: str | Path, manifest: dict[str, Any]) -> list[str]:
    """Check the bundle's ``.zip`` against ``manifest`` (read from the bundle): every listed file
    is in it with the manifest's size and sha256, its own ``manifest.json`` is the same manifest,
    and nothing else is in it. Returns one line per problem (a truncated zip is one)."""
    name = Path(zip_path).name
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        return [f"{name} is not a readable zip ({exc})"]
    problems: list[str] = []
    listed: dict[str, dict[str, Any]] = manifest.get("files") or {}
    with archive:
        names = {n for n in archive.namelist() if not n.endswith("/")}
        try:
            for rel, expected in sorted(listed.items()):
                if rel not in names:
                    problems.append(f"{name}: {rel} is missing")
                elif archive.getinfo(rel).file_size != expected.get("size"):
                    problems.append(f"{name}: {rel} has the wrong size")
                elif _zip_sha256(archive, rel) != expected.get("sha256"):
                    problems.append(f"{name}: {rel} sha256 differs from the manifest")
            if MANIFEST_FILE not in names:
                problems.append(f"{name}: {MANIFEST_FILE} is missing")
            elif json.loads(archive.read(MANIFEST_FILE)) != manifest:
                problems.append(f"{name}: its {MANIFEST_FILE} is not the bundle's")
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            problems.append(f"{name} is damaged ({exc})")
        problems += [f"{name}: {n} is not listed in the manifest"
                     for n in sorted(names - set(listed) - {MANIFEST_FILE})]
    return problems


def _zip_sha256(archive: zipfile.ZipFile, member: str) -> str:
    digest = hashlib.sha256()
    with archive.open(member) as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
