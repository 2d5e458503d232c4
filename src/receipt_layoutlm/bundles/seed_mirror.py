"""The seed's fixed bundle location: the active bundle's files also live under ``coreml/``.

Consumers written for the seed read ``coreml/LayoutLM.mlpackage/``, ``coreml/vocab.txt``,
``coreml/config.json`` and ``coreml/label_map.json`` from the bundles store. ``promote`` (and
``promote --rollback``) mirrors the active bundle there while holding the promote lock
(``promote_lock``), so two promotes never interleave: the old ``coreml/manifest.json`` goes
first (a reader that finds no manifest knows the mirror is in flux), files of the previous
bundle that the new one lacks are removed, and the new manifest goes up last. A reader that
finds ``coreml/manifest.json`` sees exactly that bundle's files, and its sha256 is the active
pointer's ``manifest_sha256`` once the promote has finished.

Only the bundle's own top-level entries are managed (files directly under ``coreml/`` and
``*.mlpackage/`` folders): other folders there (the seed's manual exports write
``coreml/<job>/``) are left alone.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from receipt_layoutlm.bundle_format import MANIFEST_FILE

if TYPE_CHECKING:
    from receipt_cloud.objects import ObjectStore

log = logging.getLogger(__name__)

SEED_PREFIX = "coreml"


def _managed(rel: str) -> bool:
    """Whether ``rel`` (a key below the mirror prefix) belongs to a mirrored bundle."""
    head, sep, _ = rel.partition("/")
    return not sep or head.endswith(".mlpackage")


def mirror_bundle_dir(store: ObjectStore, local: Path, *, prefix: str = SEED_PREFIX) -> list[str]:
    """Mirror the verified local bundle directory ``local`` to ``<prefix>/`` of ``store``,
    manifest last; returns the keys written, in order. Call it under ``promote_lock``."""
    files = sorted((p.relative_to(local).as_posix(), p) for p in local.rglob("*") if p.is_file())
    files.sort(key=lambda item: item[0] == MANIFEST_FILE)
    wanted = {f"{prefix}/{name}" for name, _ in files}
    manifest_key = f"{prefix}/{MANIFEST_FILE}"
    store.delete(manifest_key)
    for key in list(store.list(f"{prefix}/")):
        if key not in wanted and _managed(key[len(prefix) + 1 :]):
            store.delete(key)
    written = []
    for name, path in files:
        store.put_file(f"{prefix}/{name}", path)
        written.append(f"{prefix}/{name}")
    log.info("mirrored %s to %s (%d files)", local, store.uri(prefix), len(written))
    return written
