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
from receipt_layoutlm.bundles.manifest import write_manifest
from receipt_layoutlm.bundles.promote_lock import LOCK_KEY, promote_lock
from receipt_layoutlm.bundles.registry import BundleRegistry
from receipt_layoutlm.cli import main
from receipt_layoutlm.errors import CheckpointError


def _bundle(store, export_id: str, *, weights: int, extra: str | None = None,
            job: str = "layoutlm-h") -> str:
    """A bundle of training job ``job`` under ``bundles/<job>/<export_id>`` of ``store`` (made
    on disk, then uploaded when the store is not local); returns its URI."""
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
        "export_id": export_id, "training_job": {"job_id": job}, "quantize": "float16",
        "parity": {"passed": True, "results": []},
    })  # fmt: skip
    prefix = f"bundles/{job}/{export_id}"
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
    crashes: list[BaseException] = []

    def read_until_stopped() -> None:
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

    def reader() -> None:
        # A reader that dies (a torn manifest, say) would otherwise only warn and see no mix.
        try:
            read_until_stopped()
        except BaseException as exc:
            crashes.append(exc)

    watcher = threading.Thread(target=reader)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=rounds) as pool:
            list(pool.map(lambda i: registry.promote(uris[i % len(uris)]), range(rounds)))
    finally:
        stop.set()
        watcher.join()
    assert not crashes, f"the reader stopped on {crashes[0]!r}"
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
@pytest.mark.slow  # a promote storm over the moto server; the local storm stays in test-fast
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


def _jobs(tmp_path: Path, **jobs: tuple[float | None, dict[str, str]]):
    """A local record store holding training Jobs ``name: (best_f1, tags)``."""
    import uuid

    from receipt_dynamo import Job, JobStatus, open_store

    store = open_store("sqlite", path=tmp_path / "receipts.sqlite3")
    for name, (f1, tags) in jobs.items():
        results = {} if f1 is None else {"best_f1": f1}
        store.add_job(Job(job_id=str(uuid.uuid4()), name=name, status=JobStatus.SUCCEEDED,
                          tags=tags, results=results))  # fmt: skip
    return store


def test_rollout_policies(tmp_path: Path) -> None:
    from receipt_layoutlm.bundles.rollout import apply_rollout

    objects = LocalObjectStore(tmp_path / "objects")
    registry = BundleRegistry(objects)
    store = _jobs(tmp_path, **{"layoutlm-a": (0.5, {}), "layoutlm-b": (0.4, {}),
                               "layoutlm-c": (0.4, {"coreml-rollout": "on-pass"}),
                               "layoutlm-d": (0.9, {"coreml-rollout": "never"}),
                               "layoutlm-e": (None, {}),
                               "layoutlm-f": (0.9, {"coreml-rollout": "sometimes"})})  # fmt: skip
    uri = {name: _bundle(objects, name, weights=2, job=f"layoutlm-{name}") for name in "abcdef"}

    def roll(name: str, default: str = "if-better") -> str:
        return apply_rollout(store=store, registry=registry, bundle_uri=uri[name],
                             job_name=f"layoutlm-{name}", default=default).text()  # fmt: skip

    assert roll("a").startswith("promoted: if-better: no bundle is active yet")
    assert roll("b") == ("not promoted: dev best_f1 0.4000 of layoutlm-b is worse than 0.5000 "
                         "of the active bundle's job layoutlm-a")  # fmt: skip
    assert roll("b", default="never").startswith("not promoted: rollout policy never (--rollout)")
    assert roll("d").startswith("not promoted: rollout policy never (tag coreml-rollout)")
    assert roll("e").startswith("not promoted: layoutlm-e has no recorded dev metric")
    assert "is not one of never, on-pass, if-better" in roll("f")
    assert registry.active()["export_id"] == "a"
    assert roll("c").startswith("promoted: on-pass: it passed its parity gate")
    assert registry.active()["export_id"] == "c"
    assert roll("a").startswith("promoted: if-better: dev best_f1 0.5000 >= 0.4000")


def test_if_better_compares_only_the_same_labels(tmp_path: Path) -> None:
    from receipt_layoutlm.bundles.rollout import apply_rollout

    objects = LocalObjectStore(tmp_path / "objects")
    registry = BundleRegistry(objects)
    store = _jobs(tmp_path, **{"layoutlm-a": (0.5, {}), "layoutlm-b": (0.9, {})})
    first = _bundle(objects, "a", weights=2, job="layoutlm-a")
    second = _bundle(objects, "b", weights=2, job="layoutlm-b")
    local = Path(objects.root) / "bundles/layoutlm-b/b"
    labels = ["O", "B-TOTAL", "I-TOTAL", "B-DATE", "I-DATE"]
    (local / "label_map.json").write_text(json.dumps({"labels": labels}))
    manifest = json.loads((local / "manifest.json").read_text())
    (local / "manifest.json").unlink()
    write_manifest(local, {k: v for k, v in manifest.items() if k != "files"})  # re-signed
    apply_rollout(store=store, registry=registry, bundle_uri=first, job_name="layoutlm-a")
    decision = apply_rollout(store=store, registry=registry, bundle_uri=second,
                             job_name="layoutlm-b")  # fmt: skip
    assert not decision.promoted and "label set (5 tags) differs" in decision.reason
