"""The ``ObjectStore`` interface shared by the local-directory and S3 backends."""

from __future__ import annotations

import abc
import logging
import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from receipt_cloud.errors import UnsafeKeyError

logger = logging.getLogger(__name__)

def join_key(prefix: str, name: str) -> str:
    """``prefix`` + ``/`` + ``name``, with no doubled or leading slash when the prefix is empty."""
    prefix = prefix.strip("/")
    name = name.lstrip("/")
    return f"{prefix}/{name}" if prefix else name


def dir_prefix(prefix: str) -> str:
    """Treat ``prefix`` as a directory: ``runs/a`` -> ``runs/a/`` so ``runs/ab/...`` is excluded."""
    prefix = prefix.strip("/")
    return f"{prefix}/" if prefix else ""


class ObjectStore(abc.ABC):
    """Keys are '/'-separated strings relative to the store's root (a directory or bucket+prefix).

    Every backend behaves the same: a missing object raises ``ObjectNotFoundError`` naming its
    URI; ``delete`` of a missing key is a no-op (S3 semantics); ``list`` yields every key under a
    plain string prefix, in sorted order, until the end.
    """

    @abc.abstractmethod
    def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        """Write ``data`` at ``key``, replacing any existing object."""

    def create_if_absent(self, key: str, data: bytes) -> bool:
        """Write ``data`` at ``key`` only when no object is there, atomically (one writer of many
        wins: a lock); True when this call created it."""
        raise NotImplementedError(f"{type(self).__name__} cannot create objects exclusively")

    @abc.abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """Read the whole object at ``key``."""

    @abc.abstractmethod
    def put_file(self, key: str, path: str | os.PathLike[str]) -> None:
        """Upload the local file ``path`` to ``key``."""

    @abc.abstractmethod
    def get_file(self, key: str, path: str | os.PathLike[str]) -> Path:
        """Download ``key`` to the local file ``path`` (parents created); returns the path."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """Whether an object is stored at exactly ``key`` (a 'directory' prefix is not one)."""

    @abc.abstractmethod
    def list(self, prefix: str = "") -> Iterator[str]:
        """Every key starting with ``prefix``, sorted, across all pages."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error."""

    @abc.abstractmethod
    def copy(self, src_key: str, dst_key: str) -> None:
        """Copy ``src_key`` to ``dst_key`` within this store."""

    @abc.abstractmethod
    def size(self, key: str) -> int:
        """Size of the object in bytes."""

    @abc.abstractmethod
    def uri(self, key: str = "") -> str:
        """The URI that ``resolve_uri`` maps back to this store and key."""

    @abc.abstractmethod
    def location(self, key: str) -> tuple[str, str]:
        """``(bucket, full key)`` of ``key`` as records name an object (``s3_bucket``,
        ``s3_key``): the bucket and the key under the store's prefix on S3, the root directory
        and the key for a local store."""

    def upload_dir(
        self,
        local_dir: str | os.PathLike[str],
        prefix: str,
        *,
        commit_last: str | None = None,
    ) -> list[str]:
        """Upload every file under ``local_dir`` to ``prefix/<relative path>``; returns the keys
        in upload order.

        ``commit_last`` (a path relative to ``local_dir``, e.g. ``manifest.json``) is uploaded
        after every other file, so a reader that takes the directory as complete once that file
        is there never sees half of it; if an upload fails first, the commit file is not written.
        Symlinks that resolve outside ``local_dir`` are skipped with a warning, so a stray link
        (to ``~/.aws/credentials``, say) never leaks a file into the bucket.
        """
        root = Path(local_dir)
        if not root.is_dir():
            raise NotADirectoryError(f"upload_dir: {root} is not a directory")
        real_root = root.resolve()
        files: list[tuple[str, Path]] = []
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if path.is_symlink() and not path.resolve().is_relative_to(real_root):
                logger.warning(
                    "upload_dir: skipping %s, a symlink to %s outside %s",
                    path, path.resolve(), root,
                )
                continue
            files.append((path.relative_to(root).as_posix(), path))
        if commit_last is not None:
            commit = PurePosixPath(commit_last).as_posix()
            if commit not in {rel for rel, _ in files}:
                raise FileNotFoundError(
                    f"upload_dir: commit_last {commit_last!r} is not a file under {root}; "
                    "write it before uploading"
                )
            files.sort(key=lambda entry: entry[0] == commit)
        keys: list[str] = []
        for rel, path in files:
            key = join_key(prefix, rel)
            self.put_file(key, path)
            keys.append(key)
        return keys

    def download_dir(self, prefix: str, local_dir: str | os.PathLike[str]) -> list[Path]:
        """Download every key under the directory ``prefix`` into ``local_dir``; returns paths.

        ``prefix`` is a directory: ``runs/a`` does not pick up ``runs/ab/...``. Keys that would
        land outside ``local_dir`` (``..`` segments, from a hostile bucket) are refused.
        """
        base = Path(local_dir)
        start = dir_prefix(prefix)
        paths: list[Path] = []
        for key in self.list(start):
            rel = key[len(start) :]
            parts = PurePosixPath(rel).parts
            if not rel or rel.startswith("/") or any(p in ("..", ".") for p in parts):
                raise UnsafeKeyError(key, str(base), "it would be written outside local_dir")
            if key.endswith("/"):
                # S3 consoles create zero-byte "folder" markers; they are not files.
                continue
            paths.append(self.get_file(key, base.joinpath(*parts)))
        return paths
