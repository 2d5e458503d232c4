"""Corpus rows: hostile keys and races on the local object store (``receipt_cloud.objects``)."""

from __future__ import annotations

import os
from typing import Any
from unittest import mock

from bad_input_harness import Case, Workspace

from receipt_cloud.objects import local as local_objects
from receipt_cloud.objects.local import LocalObjectStore

G = "objects"


def objects(ws: Workspace) -> LocalObjectStore:
    return LocalObjectStore(ws.root / "objects")


def seeded(ws: Workspace) -> None:
    objects(ws).put_bytes("runs/job/a.txt", b"precious")


def only_seed_left(ws: Workspace, _before: Any) -> None:
    """The store still holds exactly the seeded object, intact, and no temp file."""
    store = objects(ws)
    assert list(store.list("")) == ["runs/job/a.txt"]
    assert store.get_bytes("runs/job/a.txt") == b"precious"
    leftovers = [n for _, _, files in os.walk(store.root) for n in files if n != "a.txt"]
    assert leftovers == []


def put(key: str) -> Any:
    return lambda ws: objects(ws).put_bytes(key, b"new")


def refused(name: str, command: Any, message: str) -> Case:
    return Case(name=name, group=G, setup=seeded, command=command, exit_code=2,
                message=message, check=only_seed_left)


def put_while_delete_prunes_its_folder(ws: Workspace) -> str:
    """Another process's delete() prunes the (empty) folder just after this put made it, before
    the put creates its temp file there: the put must still land."""
    store = objects(ws)
    real = local_objects._replace_atomically
    pruned = []

    def pruned_first(path: Any, write: Any) -> None:
        if not pruned:
            pruned.append(path.parent)
            # The other process deletes its last object there, pruning the folder we just made.
            store.delete("hot/dir/other")
            assert not path.parent.exists()
        real(path, write)

    with mock.patch.object(local_objects, "_replace_atomically", pruned_first):
        store.put_bytes("hot/dir/k", b"x")
    return f"stored {store.get_bytes('hot/dir/k')!r} after the folder was pruned once"


def symlink_out(ws: Workspace) -> None:
    seeded(ws)
    outside = ws.root / "outside"
    outside.mkdir()
    os.symlink(outside, objects(ws).root / "runs" / "link")


def nothing_outside(ws: Workspace, before: Any) -> None:
    assert list((ws.root / "outside").iterdir()) == [], "a file was written outside the store"
    only_seed_left(ws, before)


CASES = [
    refused("key_with_dotdot", put("runs/../../etc/x"),
            r"error: object key 'runs/\.\./\.\./etc/x' is refused: it has a '\.\.' segment; .*"),
    refused("key_absolute", put("/etc/passwd"), r"error: object key '/etc/passwd' is refused: "
            r"it is absolute; .*"),
    refused("key_with_nul", put("runs/a\x00b"),
            r"error: object key 'runs/a\\x00b' is refused: it contains a NUL byte; .*"),
    refused("key_empty_segment", put("runs//x"),
            r"error: object key 'runs//x' is refused: it has an empty segment; .*"),
    refused("key_empty", put(""), r"error: object key '' is refused: it is empty; .*"),
    Case(name="key_through_symlink_out", group=G, setup=symlink_out,
         command=put("runs/link/x"), exit_code=2,
         message=r"error: object key 'runs/link/x' is refused: it resolves outside the root "
                 r"via a symlink; .*",
         check=nothing_outside),
    refused("key_segment_longer_than_filesystem_allows", put("runs/" + "k" * 300),
            r"error: object key 'runs/k+' cannot be written under .*: a '/'-separated part is "
            r"longer than 255 bytes, .*"),
    refused("put_under_an_existing_object", put("runs/job/a.txt/child"),
            r"error: object key 'runs/job/a\.txt/child' cannot be written under .*: a leading "
            r"part of it is an existing object, not a folder"),
    refused("put_onto_a_folder_of_objects", put("runs/job"),
            r"error: object key 'runs/job' cannot be written under .*: it names a folder that "
            r"holds other objects"),
    refused("get_missing_object", lambda ws: objects(ws).get_bytes("runs/nope"),
            r"error: object not found: file://\S+/runs/nope; check the key or upload it first"),
    refused("copy_to_unsafe_key", lambda ws: objects(ws).copy("runs/job/a.txt", "../x"),
            r"error: object key '\.\./x' is refused: it has a '\.\.' segment; .*"),
    Case(name="put_while_a_delete_prunes_the_folder", group=G,
         command=put_while_delete_prunes_its_folder, exit_code=0,
         message=r"stored b'x' after the folder was pruned once", check=lambda ws, _b: None),
]
