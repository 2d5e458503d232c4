"""Promote history, ``promote --rollback`` and the promote lock that keeps the seed's ``coreml/``
mirror a copy of the active bundle, also under concurrent promotes (locally and on S3 through the
moto server). Bundles here are small hand-made directories with a real manifest."""

from __future__ import annotations

import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from receipt_cloud.objects import LocalObjectStore, open_object_store
from receipt_layoutlm.cli import main
from receipt_layoutlm.errors import CheckpointError
from receipt_layoutlm.export.manifest import write_manifest
from receipt_layoutlm.export.promote_lock import LOCK_KEY, promote_lock
from receipt_layoutlm.export.registry import BundleRegistry


def _bundle(store, export_id: str, *, weights: int, extra: str | None = None) -> str:
    """A bundle under ``bundles/layoutlm-h/<export_id>`` of ``store`` (made on disk, then
    uploaded when the store is not local); returns its URI."""
    import tempfile

    local = Path(tempfile.mkdtemp(prefix="bundle-")) / export_id
    (local / "LayoutLM.mlpackage" / "Data").mkdir(parents=True)
    (local / "LayoutLM.mlpackage" / "Data" / "weight.bin").write_bytes(
        hashlib.sha256(export_id.encode()).digest() * weights
    )
    (local / "vocab.txt").write_text(f"[PAD]\n{export_id}\n")
    (local / "label_map.json").write_text(json.dumps({"labels": ["O", "B-DATE", "I-DATE"]}))
    if extra:
        (local / extra).write_text(export_id)
    write_manifest(local, {
        "export_id": export_id, "training_job": {"job_id": "layoutlm-h"}, "quantize": "float16",
        "parity": {"passed": True, "results": []},
    })  # fmt: skip
    prefix = f"bundles/layoutlm-h/{export_id}"
    store.upload_dir(local, prefix, commit_last="manifest.json")
    return store.uri(prefix)


def _mirror_is_active(store) -> dict:
    active = json.loads(store.get_bytes("bundles/active.json"))
    manifest = store.get_bytes("coreml/manifest.json")
    assert hashlib.sha256(manifest).hexdigest() == active["manifest_sha256"]
    files = json.loads(manifest)["files"]
    mirrored = {k.removeprefix("coreml/") for k in store.list("coreml/")} - {"manifest.json"}
    assert mirrored == set(files)
    for name, meta in files.items():
        assert hashlib.sha256(store.get_bytes(f"coreml/{name}")).hexdigest() == meta["sha256"]
    return active


def test_history_and_rollback_walk_back(tmp_path: Path, capsys) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    registry = BundleRegistry(store)
    uris = [_bundle(store, name, weights=4, extra="model.onnx" if name == "a" else None)
            for name in ("a", "b", "c")]  # fmt: skip
    for uri in uris:
        registry.promote(uri)
    assert [e["export_id"] for e in registry.history()] == ["a", "b", "c"]
    assert _mirror_is_active(store)["version"] == 3

    back = registry.rollback()
    assert (back["export_id"], back["rolled_back_from"], back["version"]) == ("b", "c", 4)
    assert _mirror_is_active(store)["export_id"] == "b"
    home = ["--bundles-uri", str(tmp_path / "objects"), "--data-dir", str(tmp_path / "d")]
    assert main(["promote", "--rollback", *home]) == 0
    assert json.loads(capsys.readouterr().out)["export_id"] == "a"
    assert "coreml/model.onnx" in set(store.list("coreml/"))  # a's own file is back
    assert [e["export_id"] for e in registry.history()] == ["a"]
    with pytest.raises(CheckpointError, match="nothing to roll back to"):
        registry.rollback()
    assert main(["promote", "--history", *home]) == 0
    assert [json.loads(line)["export_id"] for line in capsys.readouterr().out.splitlines()] == [
        "a"
    ]


def test_rollback_refuses_a_bundle_changed_since_its_promote(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    registry = BundleRegistry(store)
    first, second = _bundle(store, "a", weights=2), _bundle(store, "b", weights=2)
    registry.promote(first)
    registry.promote(second)
    store.put_bytes("bundles/layoutlm-h/a/vocab.txt", b"tampered\n")
    with pytest.raises(CheckpointError, match="does not match its manifest"):
        registry.rollback()
    assert _mirror_is_active(store)["export_id"] == "b"  # nothing moved


def _promote_storm(store, uris: list[str], rounds: int = 8) -> None:
    """``rounds`` promotes of alternating bundles at once, with a reader checking the mirror
    the whole time: whenever it finds the same manifest before and after reading the files,
    the files are that manifest's."""
    registry = BundleRegistry(store)
    stop = threading.Event()
    mixes: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            try:
                before = store.get_bytes("coreml/manifest.json")
                files = json.loads(before)["files"]
                digests = {n: hashlib.sha256(store.get_bytes(f"coreml/{n}")).hexdigest()
                           for n in files}  # fmt: skip
                after = store.get_bytes("coreml/manifest.json")
            except FileNotFoundError:
                continue  # in flux: no manifest, or a file went away mid-read
            if before == after and any(digests[n] != m["sha256"] for n, m in files.items()):
                mixes.append(json.loads(before)["export_id"])

    watcher = threading.Thread(target=reader)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=rounds) as pool:
            list(pool.map(lambda i: registry.promote(uris[i % len(uris)]), range(rounds)))
    finally:
        stop.set()
        watcher.join()
    assert not mixes, f"a reader saw a mirror mixing two bundles under manifest {mixes[:3]}"
    _mirror_is_active(store)
    assert not store.exists(LOCK_KEY)


def test_concurrent_promotes_leave_one_bundle_in_the_mirror(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    uris = [_bundle(store, "a", weights=2000, extra="model.onnx"),
            _bundle(store, "b", weights=3000)]  # fmt: skip
    for _ in range(3):
        _promote_storm(store, uris)


@pytest.mark.aws
def test_concurrent_promotes_on_s3(aws_env: str, unique_name: str) -> None:
    import boto3

    boto3.client("s3").create_bucket(Bucket=unique_name)
    store = open_object_store(f"s3://{unique_name}")
    assert store.create_if_absent("probe", b"1") and not store.create_if_absent("probe", b"2")
    uris = [_bundle(store, "a", weights=50, extra="model.onnx"), _bundle(store, "b", weights=80)]
    _promote_storm(store, uris, rounds=4)


def test_a_lock_left_by_a_dead_promote_is_taken_over(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    old = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    store.put_bytes(LOCK_KEY, json.dumps({"owner": "dead", "acquired_at": old}).encode())
    with promote_lock(store, wait=1):
        assert json.loads(store.get_bytes(LOCK_KEY))["owner"] != "dead"
    assert not store.exists(LOCK_KEY)
    fresh = datetime.now(UTC).isoformat()
    store.put_bytes(LOCK_KEY, json.dumps({"owner": "alive", "acquired_at": fresh}).encode())
    with (
        pytest.raises(CheckpointError, match="another promote holds"),
        promote_lock(store, wait=0.3),
    ):
        pass
