"""Local directory store: keys confined to the root, atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from receipt_cloud.errors import UnsafeKeyError
from receipt_cloud.objects import LocalObjectStore


@pytest.fixture
def layout(tmp_path: Path) -> tuple[LocalObjectStore, Path]:
    """A store at tmp/root and an ``outside`` directory next to it that must stay empty."""
    outside = tmp_path / "outside"
    outside.mkdir()
    return LocalObjectStore(tmp_path / "root"), outside


def _all_operations(store: LocalObjectStore, key: str, tmp_path: Path) -> list:
    source = tmp_path / "src.bin"
    source.write_bytes(b"evil")
    return [
        lambda: store.put_bytes(key, b"evil"),
        lambda: store.put_file(key, source),
        lambda: store.get_bytes(key),
        lambda: store.get_file(key, tmp_path / "dl.bin"),
        lambda: store.exists(key),
        lambda: store.size(key),
        lambda: store.delete(key),
        lambda: store.copy(key, "inside.bin"),
        lambda: store.copy("inside.bin", key),
    ]


@pytest.mark.parametrize(
    "key",
    ["../x", "../outside/x", "a/../../outside/x", "/etc/passwd", "./x", "a//b", "", "a/\x00"],
)
def test_unsafe_keys_are_refused_everywhere(
    layout: tuple[LocalObjectStore, Path], tmp_path: Path, key: str
) -> None:
    store, outside = layout
    store.put_bytes("inside.bin", b"ok")
    for operation in _all_operations(store, key, tmp_path):
        with pytest.raises(UnsafeKeyError) as info:
            operation()
        assert repr(key) in str(info.value)
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "x").exists()
    assert Path("/etc/passwd").read_bytes() != b"evil"


def test_symlinked_directory_pointing_outside_is_refused(
    layout: tuple[LocalObjectStore, Path], tmp_path: Path
) -> None:
    store, outside = layout
    store.put_bytes("inside.bin", b"ok")
    (store.root / "escape").symlink_to(outside, target_is_directory=True)
    (outside / "secret.txt").write_bytes(b"secret")
    for operation in _all_operations(store, "escape/new.txt", tmp_path):
        with pytest.raises(UnsafeKeyError, match="symlink"):
            operation()
    with pytest.raises(UnsafeKeyError):
        store.get_bytes("escape/secret.txt")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert list(store.list("escape/")) == []


def test_symlinked_file_pointing_outside_is_refused_and_not_listed(
    layout: tuple[LocalObjectStore, Path],
) -> None:
    store, outside = layout
    (outside / "target.txt").write_bytes(b"original")
    store.put_bytes("real.txt", b"r")
    (store.root / "link.txt").symlink_to(outside / "target.txt")
    with pytest.raises(UnsafeKeyError):
        store.put_bytes("link.txt", b"overwrite")
    with pytest.raises(UnsafeKeyError):
        store.get_bytes("link.txt")
    assert (outside / "target.txt").read_bytes() == b"original"
    assert list(store.list()) == ["real.txt"]


def test_symlink_inside_the_root_is_followed(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "root")
    store.put_bytes("real/a.txt", b"a")
    (store.root / "alias").symlink_to(store.root / "real", target_is_directory=True)
    assert store.get_bytes("alias/a.txt") == b"a"


def test_root_reached_through_a_symlink_works(tmp_path: Path) -> None:
    (tmp_path / "real-root").mkdir()
    (tmp_path / "link-root").symlink_to(tmp_path / "real-root", target_is_directory=True)
    store = LocalObjectStore(tmp_path / "link-root")
    store.put_bytes("k/v.txt", b"v")
    assert (tmp_path / "real-root" / "k" / "v.txt").read_bytes() == b"v"
    assert list(store.list()) == ["k/v.txt"]


def test_failed_write_keeps_old_object_and_leaves_no_temp_file(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "root")
    store.put_bytes("a/obj.bin", b"old")
    with pytest.raises(TypeError):
        store.put_bytes("a/obj.bin", "not bytes")  # type: ignore[arg-type]
    assert store.get_bytes("a/obj.bin") == b"old"
    assert sorted(os.listdir(store.root / "a")) == ["obj.bin"]


def test_delete_prunes_empty_directories_but_not_the_root(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "root")
    store.put_bytes("a/b/c/obj.bin", b"x")
    store.put_bytes("a/keep.bin", b"k")
    store.delete("a/b/c/obj.bin")
    assert not (store.root / "a" / "b").exists()
    assert (store.root / "a" / "keep.bin").exists()
    store.delete("a/keep.bin")
    assert store.root.is_dir()
    assert list(store.root.iterdir()) == []


def test_uri_is_a_file_uri_of_the_object(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "root")
    assert store.uri("a/b.txt") == (tmp_path / "root" / "a" / "b.txt").as_uri()
    assert store.uri() == (tmp_path / "root").as_uri()
