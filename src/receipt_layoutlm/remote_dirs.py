"""A local directory holding the files at a URI: a local path as it is, a remote prefix
(``s3://bucket/prefix``) downloaded. Checkpoints and bundles are both fetched here, once; what is
then read from them is read locally (``checkpoint``, ``run_record``, ``bundles``).

Needs neither torch nor ``export/``, so the workers, ``promote`` and the review app import it too.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from receipt_cloud.objects import is_remote_uri, local_path, open_object_store
from receipt_layoutlm.errors import CheckpointError


def fetch_checkpoint(uri: str | Path, destination: str | Path | None = None) -> Path:
    """A local directory holding the checkpoint at ``uri`` (see :func:`fetch_directory`)."""
    return fetch_directory(uri, destination, what="checkpoint")


@contextmanager
def fetched_directory(uri: str | Path, *, what: str = "checkpoint") -> Iterator[Path]:
    """``with fetched_directory(uri) as path:`` a local directory holding ``uri``'s files.

    A local ``uri`` is yielded as it is; a remote one is downloaded into a temporary directory
    that is removed when the block ends (also on error).
    """
    if not is_remote_uri(uri):
        yield fetch_directory(uri, what=what)
        return
    with tempfile.TemporaryDirectory(prefix=f"{what}-") as tmp:
        yield fetch_directory(uri, Path(tmp) / what, what=what)


def fetched_checkpoint(uri: str | Path) -> AbstractContextManager[Path]:
    """:func:`fetched_directory` for a checkpoint (the download is removed afterwards)."""
    return fetched_directory(uri, what="checkpoint")




def fetch_directory(
    uri: str | Path, destination: str | Path | None = None, *, what: str = "checkpoint"
) -> Path:
    """A local directory holding the files at ``uri``.

    Local paths (and ``file://``) are returned as they are. Remote URIs (``s3://bucket/prefix``)
    are downloaded into ``destination``, or, when None, into a fresh temporary directory that the
    caller owns and must remove (:func:`fetched_directory` does that for you); a prefix with no
    objects raises one :class:`CheckpointError` and leaves nothing behind.
    """
    if not is_remote_uri(uri):
        return local_path(str(uri))

    made_tmp = destination is None
    dest = Path(tempfile.mkdtemp(prefix=f"{what}-")) if made_tmp else Path(destination)
    existed = dest.exists()
    try:
        files = open_object_store(str(uri)).download_dir("", dest)
    except Exception as exc:
        _cleanup(dest, made_tmp or not existed)
        raise CheckpointError(f"cannot download {what} {uri}: {exc}") from None
    if not files:
        _cleanup(dest, made_tmp or not existed)
        raise CheckpointError(
            f"{what} {uri} does not exist (no objects under that prefix); check the bucket "
            "and the path"
        )
    return dest


def _cleanup(path: Path, remove: bool) -> None:
    if remove:
        shutil.rmtree(path, ignore_errors=True)
