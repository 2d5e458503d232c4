"""Verify-then-adopt (``export_worker.adopt``) on S3 (moto server) and locally: a bundle an
earlier attempt published is adopted only when its files and its zip match the manifest; a
damaged zip is rebuilt, a damaged bundle removed."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

EXPORT_ID = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"


def _bundle(tmp_path: Path, **manifest: object) -> Path:
    from receipt_layoutlm.bundles.manifest import write_manifest

    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "vocab.txt").write_text("[PAD]\n[UNK]\n")
    (staging / "label_map.json").write_text('{"labels": ["O"]}')
    write_manifest(staging, {"export_id": EXPORT_ID, "parity": {"passed": True}, **manifest})
    return staging


def _publish(staging: Path, prefix: str, tmp_path: Path, *, zip_bytes: bytes | None) -> None:
    from receipt_cloud.objects import open_object_store, resolve_uri

    open_object_store(prefix).upload_dir(staging, "")
    if zip_bytes is not None:
        store, key = resolve_uri(prefix + ".zip")
        store.put_bytes(key, zip_bytes)


def _zip(staging: Path, tmp_path: Path) -> bytes:
    from receipt_layoutlm.export.publish import zip_dir

    return zip_dir(staging, tmp_path / "b.zip").read_bytes()


# s3 runs on the moto server: slow (make test); local keeps the adoption rules in test-fast.
@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.slow)])
def prefix(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "local":
        return f"file://{tmp_path}/objects/bundles/layoutlm-a/{EXPORT_ID}"
    import boto3

    request.getfixturevalue("aws_env")
    bucket = request.getfixturevalue("unique_name")
    boto3.client("s3").create_bucket(Bucket=bucket)
    return f"s3://{bucket}/bundles/layoutlm-a/{EXPORT_ID}"


def test_truncated_zip_is_rebuilt_before_adopting(prefix: str, tmp_path: Path) -> None:
    from receipt_cloud.objects import resolve_uri
    from receipt_layoutlm.bundles.manifest import verify_zip
    from receipt_layoutlm.export_worker.adopt import adoptable

    staging = _bundle(tmp_path)
    whole = _zip(staging, tmp_path)
    _publish(staging, prefix, tmp_path, zip_bytes=whole[: len(whole) // 2])
    (tmp_path / "work").mkdir()
    manifest = adoptable(prefix, EXPORT_ID, tmp_path / "work", make_zip=True)
    assert manifest is not None and manifest["export_id"] == EXPORT_ID
    store, key = resolve_uri(prefix + ".zip")
    rebuilt = store.get_bytes(key)
    (tmp_path / "got.zip").write_bytes(rebuilt)
    assert verify_zip(tmp_path / "got.zip", manifest) == []
    assert zipfile.ZipFile(io.BytesIO(rebuilt)).testzip() is None


def test_bundle_that_does_not_verify_is_removed_not_adopted(prefix: str, tmp_path: Path) -> None:
    from receipt_cloud.objects import open_object_store, resolve_uri
    from receipt_layoutlm.export_worker.adopt import adoptable

    staging = _bundle(tmp_path)
    whole = _zip(staging, tmp_path)
    (staging / "vocab.txt").write_text("[PAD]\n[EVIL]\n")  # no longer what the manifest says
    _publish(staging, prefix, tmp_path, zip_bytes=whole)
    (tmp_path / "work").mkdir()
    assert adoptable(prefix, EXPORT_ID, tmp_path / "work", make_zip=True) is None
    assert list(open_object_store(prefix).list("")) == []
    store, key = resolve_uri(prefix + ".zip")
    assert not store.exists(key)


def test_another_exports_bundle_is_a_permanent_error(prefix: str, tmp_path: Path) -> None:
    from receipt_cloud.worker import PermanentError
    from receipt_layoutlm.export_worker.adopt import adoptable

    _publish(_bundle(tmp_path), prefix, tmp_path, zip_bytes=None)
    (tmp_path / "work").mkdir()
    with pytest.raises(PermanentError, match="already holds bundle"):
        adoptable(prefix, "11111111-2222-4333-8444-555555555555", tmp_path / "work",
                  make_zip=True)


def test_a_bundle_claiming_another_jobs_provenance_is_not_adopted(
    prefix: str, tmp_path: Path
) -> None:
    """The check promote makes: a bundle under bundles/<job>/<export_id> names that job."""
    from receipt_cloud.objects import open_object_store
    from receipt_layoutlm.export_worker.adopt import adoptable

    staging = _bundle(tmp_path, training_job={"job_id": "layoutlm-b"})
    _publish(staging, prefix, tmp_path, zip_bytes=_zip(staging, tmp_path))
    (tmp_path / "work").mkdir()
    assert adoptable(prefix, EXPORT_ID, tmp_path / "work", make_zip=True) is None
    assert list(open_object_store(prefix).list("")) == []
