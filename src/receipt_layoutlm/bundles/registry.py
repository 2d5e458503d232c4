"""The bundle registry: ``bundles/<job>/<export_id>/`` in the bundles object store, plus the
``bundles/active.json`` pointer that the OCR worker's model cache follows, its history
(``bundles/history.json``, for ``promote --rollback``) and the seed's ``coreml/`` mirror.

``active.json``::

    {"bundle_uri", "manifest_sha256", "version", "promoted_at", "export_id", "job_id",
     "quantize", "labels"[, "rolled_back_from"]}

``version`` increases by one with every promotion, so a cache can tell a newer pointer from an
older one; ``manifest_sha256`` pins the exact bundle contents (the cache re-verifies them).
A bundle is promoted only when every file matches its manifest.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_cloud.objects import ObjectStore, open_object_store
from receipt_layoutlm.bundle_format import LABEL_MAP_FILE, MANIFEST_FILE, model_size_bytes
from receipt_layoutlm.bundles.locations import (
    ACTIVE_KEY,
    BUNDLES_PREFIX,
    HISTORY_KEY,
    HISTORY_LIMIT,
    bundle_key_prefix,
    canonical_uri,
    stored_location,
)
from receipt_layoutlm.bundles.manifest import verify_bundle
from receipt_layoutlm.bundles.promote_lock import promote_lock
from receipt_layoutlm.bundles.seed_mirror import mirror_bundle_dir
from receipt_layoutlm.errors import CheckpointError
from receipt_layoutlm.remote_dirs import fetch_directory

if TYPE_CHECKING:
    from receipt_cloud.settings import Settings

__all__ = [
    "ACTIVE_KEY",
    "BUNDLES_PREFIX",
    "HISTORY_KEY",
    "HISTORY_LIMIT",
    "BundleEntry",
    "BundleRegistry",
    "bundle_key_prefix",
    "bundle_labels",
    "canonical_uri",
    "label_tags",
    "stored_location",
]


@dataclass
class BundleEntry:
    """One bundle as listed by :meth:`BundleRegistry.list_bundles`."""

    uri: str
    """Bundle directory URI."""
    export_id: str
    job: str
    quantize: str
    export_time: str
    size_bytes: int
    """Sum of the bundle's files (manifest's ``total_size_bytes``)."""
    model_size_bytes: int
    """The ``.mlpackage`` (or ``model.onnx``) alone."""
    parity_passed: bool
    min_agreement: float | None
    """Lowest word-label agreement over the gate's runtimes."""
    max_logit_diff: float | None
    """Largest max |Δlogit| over the gate's runtimes."""
    active: bool = False
    artifact_sizes: dict[str, int] = field(default_factory=dict)
    """Bytes per artifact, as the manifest's ``sizes`` names them without ``_bytes``
    (``mlpackage``, ``onnx``, ``onnx_int8``)."""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _entry(uri: str, manifest: dict[str, Any], active_uri: str | None) -> BundleEntry:
    parity = manifest.get("parity") or {}
    results = parity.get("results") or []
    agreements = [r["word_agreement"] for r in results if r.get("word_agreement") is not None]
    diffs = [r["max_abs_logit_diff"] for r in results if r.get("max_abs_logit_diff") is not None]
    sizes = manifest.get("sizes") or {}
    job = (manifest.get("training_job") or {}).get("job_id") or ""
    return BundleEntry(
        uri=uri,
        export_id=str(manifest.get("export_id", "")),
        job=str(job),
        quantize=str(manifest.get("quantize", "")),
        export_time=str(manifest.get("export_time", "")),
        size_bytes=int(manifest.get("total_size_bytes", 0)),
        model_size_bytes=model_size_bytes(sizes),
        parity_passed=bool(parity.get("passed", False)),
        min_agreement=min(agreements) if agreements else None,
        max_logit_diff=max(diffs) if diffs else None,
        active=active_uri is not None and canonical_uri(uri) == canonical_uri(active_uri),
        artifact_sizes={str(k).removesuffix("_bytes"): int(v) for k, v in sizes.items()
                        if isinstance(v, int) and not isinstance(v, bool)},
    )


class BundleRegistry:
    """Bundles and the active pointer in one object store (the ``bundles`` store of settings)."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    @classmethod
    def from_uri(cls, uri: str) -> BundleRegistry:
        return cls(open_object_store(uri))

    @classmethod
    def from_settings(cls, settings: Settings) -> BundleRegistry:
        return cls(settings.open_objects("bundles"))

    def bundle_uri(self, job: str, export_id: str) -> str:
        """URI of the directory a new export of ``job`` should be written to."""
        return self.store.uri(bundle_key_prefix(job, export_id))

    def active(self) -> dict[str, Any] | None:
        """The current ``active.json`` or None when nothing was promoted yet."""
        if not self.store.exists(ACTIVE_KEY):
            return None
        try:
            return json.loads(self.store.get_bytes(ACTIVE_KEY))
        except json.JSONDecodeError as exc:
            raise CheckpointError(
                f"{self.store.uri(ACTIVE_KEY)} is not valid JSON ({exc}); promote a bundle again"
            ) from None

    def list_bundles(self) -> list[BundleEntry]:
        """Every bundle with a manifest under ``bundles/``, newest export first."""
        active = self.active()
        active_uri = active.get("bundle_uri") if active else None
        entries = []
        for key in self.manifest_keys():
            manifest = json.loads(self.store.get_bytes(key))
            prefix = key[: -len(MANIFEST_FILE) - 1]
            entries.append(_entry(self.store.uri(prefix), manifest, active_uri))
        entries.sort(key=lambda e: e.export_time, reverse=True)
        return entries

    def manifest_keys(self, job_name: str | None = None) -> list[str]:
        """The keys of bundle manifests (``bundles/<job>/<export_id>/manifest.json``), of one
        training Job's bundles when ``job_name`` is given."""
        prefix = f"{BUNDLES_PREFIX}/{job_name}/" if job_name else f"{BUNDLES_PREFIX}/"
        return [
            key for key in self.store.list(prefix)
            if key.endswith(f"/{MANIFEST_FILE}") and key.count("/") == 3
        ]

    def history(self) -> list[dict[str, Any]]:
        """The active pointers, oldest first (``bundles/history.json``); the last one is the
        current pointer. A pointer written before the history existed counts as the only one."""
        if self.store.exists(HISTORY_KEY):
            try:
                entries = json.loads(self.store.get_bytes(HISTORY_KEY)).get("entries")
            except (json.JSONDecodeError, AttributeError) as exc:
                raise CheckpointError(
                    f"{self.store.uri(HISTORY_KEY)} is not a promote history ({exc}); "
                    "promote a bundle again to start a new one"
                ) from None
            if isinstance(entries, list) and entries:
                return [e for e in entries if isinstance(e, dict)]
        active = self.active()
        return [active] if active else []

    def promote(self, bundle_uri: str, *, records: Any | None = None) -> dict[str, Any]:
        """Verify the bundle at ``bundle_uri`` against its manifest, mirror it to ``coreml/``
        and point ``active.json`` at it, holding the promote lock; the pointer joins the
        history. Refuses (:class:`CheckpointError`) a bundle that does not verify, whose
        manifest records a failed parity gate, or (given the record store ``records``) whose
        manifest contradicts the stack's Job and export records; the pointer is left
        unchanged."""
        with tempfile.TemporaryDirectory(prefix="promote-") as tmp:
            local, manifest_bytes = _verified_copy(bundle_uri, Path(tmp))
            if records is not None:
                _check_records(json.loads(manifest_bytes), bundle_uri, records)
            with promote_lock(self.store):
                record = self._activate(bundle_uri, local, manifest_bytes)
                history = self.history()
                if history and history[-1].get("manifest_sha256") == record["manifest_sha256"]:
                    history = history[:-1]  # promoted again: one entry, the newest pointer
                self._write_history([*history, record])
        return record

    def rollback(self) -> dict[str, Any]:
        """Make the previous pointer of the history active again (re-verified, re-mirrored,
        with a new version so every model cache follows); the current one leaves the history.
        :class:`CheckpointError` when there is no previous bundle."""
        with tempfile.TemporaryDirectory(prefix="rollback-") as tmp, promote_lock(self.store):
            history = self.history()
            if len(history) < 2:
                raise CheckpointError(
                    f"nothing to roll back to: the promote history of {self.store.uri()} holds "
                    f"{len(history)} bundle(s); promote one with `layoutlm-cli promote BUNDLE_URI`"
                )
            current, target = history[-1], history[-2]
            local, manifest_bytes = _verified_copy(str(target["bundle_uri"]), Path(tmp))
            if hashlib.sha256(manifest_bytes).hexdigest() != target.get("manifest_sha256"):
                raise CheckpointError(
                    f"{target['bundle_uri']} changed since it was promoted (its manifest sha256 "
                    "differs from the history's); promote a bundle by hand"
                )
            record = self._activate(
                str(target["bundle_uri"]),
                local,
                manifest_bytes,
                rolled_back_from=current.get("export_id"),
            )
            self._write_history([*history[:-2], record])
        return record

    def _activate(
        self, bundle_uri: str, local: Path, manifest_bytes: bytes, **extra: Any
    ) -> dict[str, Any]:
        """Mirror, then move the pointer (the caller holds the promote lock)."""
        manifest = json.loads(manifest_bytes)
        previous = self.active() or {}
        record = {
            "bundle_uri": canonical_uri(bundle_uri),
            "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
            "version": int(previous.get("version", 0)) + 1,
            "promoted_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "export_id": manifest.get("export_id"),
            "job_id": (manifest.get("training_job") or {}).get("job_id"),
            "quantize": manifest.get("quantize"),
            "labels": bundle_labels(local),
            **extra,
        }
        # The mirror first: the pointer (what workers follow) moves only onto a full mirror.
        mirror_bundle_dir(self.store, local)
        self.store.put_bytes(ACTIVE_KEY, _json_bytes(record), content_type="application/json")
        return record

    def _write_history(self, entries: list[dict[str, Any]]) -> None:
        body = {"entries": entries[-HISTORY_LIMIT:]}
        self.store.put_bytes(HISTORY_KEY, _json_bytes(body), content_type="application/json")


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()


def bundle_labels(local: Path) -> list[str]:
    """The sorted label tags of a local bundle (its ``label_map.json``), [] when it has none."""
    path = local / LABEL_MAP_FILE
    if not path.is_file():
        return []
    return label_tags(json.loads(path.read_text(encoding="utf-8")))


def label_tags(label_map: dict[str, Any]) -> list[str]:
    """The sorted label tags of a parsed ``label_map.json`` (``labels``, else ``label2id``)."""
    labels = label_map.get("labels") or list((label_map.get("label2id") or {}).keys())
    return sorted(str(label) for label in labels)


def _check_records(manifest: dict[str, Any], bundle_uri: str, records: Any) -> None:
    from receipt_layoutlm.bundles.consistency import record_problems

    problems = record_problems(manifest, bundle_uri, records)
    if problems:
        raise CheckpointError(
            f"bundle {bundle_uri}: its manifest contradicts the records: "
            f"{'; '.join(problems[:3])}; re-export it"
        )


def _verified_copy(bundle_uri: str, tmp: Path) -> tuple[Path, bytes]:
    """A local copy of the bundle that verifies against its manifest and passed its parity
    gate, and the manifest's bytes."""
    local = fetch_directory(bundle_uri, tmp / "bundle", what="bundle")
    if not (local / MANIFEST_FILE).is_file():
        raise CheckpointError(
            f"{bundle_uri} has no {MANIFEST_FILE}; only bundles written by export-coreml can "
            "be promoted"
        )
    verification = verify_bundle(local, **stored_location(bundle_uri))
    verification.raise_for_problems()
    manifest_bytes = (local / MANIFEST_FILE).read_bytes()
    if not (json.loads(manifest_bytes).get("parity") or {}).get("passed", False):
        raise CheckpointError(
            f"{bundle_uri}: its manifest records a failed parity gate; re-export it"
        )
    return local, manifest_bytes
