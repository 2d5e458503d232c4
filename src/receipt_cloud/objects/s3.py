"""Object store on an S3 bucket (optionally under a key prefix), through boto3."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
from boto3.exceptions import S3UploadFailedError
from botocore.config import Config
from botocore.exceptions import ClientError

from receipt_cloud.errors import BucketNotFoundError, ObjectNotFoundError
from receipt_cloud.objects._base import ObjectStore, dir_prefix, join_key

_MISSING_KEY_CODES = {"NoSuchKey", "404", "NotFound"}
_MISSING_BUCKET_CODES = {"NoSuchBucket"}


def make_s3_client(*, region: str | None = None, endpoint_url: str | None = None) -> Any:
    """An S3 client; ``endpoint_url`` falls back to boto3's own ``AWS_ENDPOINT_URL`` handling."""
    options: dict[str, Any] = {"retries": {"mode": "standard", "max_attempts": 5}}
    if endpoint_url or os.environ.get("AWS_ENDPOINT_URL"):
        # Path-style addressing works against any endpoint (moto, MinIO, an IP address);
        # virtual-host style needs DNS for every bucket.
        options["s3"] = {"addressing_style": "path"}
    config = Config(**options)
    return boto3.session.Session().client(
        "s3", region_name=region, endpoint_url=endpoint_url, config=config
    )


def _error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


class S3ObjectStore(ObjectStore):
    """Objects in ``bucket`` under ``prefix``; key ``k`` is stored at ``<prefix>/k``.

    Honours ``AWS_ENDPOINT_URL`` (boto3 reads it), so the same code reaches AWS or a moto server.
    A missing bucket raises ``BucketNotFoundError`` naming it; a missing object raises
    ``ObjectNotFoundError`` naming its ``s3://`` URI.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        client: Any | None = None,
    ) -> None:
        if not bucket:
            raise ValueError("S3ObjectStore needs a bucket name")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client or make_s3_client(region=region, endpoint_url=endpoint_url)
        self._bucket_seen = False
        self.list_page_size = 1000
        """Keys per ListObjectsV2 page (S3's maximum); list() follows every page regardless."""

    def __repr__(self) -> str:
        return f"S3ObjectStore({self.uri()!r})"

    def _key(self, key: str) -> str:
        if not isinstance(key, str) or not key:
            raise ValueError(f"object key must be a non-empty str, got {key!r}")
        return join_key(self.prefix, key)

    def _check_bucket(self) -> None:
        """Raise ``BucketNotFoundError`` if the bucket is gone; remembered once it is seen."""
        if self._bucket_seen:
            return
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as err:
            if _error_code(err) in _MISSING_BUCKET_CODES | {"404", "NotFound"}:
                raise BucketNotFoundError(self.bucket) from None
            raise
        self._bucket_seen = True

    def _translate(self, err: ClientError, key: str) -> Exception:
        code = _error_code(err)
        if code in _MISSING_BUCKET_CODES:
            return BucketNotFoundError(self.bucket)
        if code in _MISSING_KEY_CODES:
            # HEAD answers a bare 404 for a missing key and a missing bucket alike.
            self._check_bucket()
            return ObjectNotFoundError(self.uri(key))
        return err

    def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        extra = {"ContentType": content_type} if content_type else {}
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **extra)
        except ClientError as err:
            raise self._translate(err, key) from None

    def create_if_absent(self, key: str, data: bytes) -> bool:
        try:
            # S3 conditional write: 412 when the key exists, 409 when a racing write won.
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*"
            )
        except ClientError as err:
            if _error_code(err) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                return False
            raise self._translate(err, key) from None
        return True

    def get_bytes(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as err:
            raise self._translate(err, key) from None
        with response["Body"] as body:
            return body.read()

    def put_file(self, key: str, path: str | os.PathLike[str]) -> None:
        source = Path(path)
        if not source.is_file():
            raise FileNotFoundError(f"put_file: local file {source} does not exist")
        try:
            # The managed transfer switches to multipart for large files (bundles, checkpoints).
            self.client.upload_file(str(source), self.bucket, self._key(key))
        except S3UploadFailedError:
            self._check_bucket()
            raise
        except ClientError as err:
            raise self._translate(err, key) from None

    def get_file(self, key: str, path: str | os.PathLike[str]) -> Path:
        dest = Path(path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            # s3transfer writes to a temporary name and renames, so a failed download leaves no
            # partial file at ``dest``.
            self.client.download_file(self.bucket, self._key(key), str(dest))
        except ClientError as err:
            raise self._translate(err, key) from None
        return dest

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as err:
            translated = self._translate(err, key)
            if isinstance(translated, ObjectNotFoundError):
                return False
            raise translated from None
        return True

    def size(self, key: str) -> int:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as err:
            raise self._translate(err, key) from None
        return int(head["ContentLength"])

    def list(self, prefix: str = "") -> Iterator[str]:
        base = dir_prefix(self.prefix)
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(
                Bucket=self.bucket,
                Prefix=base + prefix,
                PaginationConfig={"PageSize": self.list_page_size},
            ):
                for item in page.get("Contents", ()):
                    yield item["Key"][len(base) :]
        except ClientError as err:
            raise self._translate(err, prefix) from None

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as err:
            translated = self._translate(err, key)
            if not isinstance(translated, ObjectNotFoundError):
                raise translated from None

    def copy(self, src_key: str, dst_key: str) -> None:
        source = {"Bucket": self.bucket, "Key": self._key(src_key)}
        try:
            # Managed copy: single CopyObject below 5 GB, multipart UploadPartCopy above.
            self.client.copy(source, self.bucket, self._key(dst_key))
        except ClientError as err:
            raise self._translate(err, src_key) from None

    def uri(self, key: str = "") -> str:
        return f"s3://{self.bucket}/{join_key(self.prefix, key)}"

    def location(self, key: str) -> tuple[str, str]:
        return self.bucket, join_key(self.prefix, key)
