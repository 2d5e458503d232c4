"""The seed's fixed bundle location: the active bundle's files also live under ``coreml/``.

Consumers written for the seed read ``coreml/LayoutLM.mlpackage/``, ``coreml/vocab.txt``,
``coreml/config.json`` and ``coreml/label_map.json`` from the bundles store. ``promote`` mirrors
the promoted bundle there: the old ``coreml/manifest.json`` goes first (readers waiting for a
manifest see the mirror as in flux), files the new bundle lacks are removed, and the new
manifest goes up last.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from receipt_cloud.objects import is_remote_uri
from receipt_layoutlm.bundle_format import MANIFEST_FILE

log = logging.getLogger(__name__)

SEED_PREFIX = "coreml"


def mirror_to_seed_prefix(store: Any, bundle_uri: str, *, prefix: str = SEED_PREFIX) -> list[str]:
    """Copy the bundle at ``bundle_uri`` to ``<prefix>/`` of ``store``, manifest last; returns
    the keys written, in order."""
    from receipt_layoutlm.checkpoint import fetch_directory

    with tempfile.TemporaryDirectory(prefix="seed-mirror-") as tmp:
        local = (
            fetch_directory(bundle_uri, Path(tmp) / "bundle", what="bundle")
            if is_remote_uri(bundle_uri)
            else fetch_directory(bundle_uri, what="bundle")
        )
        files = sorted(
            (p.relative_to(local).as_posix(), p) for p in local.rglob("*") if p.is_file()
        )
        files.sort(key=lambda item: item[0] == MANIFEST_FILE)
        wanted = {f"{prefix}/{name}" for name, _ in files}
        manifest_key = f"{prefix}/{MANIFEST_FILE}"
        if store.exists(manifest_key):
            store.delete(manifest_key)
        for key in list(store.list(f"{prefix}/")):
            if key not in wanted:
                store.delete(key)
        written = []
        for name, path in files:
            store.put_file(f"{prefix}/{name}", path)
            written.append(f"{prefix}/{name}")
    log.info("mirrored %s to %s (%d files)", bundle_uri, store.uri(prefix), len(written))
    return written
