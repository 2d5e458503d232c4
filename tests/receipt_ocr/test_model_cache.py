"""The model cache follows ``bundles/active.json``: download, verify against the manifest, swap
atomically, pick up a new promotion between jobs, never serve a half-downloaded or tampered
bundle (the previous one keeps serving and the log says why)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from ocr_support import copy_bundle

from receipt_cloud.objects import open_object_store
from receipt_layoutlm.bundles import BundleRegistry
from receipt_layoutlm.errors import CheckpointError
from receipt_ocr.errors import ModelCacheError
from receipt_ocr.model_cache import ModelCache

pytestmark = pytest.mark.slow
JOB = "layoutlm-ocr-tiny"


@pytest.fixture
def registry(tmp_path: Path) -> BundleRegistry:
    return BundleRegistry(open_object_store(str(tmp_path / "objects")))


def _publish(registry: BundleRegistry, tiny_bundle, export_id: str) -> Path:
    """A copy of the tiny bundle under ``bundles/<job>/<export_id>``, promoted."""
    target = Path(registry.store.root) / "bundles" / JOB / export_id
    copy_bundle(tiny_bundle.bundle_dir, target, export_id)
    registry.promote(str(target))
    return target


def test_no_promotion_is_a_clear_error(registry, tmp_path: Path) -> None:
    with pytest.raises(ModelCacheError, match=r"no bundle has been promoted yet.*promote"):
        ModelCache(registry, tmp_path / "cache").current()


def test_downloads_verifies_serves_and_follows_promotions(
    registry, tiny_bundle, tmp_path: Path, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="receipt_ocr.model_cache")
    _publish(registry, tiny_bundle, "export-a")
    cache = ModelCache(registry, tmp_path / "cache")
    first = cache.current()
    assert first.version == f"{JOB}/export-a" and first.runtime_name == "onnx-int8"
    assert first.path.parent == tmp_path / "cache" and first.path.is_dir()
    assert cache.current() is first  # same pointer: nothing reloaded
    assert not list((tmp_path / "cache").glob(".partial-*"))

    _publish(registry, tiny_bundle, "export-b")  # promoted while the worker runs
    second = cache.current()
    assert second.version == f"{JOB}/export-b" and second.path != first.path
    assert "replacing layoutlm-ocr-tiny/export-a" in caplog.text


@pytest.mark.parametrize("damage", ["tampered", "half_downloaded", "unlisted_file"])
def test_bad_bundle_is_never_served(registry, tiny_bundle, tmp_path: Path, caplog,
                                    damage: str) -> None:
    _publish(registry, tiny_bundle, "export-good")
    cache = ModelCache(registry, tmp_path / "cache")
    good = cache.current()
    bad = _publish(registry, tiny_bundle, "export-bad")
    if damage == "tampered":
        data = bytearray((bad / "model.int8.onnx").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (bad / "model.int8.onnx").write_bytes(bytes(data))
        reason = "model.int8.onnx sha256 differs from the manifest"
    elif damage == "half_downloaded":
        (bad / "vocab.txt").unlink()
        reason = "vocab.txt is missing"
    else:
        (bad / "payload.bin").write_bytes(b"not from the export")
        reason = "payload.bin is not listed in the manifest"
    caplog.set_level(logging.WARNING, logger="receipt_ocr.model_cache")
    assert cache.current() is good  # the previous model keeps serving
    assert "refusing bundle" in caplog.text and reason in caplog.text
    assert f"still serving {JOB}/export-good" in caplog.text
    assert not list((tmp_path / "cache").glob(".partial-*"))  # nothing half-written stays
    assert len([p for p in (tmp_path / "cache").iterdir() if p.is_dir()]) == 1  # one bundle


def test_a_cached_copy_changed_on_disk_is_fetched_again(registry, tiny_bundle,
                                                        tmp_path: Path) -> None:
    _publish(registry, tiny_bundle, "export-a")
    first = ModelCache(registry, tmp_path / "cache").current()
    (first.path / "vocab.txt").write_text("[PAD]\n")  # tampered inside the cache
    again = ModelCache(registry, tmp_path / "cache").current()  # a restarted worker
    assert again.version == f"{JOB}/export-a"
    assert (again.path / "vocab.txt").read_bytes() == (
        tiny_bundle.bundle_dir / "vocab.txt"
    ).read_bytes()


def test_a_bad_first_bundle_leaves_nothing_to_serve(registry, tiny_bundle,
                                                    tmp_path: Path) -> None:
    bad = _publish(registry, tiny_bundle, "export-bad")
    (bad / "label_map.json").unlink()
    with pytest.raises(ModelCacheError, match=r"label_map\.json is missing"):
        ModelCache(registry, tmp_path / "cache").current()


def test_layoutlm_model_names_a_cache_folder(registry, tiny_bundle, tmp_path: Path) -> None:
    """The seed's ``--layoutlm-model ~/.models/layoutlm``: the cache's current bundle serves,
    verified, without reading any pointer; a tampered copy is refused."""
    from receipt_ocr.model_cache import FixedModel

    _publish(registry, tiny_bundle, "export-a")
    _publish(registry, tiny_bundle, "export-b")
    cache = ModelCache(registry, tmp_path / "cache")
    served = cache.current()
    fixed = FixedModel(tmp_path / "cache").current()
    assert fixed.version == served.version == f"{JOB}/export-b"
    assert fixed.manifest_sha256 == served.manifest_sha256 and fixed.path == served.path
    (served.path / "vocab.txt").write_text("tampered\n")
    with pytest.raises(CheckpointError, match=r"vocab\.txt"):
        FixedModel(tmp_path / "cache").current()


def test_cache_folder_defaults_to_the_home_folder(tmp_path: Path) -> None:
    from receipt_ocr.model import cache_path

    assert cache_path(None, {}) == Path.home() / ".models" / "layoutlm"
    assert cache_path(None, {"LAYOUTLM_CACHE_PATH": str(tmp_path)}) == tmp_path
    assert cache_path("~/x", {"LAYOUTLM_CACHE_PATH": str(tmp_path)}) == Path.home() / "x"


def test_process_local_image_caches_in_the_home_folder(tiny_bundle, tmp_path: Path,
                                                       monkeypatch) -> None:
    """The active bundle goes to ~/.models/layoutlm, not to ./.models of wherever it runs."""
    from image_factory import blank

    from receipt_ocr.cli import main

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LAYOUTLM_CACHE_PATH", raising=False)
    work = tmp_path / "photos"
    work.mkdir()
    monkeypatch.chdir(work)
    (work / "r.jpg").write_bytes(blank())
    assert main(["--process-local-image", "r.jpg", "--output-dir", "out", "--stub-ocr",
                 "--bundles-uri", str(tiny_bundle.objects_root),
                 "--data-dir", str(tmp_path / "data")]) == 0  # fmt: skip
    assert sorted(p.name for p in work.iterdir()) == ["out", "r.jpg"]
    cached = tmp_path / "home" / ".models" / "layoutlm"
    assert (cached / "current.json").is_file() and len(list(cached.glob("?" * 16))) == 1
