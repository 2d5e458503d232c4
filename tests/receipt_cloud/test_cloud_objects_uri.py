"""URI handling: open_object_store / resolve_uri, unknown schemes, S3-only behaviour on moto."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from receipt_cloud.errors import (
    BucketNotFoundError,
    InvalidUriError,
    UnknownSchemeError,
    UnsafeKeyError,
)
from receipt_cloud.objects import (
    LocalObjectStore,
    bucket_uri,
    is_remote_uri,
    open_object_store,
    resolve_uri,
)


def test_plain_and_file_uris_open_the_same_directory(tmp_path: Path) -> None:
    plain = open_object_store(str(tmp_path / "objs"))
    as_uri = open_object_store((tmp_path / "objs").as_uri())
    assert isinstance(plain, LocalObjectStore)
    plain.put_bytes("k.txt", b"v")
    assert as_uri.get_bytes("k.txt") == b"v"
    localhost = open_object_store(f"file://localhost{tmp_path / 'objs'}")
    assert localhost.get_bytes("k.txt") == b"v"


def test_relative_path_is_anchored_at_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_object_store("rel/dir")
    store.put_bytes("a.txt", b"a")
    assert (tmp_path / "rel" / "dir" / "a.txt").read_bytes() == b"a"


def test_resolve_local_path_roots_store_at_parent(tmp_path: Path) -> None:
    target = tmp_path / "d" / "file name.json"
    store, key = resolve_uri(str(target))
    assert key == "file name.json"
    store.put_bytes(key, b"{}")
    assert target.read_bytes() == b"{}"
    store2, key2 = resolve_uri(target.as_uri())
    assert (store2.get_bytes(key2), key2) == (b"{}", "file name.json")


def test_resolve_refuses_directories(tmp_path: Path) -> None:
    with pytest.raises(InvalidUriError, match="directory"):
        resolve_uri(str(tmp_path) + "/")
    with pytest.raises(InvalidUriError, match="names no object"):
        resolve_uri("s3://bucket")
    with pytest.raises(InvalidUriError, match="no bucket"):
        open_object_store("s3:///key")


def test_unknown_scheme_is_named_with_the_known_ones() -> None:
    with pytest.raises(UnknownSchemeError) as info:
        open_object_store("gs://bucket/key")
    message = str(info.value)
    assert "'gs'" in message and "s3://" in message and "file://" in message
    with pytest.raises(UnknownSchemeError):
        resolve_uri("azure://c/k")


def test_file_uri_with_a_remote_host_is_refused() -> None:
    with pytest.raises(InvalidUriError, match="host"):
        open_object_store("file://server/share/dir")


@pytest.mark.aws
def test_s3_uri_round_trip_and_prefix_mapping(aws_env: str, unique_name: str) -> None:
    client = boto3.client("s3")
    client.create_bucket(Bucket=unique_name)
    store = open_object_store(f"s3://{unique_name}/runs/")
    store.put_bytes("job-1/metrics.json", b"{}", content_type="application/json")
    head = client.head_object(Bucket=unique_name, Key="runs/job-1/metrics.json")
    assert head["ContentType"] == "application/json"
    assert store.uri("job-1/metrics.json") == f"s3://{unique_name}/runs/job-1/metrics.json"
    single, key = resolve_uri(f"s3://{unique_name}/runs/job-1/metrics.json")
    assert key == "runs/job-1/metrics.json"
    assert single.get_bytes(key) == b"{}"
    # Special characters stay in the key rather than being read as URL parts.
    store.put_bytes("odd#name?.txt", b"odd")
    odd_store, odd_key = resolve_uri(store.uri("odd#name?.txt"))
    assert odd_store.get_bytes(odd_key) == b"odd"


@pytest.mark.aws
def test_missing_bucket_is_named(aws_env: str, unique_name: str, tmp_path: Path) -> None:
    store = open_object_store(f"s3://{unique_name}-absent/prefix")
    source = tmp_path / "f.bin"
    source.write_bytes(b"x")
    calls = [
        lambda: store.get_bytes("k"),
        lambda: store.put_bytes("k", b"x"),
        lambda: store.put_file("k", source),
        lambda: store.exists("k"),
        lambda: store.size("k"),
        lambda: list(store.list()),
        lambda: store.get_file("k", tmp_path / "out.bin"),
    ]
    for call in calls:
        with pytest.raises(BucketNotFoundError) as info:
            call()
        assert f"{unique_name}-absent" in str(info.value)


@pytest.mark.aws
def test_download_dir_refuses_hostile_keys(aws_env: str, unique_name: str, tmp_path: Path) -> None:
    client = boto3.client("s3")
    client.create_bucket(Bucket=unique_name)
    client.put_object(Bucket=unique_name, Key="b/../../escaped.txt", Body=b"evil")
    store = open_object_store(f"s3://{unique_name}")
    with pytest.raises(UnsafeKeyError):
        store.download_dir("b", tmp_path / "dl")
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path.parent / "escaped.txt").exists()


@pytest.mark.aws
def test_download_dir_skips_folder_markers(aws_env: str, unique_name: str, tmp_path: Path) -> None:
    client = boto3.client("s3")
    client.create_bucket(Bucket=unique_name)
    client.put_object(Bucket=unique_name, Key="b/sub/", Body=b"")
    client.put_object(Bucket=unique_name, Key="b/sub/f.txt", Body=b"f")
    paths = open_object_store(f"s3://{unique_name}").download_dir("b", tmp_path / "dl")
    assert paths == [tmp_path / "dl" / "sub" / "f.txt"]


@pytest.mark.parametrize(
    ("uri", "remote"),
    [
        ("s3://bucket/runs/job", True),
        ("S3://bucket/key", True),
        ("gs://bucket/key", True),
        ("file:///abs/dir", False),
        ("FILE:///abs/dir", False),
        ("/abs/dir", False),
        ("relative/dir", False),
        ("C:/Users/x", False),
        (Path("/abs/dir"), False),
    ],
)
def test_is_remote_uri(uri: str | Path, remote: bool) -> None:
    """The one local-vs-remote rule: only a scheme other than file:// is remote."""
    assert is_remote_uri(uri) is remote


@pytest.mark.parametrize(
    ("name", "uri"),
    [("runs-bucket", "s3://runs-bucket"), ("s3://b/p", "s3://b/p"), ("file:///d", "file:///d")],
)
def test_bucket_uri_turns_bare_names_into_s3_uris(name: str, uri: str) -> None:
    assert bucket_uri(name) == uri
