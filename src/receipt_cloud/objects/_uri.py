"""URI parsing and the name-checked registry of object-store schemes."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from receipt_cloud.errors import InvalidUriError, UnknownSchemeError
from receipt_cloud.objects._base import ObjectStore

_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass(frozen=True)
class SchemeBackend:
    """How one URI scheme opens stores."""

    open_root: Callable[[str, str | None, str | None], ObjectStore]
    """(uri, region, endpoint_url) -> a store rooted at the URI."""
    resolve: Callable[[str, str | None, str | None], tuple[ObjectStore, str]]
    """(uri, region, endpoint_url) -> (store, key) addressing one object."""


_SCHEMES: dict[str, SchemeBackend] = {}


def register_scheme(scheme: str, backend: SchemeBackend) -> None:
    """Register ``backend`` for ``scheme://`` URIs (``""`` is a plain local path)."""
    _SCHEMES[scheme.lower()] = backend


def split_scheme(uri: str) -> tuple[str, str]:
    """``("s3", "bucket/key")`` for ``s3://bucket/key``; ``("", uri)`` for a plain path."""
    match = _SCHEME_RE.match(uri)
    if not match:
        return "", uri
    return match.group(1).lower(), uri[match.end() :]


def is_remote_uri(uri: str | os.PathLike[str]) -> bool:
    """Whether ``uri`` names a remote object store (``s3://``...) that must be downloaded from;
    False for a plain path (``str`` or ``Path``) and for ``file://`` URIs."""
    if not isinstance(uri, str):
        return False
    scheme, _ = split_scheme(uri)
    return scheme not in ("", "file")


def bucket_uri(name: str) -> str:
    """A bare bucket name (a stack output, ``RUNS_BUCKET_NAME``) becomes ``s3://name``; a URI
    (``s3://…``, ``file://…``) is kept."""
    scheme, _ = split_scheme(name)
    return name if scheme else f"s3://{name}"


def _backend(uri: str) -> SchemeBackend:
    if not isinstance(uri, str) or not uri:
        raise InvalidUriError(f"object store URI must be a non-empty string, got {uri!r}")
    scheme, _ = split_scheme(uri)
    try:
        return _SCHEMES[scheme]
    except KeyError:
        known = [f"{s}://" for s in _SCHEMES if s] + ["a plain path"]
        raise UnknownSchemeError("object store", uri, scheme, known) from None


def open_object_store(
    uri: str, *, region: str | None = None, endpoint_url: str | None = None
) -> ObjectStore:
    """A store rooted at ``uri``: ``s3://bucket[/prefix]``, ``file:///abs/dir`` or a path."""
    return _backend(uri).open_root(uri, region, endpoint_url)


def resolve_uri(
    uri: str, *, region: str | None = None, endpoint_url: str | None = None
) -> tuple[ObjectStore, str]:
    """``(store, key)`` for one object: ``store.get_bytes(key)`` reads the object at ``uri``.

    ``s3://bucket/a/b.json`` -> (store on the bucket, ``a/b.json``); a path or ``file://`` URI
    -> (store rooted at the parent directory, the file name).
    """
    return _backend(uri).resolve(uri, region, endpoint_url)


# -- local paths and file:// ---------------------------------------------------------------


def local_path(uri: str) -> Path:
    """The filesystem path a plain path or ``file://`` URI names (``~`` expanded, absolute)."""
    scheme, rest = split_scheme(uri)
    if scheme == "file":
        host, slash, path = rest.partition("/")
        if host not in ("", "localhost"):
            raise InvalidUriError(
                f"file URI {uri!r} names host {host!r}; use file:///absolute/path"
            )
        return Path(unquote(slash + path))
    return Path(uri).expanduser().absolute()


def _local_root(uri: str, _region: str | None, _endpoint: str | None) -> ObjectStore:
    from receipt_cloud.objects.local import LocalObjectStore

    return LocalObjectStore(local_path(uri))


def _local_resolve(uri: str, _region: str | None, _endpoint: str | None) -> tuple[ObjectStore, str]:
    from receipt_cloud.objects.local import LocalObjectStore

    path = local_path(uri)
    if not path.name or uri.endswith("/"):
        raise InvalidUriError(f"{uri!r} names a directory, not a file; add the file name")
    return LocalObjectStore(path.parent), path.name


# -- s3:// -----------------------------------------------------------------------------------


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``("bucket", "key/prefix")`` for ``s3://bucket/key/prefix``; '#' and '?' stay in the key."""
    _, rest = split_scheme(uri)
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise InvalidUriError(f"S3 URI {uri!r} has no bucket; use s3://bucket/key")
    return bucket, key


def _s3_root(uri: str, region: str | None, endpoint: str | None) -> ObjectStore:
    from receipt_cloud.objects.s3 import S3ObjectStore

    bucket, prefix = parse_s3_uri(uri)
    return S3ObjectStore(bucket, prefix, region=region, endpoint_url=endpoint)


def _s3_resolve(uri: str, region: str | None, endpoint: str | None) -> tuple[ObjectStore, str]:
    from receipt_cloud.objects.s3 import S3ObjectStore

    bucket, key = parse_s3_uri(uri)
    if not key or key.endswith("/"):
        raise InvalidUriError(f"S3 URI {uri!r} names no object; use s3://bucket/path/to/object")
    return S3ObjectStore(bucket, region=region, endpoint_url=endpoint), key


register_scheme("", SchemeBackend(_local_root, _local_resolve))
register_scheme("file", SchemeBackend(_local_root, _local_resolve))
register_scheme("s3", SchemeBackend(_s3_root, _s3_resolve))
