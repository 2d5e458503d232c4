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
