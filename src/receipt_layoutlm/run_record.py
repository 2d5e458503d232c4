"""What the training run recorded about a checkpoint: ``checkpoint.json`` (job, epoch, metrics,
split hashes, label merges, the dataset settings) and, for older checkpoints, the run's
``run.json`` beside ``best/``. Read from a local directory (fetch it first with
``remote_dirs``); only :func:`recorded_job` reads one remote file, to name a bundle's
destination before the checkpoint is fetched.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from receipt_cloud.objects import ObjectNotFoundError, is_remote_uri, resolve_uri
from receipt_layoutlm.bundle_format import META_FILE
from receipt_layoutlm.errors import CheckpointError

logger = logging.getLogger(__name__)


def training_dataset_config(directory: str | Path, meta: Mapping[str, Any] | None = None) -> dict:
    """The ``DatasetConfig`` dict the checkpoint was trained with, or ``{}`` when unrecorded.

    ``checkpoint.json`` carries it as ``dataset_config`` (training writes it); checkpoints
    written before that have it only in the run's ``run.json`` beside ``best/``.
    """
    directory = Path(directory)
    if meta is None:
        meta = read_meta(directory)
    recorded = meta.get("dataset_config")
    if isinstance(recorded, dict):
        return dict(recorded)
    run_file = directory.parent / "run.json"
    if run_file.is_file():
        try:
            run = json.loads(run_file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            run = f"not JSON ({exc})"
        if not isinstance(run, dict):
            # The run record is only a fallback for older checkpoints: say why it is not used.
            logger.warning("%s: unreadable run record (%s); no dataset settings taken from it",
                           run_file, run if isinstance(run, str) else "not an object")
            return {}
        same_job = not meta.get("job_id") or run.get("job_id") == meta.get("job_id")
        if same_job and isinstance(run.get("dataset_config"), dict):
            return dict(run["dataset_config"])
    return {}


def read_meta(directory: str | Path) -> dict[str, Any]:
    """``checkpoint.json`` of ``directory`` (``{}`` when absent); CheckpointError if invalid."""
    path = Path(directory) / META_FILE
    if not path.is_file():
        return {}
    return _parsed_meta(path.read_bytes(), str(path))


def _parsed_meta(data: bytes, where: str) -> dict[str, Any]:
    """``checkpoint.json``'s object; CheckpointError naming ``where`` when it is not one."""
    try:
        return dict(json.loads(data))
    except (TypeError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError included
        raise CheckpointError(f"{where} is not valid JSON ({exc})") from None


def recorded_job(uri: str | Path) -> str | None:
    """The training job (name, else id) a checkpoint records in ``checkpoint.json``, read without
    downloading the weights; None when the checkpoint records none."""
    if not is_remote_uri(uri):
        meta = read_meta(uri)
    else:
        store, key = resolve_uri(str(uri).rstrip("/") + "/" + META_FILE)
        try:
            data = store.get_bytes(key)
        except ObjectNotFoundError:
            return None
        meta = _parsed_meta(data, store.uri(key))
    return meta.get("job_name") or meta.get("job_id")


