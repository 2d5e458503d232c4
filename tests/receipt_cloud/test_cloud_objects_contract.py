"""One contract for every ObjectStore backend: a local directory and S3 on the moto server."""

from __future__ import annotations

import os
from pathlib import Path

import boto3
import pytest

from receipt_cloud.errors import ObjectNotFoundError
from receipt_cloud.objects import LocalObjectStore, ObjectStore, resolve_uri


def test_put_get_bytes_round_trip_and_overwrite(object_store: ObjectStore) -> None:
    payload = os.urandom(4096)
    object_store.put_bytes("a/b/c.bin", payload, content_type="application/octet-stream")
    assert object_store.get_bytes("a/b/c.bin") == payload
    object_store.put_bytes("a/b/c.bin", b"second")
    assert object_store.get_bytes("a/b/c.bin") == b"second"
    assert object_store.size("a/b/c.bin") == len(b"second")


def test_missing_objects_raise_not_found_naming_the_uri(
    object_store: ObjectStore, tmp_path: Path
) -> None:
    expected_uri = object_store.uri("nope/missing.json")
    calls = [
        lambda: object_store.get_bytes("nope/missing.json"),
        lambda: object_store.size("nope/missing.json"),
        lambda: object_store.get_file("nope/missing.json", tmp_path / "out.json"),
        lambda: object_store.copy("nope/missing.json", "dst.json"),
    ]
    for call in calls:
        with pytest.raises(ObjectNotFoundError) as info:
            call()
        assert expected_uri in str(info.value)
        assert isinstance(info.value, FileNotFoundError)
    assert not (tmp_path / "out.json").exists()
    assert not object_store.exists("dst.json")


def test_exists_only_for_objects_not_prefixes(object_store: ObjectStore) -> None:
    assert not object_store.exists("runs/job-1/model.bin")
    object_store.put_bytes("runs/job-1/model.bin", b"m")
    assert object_store.exists("runs/job-1/model.bin")
    assert not object_store.exists("runs/job-1")
    assert not object_store.exists("runs")


def test_list_is_sorted_filtered_by_prefix_and_excludes_outside(object_store: ObjectStore) -> None:
    keys = ["runs/b/2.txt", "runs/a/1.txt", "runs/ab/3.txt", "bundles/x.json", "top.txt"]
    for key in keys:
        object_store.put_bytes(key, key.encode())
    assert list(object_store.list()) == sorted(keys)
    assert list(object_store.list("runs/")) == sorted(k for k in keys if k.startswith("runs/"))
    assert list(object_store.list("runs/a")) == ["runs/a/1.txt", "runs/ab/3.txt"]
    assert list(object_store.list("runs/a/")) == ["runs/a/1.txt"]
    assert list(object_store.list("nothing/")) == []


def test_list_follows_every_page(object_store: ObjectStore) -> None:
    keys = [f"many/{i:03d}.txt" for i in range(25)]
    for key in keys:
        object_store.put_bytes(key, b"x")
    if hasattr(object_store, "list_page_size"):
        object_store.list_page_size = 4  # 25 keys -> 7 pages
    assert list(object_store.list("many/")) == keys


def test_delete_removes_and_missing_delete_is_a_no_op(object_store: ObjectStore) -> None:
    object_store.put_bytes("d/x.txt", b"x")
    object_store.put_bytes("d/y.txt", b"y")
    object_store.delete("d/x.txt")
    assert not object_store.exists("d/x.txt")
    assert list(object_store.list("d/")) == ["d/y.txt"]
    object_store.delete("d/x.txt")
    object_store.delete("never/there.txt")
    assert object_store.get_bytes("d/y.txt") == b"y"


def test_copy(object_store: ObjectStore) -> None:
    object_store.put_bytes("src/one.bin", b"payload-1")
    object_store.copy("src/one.bin", "dst/deep/one-copy.bin")
    assert object_store.get_bytes("dst/deep/one-copy.bin") == b"payload-1"
    assert object_store.get_bytes("src/one.bin") == b"payload-1"


def test_put_file_get_file(object_store: ObjectStore, tmp_path: Path) -> None:
    source = tmp_path / "in" / "weights.bin"
    source.parent.mkdir()
    source.write_bytes(os.urandom(300_000))
    object_store.put_file("models/weights.bin", source)
    dest = object_store.get_file("models/weights.bin", tmp_path / "out" / "nested" / "w.bin")
    assert dest == tmp_path / "out" / "nested" / "w.bin"
    assert dest.read_bytes() == source.read_bytes()
    assert object_store.size("models/weights.bin") == source.stat().st_size


def test_put_file_refuses_missing_local_file(object_store: ObjectStore, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        object_store.put_file("k.bin", tmp_path / "absent.bin")


def test_upload_dir_download_dir_round_trip(object_store: ObjectStore, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    files = {
        "manifest.json": b'{"a": 1}',
        "LayoutLM.mlpackage/Manifest.json": b"{}",
        "LayoutLM.mlpackage/Data/weights/weight.bin": os.urandom(1000),
    }
    for rel, data in files.items():
        (bundle / rel).parent.mkdir(parents=True, exist_ok=True)
        (bundle / rel).write_bytes(data)
    # A sibling prefix sharing the first characters must not leak into the download.
    object_store.put_bytes("bundles/exp-10/stray.txt", b"stray")

    keys = object_store.upload_dir(bundle, "bundles/exp-1")
    assert sorted(keys) == sorted(f"bundles/exp-1/{rel}" for rel in files)

    out = tmp_path / "download"
    paths = object_store.download_dir("bundles/exp-1", out)
    assert sorted(p.relative_to(out).as_posix() for p in paths) == sorted(files)
    for rel, data in files.items():
        assert (out / rel).read_bytes() == data
    assert not (out / "stray.txt").exists()


def test_upload_dir_skips_symlinks_that_leave_the_directory(
    object_store: ObjectStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "model.bin").write_bytes(b"weights")
    (bundle / "alias.bin").symlink_to(bundle / "model.bin")  # inside: uploaded
    secret = tmp_path / "credentials"
    secret.write_text("aws_secret_access_key = x")
    (bundle / "creds").symlink_to(secret)  # outside: skipped
    with caplog.at_level("WARNING", logger="receipt_cloud.objects._base"):
        keys = object_store.upload_dir(bundle, "bundles/exp-2")
    assert sorted(keys) == ["bundles/exp-2/alias.bin", "bundles/exp-2/model.bin"]
    assert not object_store.exists("bundles/exp-2/creds")
    assert "creds" in caplog.text and "outside" in caplog.text


def _bundle_dir(root: Path) -> Path:
    # "a_manifest.json" sorts first, so only commit_last can put it at the end.
    for rel in ("a_manifest.json", "model.onnx", "LayoutLM.mlpackage/Data/weight.bin"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(rel.encode())
    return root


def test_upload_dir_commit_last_goes_up_after_every_other_file(
    object_store: ObjectStore, tmp_path: Path
) -> None:
    bundle = _bundle_dir(tmp_path / "bundle")
    keys = object_store.upload_dir(bundle, "bundles/exp-3", commit_last="a_manifest.json")
    assert keys[-1] == "bundles/exp-3/a_manifest.json"
    assert sorted(keys) == sorted(object_store.list("bundles/exp-3/"))
    assert object_store.get_bytes("bundles/exp-3/a_manifest.json") == b"a_manifest.json"


def test_upload_dir_failing_midway_never_writes_the_commit_file(
    object_store: ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = _bundle_dir(tmp_path / "bundle")
    real_put_file = object_store.put_file

    def put_file_failing_on_onnx(key: str, path: str | os.PathLike[str]) -> None:
        if key.endswith("model.onnx"):
            raise OSError("disk went away")
        real_put_file(key, path)

    monkeypatch.setattr(object_store, "put_file", put_file_failing_on_onnx)
    with pytest.raises(OSError, match="disk went away"):
        object_store.upload_dir(bundle, "bundles/exp-4", commit_last="a_manifest.json")
    assert not object_store.exists("bundles/exp-4/a_manifest.json")


def test_upload_dir_refuses_a_missing_commit_file_before_uploading(
    object_store: ObjectStore, tmp_path: Path
) -> None:
    bundle = _bundle_dir(tmp_path / "bundle")
    with pytest.raises(FileNotFoundError, match=r"commit_last 'manifest\.json'"):
        object_store.upload_dir(bundle, "bundles/exp-5", commit_last="manifest.json")
    assert list(object_store.list("bundles/exp-5/")) == []


def test_uri_resolves_back_to_the_same_object(object_store: ObjectStore) -> None:
    object_store.put_bytes("runs/job 1/metrics.json", b'{"f1": 0.5}')
    store, key = resolve_uri(object_store.uri("runs/job 1/metrics.json"))
    assert store.get_bytes(key) == b'{"f1": 0.5}'
    assert store.exists(key)


def test_location_names_the_object_as_records_do(object_store: ObjectStore) -> None:
    from receipt_cloud.ocr_submit import open_location

    object_store.put_bytes("raw/photo.jpg", b"pixels")
    bucket, key = object_store.location("raw/photo.jpg")
    # A recorded (s3_bucket, s3_key) opens a store whose key is the recorded key.
    assert open_location(bucket).get_bytes(key) == b"pixels"
    if isinstance(object_store, LocalObjectStore):
        assert (bucket, key) == (str(object_store.root), "raw/photo.jpg")
    else:
        assert boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read() == b"pixels"
        assert key == "root/raw/photo.jpg"
