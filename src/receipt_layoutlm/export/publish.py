"""Publishing a gated bundle: the destination checks, the move (local) or the upload (``s3://``)
with ``manifest.json`` last, and the ``.zip`` beside it.

Readers (promote, the registry, a retry) take a directory or prefix with a manifest as a
complete bundle, so the manifest is always the last thing written.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

from receipt_cloud.objects import (
    ObjectStore,
    is_remote_uri,
    local_path,
    open_object_store,
    resolve_uri,
)
from receipt_layoutlm.bundle_format import MANIFEST_FILE
from receipt_layoutlm.errors import ExportError

log = logging.getLogger(__name__)

PARTIAL_MARK = ".partial-"
"""Infix of what a publish writes before its final rename."""


def check_destination(output: str) -> None:
    """Refuse a local directory that is not empty and a prefix that holds a published bundle."""
    if is_remote_uri(output):
        if open_object_store(output).exists(MANIFEST_FILE):
            raise ExportError(
                f"destination {output} already holds a published bundle ({MANIFEST_FILE} "
                "is there); export to a new prefix (bundles/<job>/<export_id>/)"
            )
        # Objects without a manifest are an earlier attempt of this export that died mid-upload
        # (the manifest goes up last); publishing clears them, so a retry can go on.
        return
    path = local_path(output)  # a plain path or a file:// URI
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ExportError(
            f"output directory {path} exists and is not empty; choose a new directory"
        )


def zip_dir(source: Path, destination: Path) -> Path:
    """``destination`` (a zip) holding every file under ``source`` at its relative path."""
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            zf.write(path, path.relative_to(source).as_posix())
    return destination


def upload_bundle(
    store: ObjectStore, staging: Path, *, before_upload: Callable[[], None] | None = None
) -> list[str]:
    """Upload a gated bundle to the root of ``store`` with ``manifest.json`` last.

    Objects already there without a manifest (an interrupted earlier attempt) are removed
    first; a manifest there is refused. ``before_upload`` runs before the bundle's first file
    goes up (the zip: it lands beside the bundle, which counts as published only once its
    manifest is there). Returns the bundle's keys in upload order.
    """
    if store.exists(MANIFEST_FILE):
        raise ExportError(
            f"{store.uri('')} already holds a published bundle; export to a new prefix"
        )
    stale = list(store.list(""))
    if stale:
        log.warning(
            "removing %d object(s) of an unfinished earlier upload under %s",
            len(stale),
            store.uri(""),
        )
        for key in stale:
            store.delete(key)
    if before_upload is not None:
        before_upload()
    return store.upload_dir(staging, "", commit_last=MANIFEST_FILE)


def publish(staging: Path, zip_path: Path | None, output: str) -> tuple[str, str | None]:
    """Move/upload the gated bundle in ``staging`` to ``output``; returns (bundle URI, zip URI)."""
    if is_remote_uri(output):
        return _upload(staging, zip_path, output)
    target = local_path(output)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_partials(target)
    # Copy next to the target, then rename: readers never see a half-written bundle or zip.
    partial = target.parent / f".{target.name}{PARTIAL_MARK}{uuid.uuid4().hex[:8]}"
    shutil.copytree(staging, partial)
    if target.exists():
        target.rmdir()  # checked empty up front
    os.replace(partial, target)
    zip_uri = None
    if zip_path is not None:
        zip_uri = str(publish_zip(zip_path, target))
    return str(target), zip_uri


def publish_zip(zip_path: Path, target: Path) -> Path:
    """Copy ``zip_path`` to ``<target>.zip`` through a partial file and one rename: a copy
    killed half-way leaves a ``.partial-`` file (removed by the next publish), never a
    truncated zip under the real name."""
    zip_target = target.parent / f"{target.name}.zip"
    partial = target.parent / f".{zip_target.name}{PARTIAL_MARK}{uuid.uuid4().hex[:8]}"
    try:
        shutil.copyfile(zip_path, partial)
        os.replace(partial, zip_target)
    finally:
        partial.unlink(missing_ok=True)
    return zip_target


def remove_partials(target: Path) -> list[Path]:
    """Remove what killed publishes of ``target`` left beside it (``.<name>.partial-*`` and
    ``.<name>.zip.partial-*``). Only this target's: the caller holds its export's claim, so no
    live publish writes them."""
    removed = []
    for pattern in (f".{target.name}{PARTIAL_MARK}*", f".{target.name}.zip{PARTIAL_MARK}*"):
        for path in target.parent.glob(pattern):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    if removed:
        log.warning("removed %d partial file(s) of a killed publish of %s", len(removed), target)
    return removed


def _upload(staging: Path, zip_path: Path | None, output: str) -> tuple[str, str | None]:
    zip_uri = None

    def put_zip() -> None:
        nonlocal zip_uri
        if zip_path is not None:
            zip_store, zip_key = resolve_uri(output.rstrip("/") + ".zip")
            zip_store.put_file(zip_key, zip_path)
            zip_uri = zip_store.uri(zip_key)

    upload_bundle(open_object_store(output), staging, before_upload=put_zip)
    return output.rstrip("/"), zip_uri
