"""Helpers the receipt_ocr tests import (conftest modules share one name across test packages,
so they cannot be imported by name)."""

from __future__ import annotations

import shutil
from pathlib import Path


def drain(queue) -> list:
    """Receive and delete every message of ``queue``; their parsed JSON bodies."""
    found = []
    while batch := queue.receive(max_messages=10):
        for message in batch:
            found.append(message.json())
            queue.delete(message)
    return found


def copy_bundle(source: Path, destination: Path, export_id: str) -> Path:
    """A second valid bundle: the same files with another export id in its manifest."""
    import json

    shutil.copytree(source, destination)
    manifest_path = destination / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["export_id"] = export_id
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return destination


def moto_stack_outputs(unique_name: str, path: Path) -> Path:
    """A throwaway stack on the moto server as ``pulumi stack output --json`` would describe it:
    the table, raw/runs/bundles buckets and the four queues (each with a DLQ after 3
    receives); writes the outputs to ``path`` and returns it."""
    import json

    import boto3

    from receipt_cloud.queues import create_queue_with_dlq
    from receipt_dynamo import create_table

    create_table(boto3.client("dynamodb"), unique_name)
    for kind in ("raw", "runs", "bundles"):
        boto3.client("s3").create_bucket(Bucket=f"{unique_name}-{kind}")
    queues = {name: create_queue_with_dlq(f"{unique_name}-{name}", 3).url
              for name in ("ocr-jobs", "ocr-results", "export-jobs", "export-results")}
    outputs = {
        "dynamodb_table_name": unique_name, "raw_bucket_name": f"{unique_name}-raw",
        "runs_bucket_name": f"{unique_name}-runs", "bundles_bucket_name": f"{unique_name}-bundles",
        "ocr_job_queue_url": queues["ocr-jobs"], "ocr_results_queue_url": queues["ocr-results"],
        "coreml_export_job_queue_url": queues["export-jobs"],
        "coreml_export_results_queue_url": queues["export-results"], "region": "us-east-1",
    }  # fmt: skip
    path.write_text(json.dumps(outputs))
    return path


def serve_bundle(bundles_bucket: str, bundle_dir: Path, prefix: str) -> None:
    """Upload ``bundle_dir`` to ``s3://<bundles_bucket>/<prefix>`` and promote it."""
    from receipt_cloud.objects import open_object_store
    from receipt_layoutlm.bundles import BundleRegistry

    bundles = open_object_store(f"s3://{bundles_bucket}")
    bundles.upload_dir(bundle_dir, prefix)
    BundleRegistry(bundles).promote(bundles.uri(prefix))
