"""Loading a labelling model: a bundle (ONNX, Core ML) or a checkpoint (PyTorch), the runtime to
run it with, and the version string its label proposals are signed with."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_layoutlm.bundle_format import MANIFEST_FILE
from receipt_layoutlm.errors import CheckpointError
from receipt_layoutlm.runtime.registry import choose_runtime, runtime_class

if TYPE_CHECKING:
    from receipt_layoutlm.runtime import Runtime

DEFAULT_CACHE_PATH = "~/.models/layoutlm"
"""Where the model cache keeps downloaded bundles (the seed's location, in the home folder, not
the current one) unless ``--layoutlm-cache-path`` or ``$LAYOUTLM_CACHE_PATH`` says."""
CACHE_PATH_ENV = "LAYOUTLM_CACHE_PATH"


def cache_path(given: str | None = None, environ: Any = None) -> Path:
    """The model cache folder: ``given`` (the flag), else ``$LAYOUTLM_CACHE_PATH``, else
    ``~/.models/layoutlm``; ``~`` expanded."""
    import os

    environ = os.environ if environ is None else environ
    return Path(given or environ.get(CACHE_PATH_ENV) or DEFAULT_CACHE_PATH).expanduser()


@dataclass(frozen=True)
class LoadedModel:
    """A runtime ready to predict, and where it came from."""

    runtime: Runtime
    """A ``receipt_layoutlm.runtime.Runtime``."""
    version: str
    """``<training job>/<export id>`` of a bundle (``<job>/checkpoint`` of a checkpoint): what
    ``label_proposed_by`` records."""
    path: Path
    """The local directory the model was loaded from."""
    runtime_name: str
    """The runtime's registry name (``onnx-int8``, ``onnx``, ``coreml``, ``torch``)."""
    manifest_sha256: str | None = None
    """sha256 of the bundle's manifest.json (None for a checkpoint)."""

    @property
    def entity_labels(self) -> list[str]:
        return sorted({t.split("-", 1)[1] for t in self.runtime.labels if "-" in t})


def model_version(model_dir: Path) -> str:
    """``<job>/<export id>`` from a bundle manifest, ``<job>/checkpoint`` from checkpoint.json,
    else the directory name."""
    manifest = model_dir / MANIFEST_FILE
    if manifest.is_file():
        data = json.loads(manifest.read_text(encoding="utf-8"))
        training = data.get("training_job") or {}
        job = training.get("job_name") or training.get("job_id") or "unknown-job"
        return f"{job}/{data.get('export_id') or model_dir.name}"
    from receipt_layoutlm.run_record import read_meta

    meta = read_meta(model_dir)
    job = meta.get("job_name") or meta.get("job_id")
    return f"{job}/checkpoint" if job else f"{model_dir.name}/checkpoint"


RUNTIME_THREADS = 1
"""Threads per worker process for runtimes that take a thread count (ONNX Runtime): throughput
comes from more processes, and one process's model must not take the cores its neighbours'
Tesseract needs."""


def load_model(
    model_dir: str | Path, *, runtime: str | None = None, manifest_sha256: str | None = None
) -> LoadedModel:
    """Load ``model_dir`` with ``runtime`` (default: the fastest available) and register its
    labels with the record vocabulary, so its proposals can be stored."""
    from receipt_dynamo import register_labels

    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise CheckpointError(f"model directory {model_dir} does not exist")
    name = choose_runtime(model_dir, runtime)
    cls = runtime_class(name)
    loaded = LoadedModel(
        runtime=cls(model_dir, **({"threads": RUNTIME_THREADS} if cls.threaded else {})),
        version=model_version(model_dir),
        path=model_dir,
        runtime_name=name,
        manifest_sha256=manifest_sha256,
    )
    register_labels(loaded.entity_labels)
    return loaded
