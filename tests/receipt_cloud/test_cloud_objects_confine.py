"""The one rule for URIs and keys from outside (``receipt_cloud.objects.confine``), over a local
directory and over S3 on the moto server; and the one name rule (``receipt_dynamo.names``)."""

from __future__ import annotations

import os
from pathlib import Path

import boto3
import pytest

from receipt_cloud.errors import UntrustedUriError
from receipt_cloud.objects import confine_object, confine_uri, open_object_store
from receipt_dynamo.errors import EntityValidationError
from receipt_dynamo.names import check_name, is_name, shown


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A local store root holding ``runs/a/best/config.json``, a symlink to a sibling folder
    outside it and one to a folder inside it."""
    (tmp_path / "store" / "runs" / "a" / "best").mkdir(parents=True)
    (tmp_path / "store" / "runs" / "a" / "best" / "config.json").write_text("{}")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "outside", tmp_path / "store" / "escape")
    os.symlink(tmp_path / "store" / "runs", tmp_path / "store" / "alias")
    return tmp_path / "store"


LOCAL_REFUSED = [
    ("{root}/../outside/secret.txt", "'..' segment"),
    ("{root}/runs/%2e%2e/%2e%2e/outside", "percent-encodes"),
    ("{root}/runs/%2F..%2Fx", "percent-encodes"),
    ("{root}/runs/a\\..\\..\\x", "backslash"),
    ("{root}/runs/a\x00/x", "control character"),
    ("{root}/runs/a\n", "control character"),
    ("{root}/./runs/a", "'.' segment"),
    ("{root}//runs/a", "empty segment"),
    ("{root}/escape/secret.txt", "through a symlink"),
    ("{root}-sibling/runs/a", "outside the store's directory"),
    ("{root}", "outside the store's directory"),
    ("runs/a/best", "relative path"),
    ("~/runs/a", "relative path"),
    ("s3://bucket/runs/a", "scheme is not this store's"),
    ("http://example.com/runs/a", "scheme is not this store's"),
    ("file://evil.example{root}/runs/a", "names host 'evil.example'"),
    ("{root}/" + "a" * 2000, "characters long"),
]


@pytest.mark.parametrize(("uri", "reason"), LOCAL_REFUSED, ids=[r for _, r in LOCAL_REFUSED])
@pytest.mark.parametrize("spelling", ["path", "file"])
def test_local_uris_outside_the_store_are_refused(root: Path, uri, reason, spelling) -> None:
    text = uri.format(root=root)
    if spelling == "file" and text.startswith("/"):
        text = "file://" + text
    root_uri = root.as_uri() if spelling == "file" else str(root)
    with pytest.raises(UntrustedUriError, match=reason) as caught:
        confine_uri(text, root_uri, what="model_s3_uri")
    message = str(caught.value)
    assert "\n" not in message and len(message) < 800
    assert message.startswith("model_s3_uri ")


def test_local_uris_inside_the_store_pass_and_open(root: Path) -> None:
    for uri in (f"{root}/runs/a/best", (root / "runs" / "a" / "best").as_uri() + "/",
                f"file://localhost{root}/runs/a/best", f"{root}/alias/a/best"):
        confined = confine_uri(uri, root.as_uri(), what="model_s3_uri")
        assert confined.key.rstrip("/") in ("runs/a/best", "alias/a/best")
        assert open_object_store(confined.uri).get_bytes("config.json") == b"{}"
    spaced = root / "a folder"
    assert confine_uri(spaced.as_uri() + "/x", str(root)).key == "a folder/x"  # %20 is kept


def test_under_keeps_a_uri_below_its_prefix(root: Path) -> None:
    assert confine_uri(f"{root}/bundles/j/e", str(root), under="bundles").key == "bundles/j/e"
    for uri in (f"{root}/runs/a/best", f"{root}/bundles", f"{root}/bundles/", f"{root}/bundlesx/e"):
        with pytest.raises(UntrustedUriError, match="not under bundles/"):
            confine_uri(uri, str(root), what="output_s3_prefix", under="bundles")


def test_values_are_shown_capped() -> None:
    huge = "x" * 250_000
    with pytest.raises(UntrustedUriError) as caught:
        confine_uri(huge, "s3://bucket")
    assert len(str(caught.value)) < 500 and "(250000 characters)" in str(caught.value)
    assert shown("abc") == "'abc'"


@pytest.mark.parametrize(("uri", "reason"), [
    ("s3://other-bucket/runs/a/best", "names bucket 'other-bucket'"),
    ("s3://bucket/elsewhere/a", "not under the store's prefix root/"),
    ("s3://bucket/root/../elsewhere/a", "'..' segment"),
    ("s3://bucket/root/a//b", "empty segment"),
    ("s3://bucket/root/%2e%2e/x", "percent-encodes"),
    ("s3:///root/a", "names no bucket"),
    ("file:///tmp/root/a", "scheme is not this store's"),
    ("/root/a", "scheme is not this store's"),
    (7, "not a non-empty string"),
])  # fmt: skip
def test_s3_uris_outside_the_store_are_refused(uri, reason) -> None:
    with pytest.raises(UntrustedUriError, match=reason):
        confine_uri(uri, "s3://bucket/root", what="model_s3_uri")


@pytest.mark.aws
def test_s3_uris_inside_the_store_pass_and_open(aws_env: str, unique_name: str) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=unique_name)
    s3.create_bucket(Bucket=f"{unique_name}-foreign")
    s3.put_object(Bucket=unique_name, Key="root/runs/a/best/config.json", Body=b"{}")
    s3.put_object(Bucket=f"{unique_name}-foreign", Key="root/runs/a/best/config.json", Body=b"x")
    root = f"s3://{unique_name}/root"
    confined = confine_uri(f"{root}/runs/a/best/", root, what="model_s3_uri")
    assert confined.key == "runs/a/best/"
    assert open_object_store(confined.uri).get_bytes("config.json") == b"{}"
    # The foreign bucket is readable with these credentials; the rule keeps the worker off it.
    with pytest.raises(UntrustedUriError, match="names bucket"):
        confine_uri(f"s3://{unique_name}-foreign/root/runs/a/best/", root)
    assert confine_object(unique_name, "root/runs/a/best/config.json", root).key == (
        "runs/a/best/config.json"
    )
    with pytest.raises(UntrustedUriError, match="not this store's"):
        confine_object(f"{unique_name}-foreign", "root/runs/a/best/config.json", root)


@pytest.mark.parametrize(("bucket", "key", "reason"), [
    ("/", "etc/passwd", "another directory than this store's"),
    ("{root}", "../outside/secret.txt", "'..' segment"),
    ("{root}", "escape/secret.txt", "through a symlink"),
    ("{root}", "/etc/passwd", "it is absolute"),
    ("{root}/..", "outside/secret.txt", "not this store's directory"),
    ("raw-bucket", "x.jpg", "not this store's directory"),
    (None, "x.jpg", "must be non-empty strings"),
])  # fmt: skip
def test_local_objects_from_events_stay_in_the_store(root: Path, bucket, key, reason) -> None:
    bucket = bucket.format(root=root) if isinstance(bucket, str) else bucket
    with pytest.raises(UntrustedUriError, match=reason):
        confine_object(bucket, key, root.as_uri(), what="uploaded object")


def test_local_object_in_the_store_passes(root: Path) -> None:
    confined = confine_object(str(root), "runs/a/best/config.json", root.as_uri())
    assert confined.key == "runs/a/best/config.json"


@pytest.mark.parametrize("name", [
    "layoutlm-a", "a", "A.b_c-9", "6b52c290-afa4-4b28-9132-92ecaa2b573e", "x" * 63,
])  # fmt: skip
def test_the_name_rule_accepts(name) -> None:
    assert is_name(name) and check_name("job_id", name) == name


@pytest.mark.parametrize("name", [
    "", "x" * 64, "layoutlm-a\n", "../x", "a/b", ".hidden", "a b", "a#b", "ä", None, 7,
])  # fmt: skip
def test_the_name_rule_refuses_in_one_line(name) -> None:
    assert not is_name(name)
    with pytest.raises(EntityValidationError, match=r"^job_id .* is not allowed \(a message\)"):
        check_name("job_id", name, where="a message")


def test_the_name_rule_caps_what_it_repeats() -> None:
    with pytest.raises(EntityValidationError) as caught:
        check_name("job_id", "j" * 250_000)
    assert len(str(caught.value)) < 300
