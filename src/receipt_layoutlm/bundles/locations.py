"""Where bundles live in the bundles object store, and one spelling per location.

``bundles/<job>/<export_id>/`` holds one export, ``bundles/active.json`` the pointer the model
caches follow, ``bundles/history.json`` the pointers ``promote --rollback`` walks back through.
"""

from __future__ import annotations

from receipt_cloud.objects import is_remote_uri, local_path
from receipt_layoutlm.errors import ExportError

BUNDLES_PREFIX = "bundles"
ACTIVE_KEY = f"{BUNDLES_PREFIX}/active.json"
HISTORY_KEY = f"{BUNDLES_PREFIX}/history.json"
HISTORY_LIMIT = 50
"""Pointers kept for ``promote --rollback`` (the oldest are dropped)."""


def bundle_key_prefix(job: str, export_id: str) -> str:
    """``bundles/<job>/<export_id>`` — where the export of ``job`` with ``export_id`` lives."""
    for name, value in (("job", job), ("export_id", export_id)):
        if not value or "/" in value or value in (".", ".."):
            raise ExportError(f"{name} {value!r} cannot be used in a bundle key")
    return f"{BUNDLES_PREFIX}/{job}/{export_id}"


def stored_location(bundle_uri: str) -> dict[str, str]:
    """``{"job", "export_id"}`` of a bundle stored as ``.../bundles/<job>/<export_id>``, which
    its manifest's provenance must match; ``{}`` for a bundle stored anywhere else."""
    parts = canonical_uri(bundle_uri).split("/")
    if len(parts) >= 3 and parts[-3] == BUNDLES_PREFIX:
        return {"job": parts[-2], "export_id": parts[-1]}
    return {}


def canonical_uri(uri: str) -> str:
    """One spelling per location: ``s3://`` without a trailing slash; local paths and
    ``file://`` URIs as absolute paths."""
    if is_remote_uri(uri):
        return uri.rstrip("/")
    return str(local_path(uri))
