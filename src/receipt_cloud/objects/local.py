"""Object store on a local directory: keys are '/'-separated paths confined to the root."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from receipt_cloud.errors import ObjectKeyConflictError, ObjectNotFoundError, UnsafeKeyError
from receipt_cloud.objects._base import ObjectStore

# Partial writes live next to their target under this name until os.replace publishes them;
# list() skips them so readers never see half an object.
_TMP_PREFIX = ".receipt-cloud-tmp-"
# A put retries when a concurrent delete prunes its folder; each retry needs another such race.
_WRITE_ATTEMPTS = 5
_MAX_SEGMENT_BYTES = 255  # NAME_MAX of every common local file system



def _replace_atomically(path: Path, write: Callable[[int, str], None]) -> None:
    """Write through a temp file beside ``path`` and rename it over ``path``: readers see the old
    content or the new, never a partial file."""
    fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=path.parent)
    try:
        write(fd, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise

class LocalObjectStore(ObjectStore):
    """A directory used as an object store.

    Every key is confined to ``root``: absolute keys, ``.``/``..`` segments, empty segments and
    keys whose path resolves (through a symlink) outside the root raise ``UnsafeKeyError`` before
    anything is read or written. Writes are atomic (temp file in the same directory, fsync,
    ``os.replace``), so a reader sees the old object or the new one, never a partial one. The root
    is created on the first write.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().absolute()

    def __repr__(self) -> str:
        return f"LocalObjectStore({str(self.root)!r})"

    # -- key confinement -------------------------------------------------------------------

    def _check_key_syntax(self, key: str, *, allow_partial: bool = False) -> list[str]:
        if not isinstance(key, str):
            raise TypeError(f"object key must be a str, got {type(key).__name__}")
        if "\x00" in key:
            raise UnsafeKeyError(key, str(self.root), "it contains a NUL byte")
        if key.startswith("/") or os.path.isabs(key):
            raise UnsafeKeyError(key, str(self.root), "it is absolute")
        if not key and not allow_partial:
            raise UnsafeKeyError(key, str(self.root), "it is empty")
        parts = key.split("/")
        if allow_partial and parts and parts[-1] == "":
            parts = parts[:-1]  # a listing prefix may end in '/'
        for part in parts:
            if part in (".", ".."):
                raise UnsafeKeyError(key, str(self.root), f"it has a {part!r} segment")
            if part == "" and not allow_partial:
                raise UnsafeKeyError(key, str(self.root), "it has an empty segment")
            if len(os.fsencode(part)) > _MAX_SEGMENT_BYTES:
                raise ObjectKeyConflictError(
                    key, str(self.root), f"a '/'-separated part is longer than "
                    f"{_MAX_SEGMENT_BYTES} bytes, the file system's limit; use a shorter key"
                )
        return parts

    def _is_inside(self, path: Path) -> bool:
        real_root = os.path.realpath(self.root)
        real = os.path.realpath(path)
        return real != real_root and real.startswith(real_root.rstrip(os.sep) + os.sep)

    def _path(self, key: str) -> Path:
        parts = self._check_key_syntax(key)
        path = self.root.joinpath(*parts)
        # realpath follows every symlink on the existing part of the path, so a link planted
        # inside the root cannot redirect a read or a write outside it.
        if not self._is_inside(path):
            raise UnsafeKeyError(key, str(self.root), "it resolves outside the root via a symlink")
        return path

    def _missing(self, key: str) -> ObjectNotFoundError:
        return ObjectNotFoundError(self.uri(key))

    # -- writes ----------------------------------------------------------------------------

    def _atomic_write(self, key: str, write: Callable[[int, str], None]) -> None:
        path = self._path(key)
        try:
            for attempt in range(1, _WRITE_ATTEMPTS + 1):
                path.parent.mkdir(parents=True, exist_ok=True)
                # mkdir may have raced with a symlink swap; check again before writing.
                if not self._is_inside(path):
                    raise UnsafeKeyError(
                        key, str(self.root), "it resolves outside the root via a symlink"
                    )
                try:
                    _replace_atomically(path, write)
                    return
                except FileNotFoundError:
                    # A concurrent delete() pruned the (then empty) folder between our mkdir
                    # and the temp file: make it again.
                    if attempt == _WRITE_ATTEMPTS:
                        raise
        except (NotADirectoryError, FileExistsError):
            raise ObjectKeyConflictError(
                key, str(self.root), "a leading part of it is an existing object, not a folder"
            ) from None
        except IsADirectoryError:
            raise ObjectKeyConflictError(
                key, str(self.root), "it names a folder that holds other objects"
            ) from None
        except OSError as exc:
            if exc.errno != errno.ENAMETOOLONG:
                raise
            raise ObjectKeyConflictError(
                key, str(self.root), "it is longer than the file system allows; use a shorter key"
            ) from None

    def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        def write(fd: int, _tmp: str) -> None:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())

        self._atomic_write(key, write)

    def put_file(self, key: str, path: str | os.PathLike[str]) -> None:
        source = Path(path)
        if not source.is_file():
            raise FileNotFoundError(f"put_file: local file {source} does not exist")

        def write(fd: int, _tmp: str) -> None:
            with os.fdopen(fd, "wb") as handle, source.open("rb") as src:
                shutil.copyfileobj(src, handle, length=1 << 20)
                handle.flush()
                os.fsync(handle.fileno())

        self._atomic_write(key, write)

    def create_if_absent(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            # link() refuses an existing target: the complete file appears, or nothing does.
            os.link(tmp, path)
        except FileExistsError:
            return False
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return True

    def copy(self, src_key: str, dst_key: str) -> None:
        src = self._path(src_key)
        self._path(dst_key)  # refuse an unsafe destination before looking at the source
        if not src.is_file():
            raise self._missing(src_key)
        self.put_file(dst_key, src)

    def delete(self, key: str) -> None:
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        # Drop directories the delete left empty so list() and the disk stay tidy, up to the root.
        parent = path.parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    # -- reads -----------------------------------------------------------------------------

    def get_bytes(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise self._missing(key) from None

    def get_file(self, key: str, path: str | os.PathLike[str]) -> Path:
        src = self._path(key)
        if not src.is_file():
            raise self._missing(key)
        dest = Path(path)
        dest.parent.mkdir(parents=True, exist_ok=True)

        def copy(fd: int, _tmp: str) -> None:
            with os.fdopen(fd, "wb") as handle, src.open("rb") as source:
                shutil.copyfileobj(source, handle, length=1 << 20)

        _replace_atomically(dest, copy)
        return dest

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        path = self._path(key)
        if not path.is_file():
            raise self._missing(key)
        return path.stat().st_size

    def list(self, prefix: str = "") -> Iterator[str]:
        parts = self._check_key_syntax(prefix, allow_partial=True)
        # Walk only the deepest directory the prefix names in full, not the whole root.
        dir_parts = parts if prefix.endswith("/") else parts[:-1]
        start = self.root.joinpath(*dir_parts)
        if not start.is_dir() or (dir_parts and not self._is_inside(start)):
            return iter(())
        keys: list[str] = []
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames.sort()
            for name in filenames:
                if name.startswith(_TMP_PREFIX):
                    continue
                full = Path(dirpath, name)
                key = full.relative_to(self.root).as_posix()
                if not key.startswith(prefix):
                    continue
                # A symlinked file pointing out of the root is not part of the store.
                if full.is_symlink() and not self._is_inside(full):
                    continue
                keys.append(key)
        return iter(sorted(keys))

    def uri(self, key: str = "") -> str:
        if not key:
            return self.root.as_uri()
        return self.root.joinpath(*key.split("/")).as_uri()

    def location(self, key: str) -> tuple[str, str]:
        return str(self.root), key
