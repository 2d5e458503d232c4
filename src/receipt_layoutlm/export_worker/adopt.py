"""Verify-then-adopt: a restarted worker finds the bundle an earlier attempt of the same export
published, and takes it only when every artifact matches the manifest.

- the bundle (directory or prefix) is fetched and checked file by file (size + sha256) against
  its manifest; one that does not verify is removed (manifest first, so nobody takes it for
  complete meanwhile) and the export runs again;
- the ``.zip`` beside it is checked against the same manifest; a missing or damaged one (a
  kill while it was copied) is rebuilt from the verified bundle and republished atomically.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from receipt_cloud.objects import (
    ObjectNotFoundError,
    is_remote_uri,
    local_path,
    open_object_store,
    resolve_uri,
)
from receipt_cloud.worker import PermanentError
from receipt_layoutlm.bundle_format import MANIFEST_FILE
from receipt_layoutlm.bundles.locations import stored_location
from receipt_layoutlm.bundles.manifest import verify_bundle, verify_zip
from receipt_layoutlm.errors import CheckpointError
from receipt_layoutlm.export.publish import publish_zip, remove_partials, zip_dir
from receipt_layoutlm.remote_dirs import fetch_directory

log = logging.getLogger(__name__)


def _zip_uri(prefix: str) -> str:
    return prefix.rstrip("/") + ".zip"


def remove_published(prefix: str) -> None:
    """Remove a bundle that failed verification, and its zip: manifest first."""
    if is_remote_uri(prefix):
        store = open_object_store(prefix)
        store.delete(MANIFEST_FILE)
        for key in list(store.list("")):
            store.delete(key)
        zip_store, zip_key = resolve_uri(_zip_uri(prefix))
        zip_store.delete(zip_key)
        return
    target = local_path(prefix)
    (target / MANIFEST_FILE).unlink(missing_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    Path(f"{target}.zip").unlink(missing_ok=True)


def _read_manifest(prefix: str) -> dict[str, Any] | None:
    store = open_object_store(prefix)
    if not store.exists(MANIFEST_FILE):
        return None
    try:
        manifest = json.loads(store.get_bytes(MANIFEST_FILE))
    except ValueError:
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _check_zip(prefix: str, bundle: Path, manifest: dict[str, Any], workdir: Path) -> None:
    """Make the zip beside the bundle match ``manifest``, rebuilding it when it does not."""
    zip_store, zip_key = resolve_uri(_zip_uri(prefix))
    local_zip = workdir / "published.zip"
    try:
        zip_store.get_file(zip_key, local_zip)
        problems = verify_zip(local_zip, manifest)
    except ObjectNotFoundError:
        problems = ["the zip is missing"]
    if not problems:
        return
    log.warning("%s: %s; rebuilding the zip from the verified bundle",
                _zip_uri(prefix), "; ".join(problems[:3]))
    rebuilt = zip_dir(bundle, workdir / "rebuilt.zip")
    if is_remote_uri(prefix):
        zip_store.put_file(zip_key, rebuilt)
    else:
        publish_zip(rebuilt, local_path(prefix))


def adoptable(prefix: str, export_id: str, workdir: Path, *, make_zip: bool
              ) -> dict[str, Any] | None:
    """The manifest of the verified bundle export ``export_id`` already published at
    ``prefix``, or None when there is none (or it did not verify and was removed)."""
    if not is_remote_uri(prefix):
        remove_partials(local_path(prefix))
    manifest = _read_manifest(prefix)
    if manifest is None:
        return None
    if manifest and manifest.get("export_id") != export_id:
        raise PermanentError(
            f"{prefix} already holds bundle {manifest.get('export_id')!r:.80}, not export "
            f"{export_id}"
        )
    try:
        bundle = (fetch_directory(prefix, workdir / "published", what="bundle")
                  if is_remote_uri(prefix) else local_path(prefix))
        # The provenance check promote makes: a bundle under bundles/<job>/<export_id> must say so.
        problems = (verify_bundle(bundle, **stored_location(prefix)).problems if manifest
                    else ["manifest.json is not JSON"])
    except CheckpointError as exc:
        problems = [str(exc)]
    if problems:
        log.warning("export %s: the bundle published at %s does not match its manifest (%s); "
                    "not adopted: removing it and exporting again", export_id, prefix,
                    "; ".join(problems[:3]))
        remove_published(prefix)
        return None
    if make_zip:
        _check_zip(prefix, bundle, manifest, workdir)
    log.info("export %s: verified the bundle already published, adopting it", export_id)
    return manifest
