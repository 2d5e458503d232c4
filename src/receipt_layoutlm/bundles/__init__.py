"""Reading bundles: the registry of ``bundles/<job>/<export_id>/``, the ``active.json`` pointer
and its history, promote (verify, mirror, point) and the guarded rollout, and manifest
verification. Torch-free: the OCR worker, the export worker, ``layoutlm-cli promote`` and the
reports import it; building a bundle is :mod:`receipt_layoutlm.export`'s.

Public API::

    BundleRegistry.from_uri(bundles_root).active() / .list_bundles() / .history()
    BundleRegistry(...).promote(bundle_uri) / .rollback()    # under bundles/promote.lock
    verify_bundle(bundle_dir) -> Verification               # manifest sizes + sha256 + truth
    verify_zip(zip_path, manifest) -> [problem, ...]
    apply_rollout(store=..., registry=..., bundle_uri=..., job_name=...) -> RolloutDecision

The bundle's file names live in :mod:`receipt_layoutlm.bundle_format`.
"""

from __future__ import annotations

from receipt_layoutlm.bundles.locations import (
    ACTIVE_KEY,
    BUNDLES_PREFIX,
    bundle_key_prefix,
    canonical_uri,
)
from receipt_layoutlm.bundles.manifest import (
    Verification,
    read_manifest,
    verify_bundle,
    verify_zip,
    write_manifest,
)
from receipt_layoutlm.bundles.registry import BundleEntry, BundleRegistry
from receipt_layoutlm.bundles.rollout import RolloutDecision, apply_rollout

__all__ = [
    "ACTIVE_KEY",
    "BUNDLES_PREFIX",
    "BundleEntry",
    "BundleRegistry",
    "RolloutDecision",
    "Verification",
    "apply_rollout",
    "bundle_key_prefix",
    "canonical_uri",
    "read_manifest",
    "verify_bundle",
    "verify_zip",
    "write_manifest",
]
