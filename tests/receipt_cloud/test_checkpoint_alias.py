"""The seed's ``runs/<job>/checkpoint-<step>/`` names the run's
``runs/<job>/checkpoints/checkpoint-<step>`` (one resolver for every export path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from receipt_cloud.exports.checkpoint_alias import resolve_checkpoint_uri
from receipt_cloud.objects import LocalObjectStore, open_object_store


def _run(store) -> None:
    store.put_bytes("runs/layoutlm-a/checkpoints/checkpoint-40/config.json", b"{}")
    store.put_bytes("runs/layoutlm-a/best/config.json", b"{}")


def test_local_seed_uri_resolves_to_the_layout(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    _run(store)
    root = store.uri()
    layout = f"{root}/runs/layoutlm-a/checkpoints/checkpoint-40"
    assert resolve_checkpoint_uri(f"{root}/runs/layoutlm-a/checkpoint-40/") == layout
    assert resolve_checkpoint_uri(str(tmp_path / "objects/runs/layoutlm-a/checkpoint-40")) == str(
        tmp_path / "objects/runs/layoutlm-a/checkpoints/checkpoint-40"
    )
    # Anything else is left for the caller to judge: best/, unknown steps, other layouts.
    for uri in (f"{root}/runs/layoutlm-a/best", f"{root}/runs/layoutlm-a/checkpoint-41/",
                f"{root}/elsewhere/checkpoint-40"):  # fmt: skip
        assert resolve_checkpoint_uri(uri) == uri


def test_an_existing_seed_layout_is_kept(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    _run(store)
    store.put_bytes("runs/layoutlm-a/checkpoint-40/config.json", b"{}")
    uri = f"{store.uri()}/runs/layoutlm-a/checkpoint-40"
    assert resolve_checkpoint_uri(uri) == uri


@pytest.mark.aws
def test_s3_seed_uri_resolves_to_the_layout(aws_env: str, unique_name: str) -> None:
    import boto3

    boto3.client("s3").create_bucket(Bucket=unique_name)
    _run(open_object_store(f"s3://{unique_name}"))
    assert resolve_checkpoint_uri(f"s3://{unique_name}/runs/layoutlm-a/checkpoint-40/") == (
        f"s3://{unique_name}/runs/layoutlm-a/checkpoints/checkpoint-40"
    )
