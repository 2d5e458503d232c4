"""Object stores: a local directory or an S3 bucket behind one ``ObjectStore`` interface.

    store = open_object_store("s3://bucket/runs")      # or "file:///abs/dir", or "./dir"
    store.put_bytes("job-1/metrics.json", b"{}")
    store, key = resolve_uri("s3://bucket/runs/job-1/metrics.json")

Backends load lazily: opening a local store never imports boto3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from receipt_cloud.errors import (
    BucketNotFoundError,
    ObjectNotFoundError,
    UnknownSchemeError,
    UnsafeKeyError,
    UntrustedUriError,
)
from receipt_cloud.objects._base import ObjectStore
from receipt_cloud.objects._uri import (
    SchemeBackend,
    bucket_uri,
    is_remote_uri,
    local_path,
    open_object_store,
    parse_s3_uri,
    register_scheme,
    resolve_uri,
)
from receipt_cloud.objects.confine import ConfinedUri, confine_object, confine_uri
from receipt_cloud.objects.local import LocalObjectStore

if TYPE_CHECKING:
    from receipt_cloud.objects.s3 import S3ObjectStore

__all__ = [
    "BucketNotFoundError",
    "ConfinedUri",
    "LocalObjectStore",
    "ObjectNotFoundError",
    "ObjectStore",
    "S3ObjectStore",
    "SchemeBackend",
    "UnknownSchemeError",
    "UnsafeKeyError",
    "UntrustedUriError",
    "bucket_uri",
    "confine_object",
    "confine_uri",
    "is_remote_uri",
    "local_path",
    "open_object_store",
    "parse_s3_uri",
    "register_scheme",
    "resolve_uri",
]


def __getattr__(name: str) -> Any:
    # boto3 costs a few hundred ms to import; only pay it when S3 is actually used.
    if name == "S3ObjectStore":
        from receipt_cloud.objects.s3 import S3ObjectStore

        return S3ObjectStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
