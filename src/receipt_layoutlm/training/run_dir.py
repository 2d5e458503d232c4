"""The run directory of one training job, locally and under ``runs/<job>/`` in the object store.

Layout (the object store mirrors it)::

    checkpoints/checkpoint-<step>/   Trainer checkpoints (synced after every save)
    best/                            save_checkpoint() of the best epoch (what export reads)
    metrics.jsonl                    one row per evaluation (epoch)
    run.json                         config, dataset, split, versions, timings, results
    report.json, report.md, learning_curves.png, confusion_matrix.png
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_layoutlm.errors import TrainingError

if TYPE_CHECKING:
    from receipt_cloud.objects import ObjectStore

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
BEST = "best"
METRICS_FILE = "metrics.jsonl"
RUN_FILE = "run.json"
CHECKPOINT_PREFIX = "checkpoint-"
TRAINER_STATE_FILE = "trainer_state.json"
"""Written last by the Trainer (and uploaded last by CheckpointSync): a checkpoint-* directory
without it is a save or upload that did not finish."""


def run_prefix(job_name: str) -> str:
    """The object-store prefix of a job's run directory."""
    return f"runs/{job_name}"


def step_of(path: str | Path) -> int | None:
    """The step of a ``checkpoint-<step>`` directory (path or name); None for any other name."""
    name = Path(path).name
    if not name.startswith(CHECKPOINT_PREFIX):
        return None
    step = name[len(CHECKPOINT_PREFIX) :]
    return int(step) if step.isdigit() else None


def checkpoint_dirs(directory: Path) -> list[Path]:
    """The ``checkpoint-<step>`` directories under ``directory``, oldest step first."""
    if not directory.is_dir():
        return []
    found = [p for p in directory.glob(f"{CHECKPOINT_PREFIX}*") if p.is_dir()]
    return sorted((p for p in found if step_of(p) is not None), key=lambda p: step_of(p) or 0)


def upload_checkpoint(objects: ObjectStore, local_dir: Path, prefix: str) -> list[str]:
    """Upload one ``checkpoint-*`` directory with ``trainer_state.json`` last, so a remote
    checkpoint holding it is complete (resume only picks such ones); returns the keys."""
    return objects.upload_dir(local_dir, prefix, commit_last=TRAINER_STATE_FILE)


def upload_verified(objects: ObjectStore, local_dir: Path, prefix: str) -> str:
    """Upload ``local_dir`` to ``prefix`` and check every file exists remotely with the same size;
    returns the prefix's URI. Raises :class:`TrainingError` on any mismatch."""
    objects.upload_dir(local_dir, prefix)
    problems = []
    for path in sorted(p for p in local_dir.rglob("*") if p.is_file()):
        key = f"{prefix}/{path.relative_to(local_dir).as_posix()}"
        if not objects.exists(key):
            problems.append(f"{key} missing")
        elif objects.size(key) != path.stat().st_size:
            problems.append(f"{key} has {objects.size(key)} bytes, local {path.stat().st_size}")
    if problems:
        raise TrainingError(
            "upload of the best checkpoint could not be verified: " + "; ".join(problems[:5])
        )
    return objects.uri(prefix)


@dataclass
class RunDir:
    """Local ``root`` of a job's run and its mirror ``prefix`` in ``objects``."""

    root: Path
    """Local work directory (``--output-dir``)."""
    objects: ObjectStore
    """The runs object store."""
    prefix: str
    """``runs/<job>`` in ``objects``."""

    @classmethod
    def for_job(cls, job_name: str, objects: ObjectStore, root: str | Path | None = None) -> RunDir:
        local = Path(root) if root else Path(".layoutlm-runs") / job_name
        local.mkdir(parents=True, exist_ok=True)
        return cls(root=local, objects=objects, prefix=run_prefix(job_name))

    @property
    def checkpoints(self) -> Path:
        return self.root / CHECKPOINTS

    @property
    def checkpoints_prefix(self) -> str:
        return f"{self.prefix}/{CHECKPOINTS}"

    @property
    def best(self) -> Path:
        return self.root / BEST

    @property
    def metrics(self) -> Path:
        return self.root / METRICS_FILE

    @property
    def run_file(self) -> Path:
        return self.root / RUN_FILE

    def newest_checkpoint(self) -> Path | None:
        """The complete local ``checkpoint-<step>`` with the highest step (it holds
        trainer_state.json); unfinished saves are skipped with a warning."""
        complete = []
        for path in checkpoint_dirs(self.checkpoints):
            if (path / TRAINER_STATE_FILE).is_file():
                complete.append(path)
            else:
                log.warning("skipping %s: no %s (an unfinished save)", path, TRAINER_STATE_FILE)
        return complete[-1] if complete else None

    def fetch_remote(self) -> None:
        """Bring back checkpoints and metrics.jsonl of an earlier run of this job (another
        machine, a spot restart without the local dir)."""
        if self.newest_checkpoint() is None and any(
            True for _ in self.objects.list(f"{self.checkpoints_prefix}/")
        ):
            log.info("downloading checkpoints from %s", self.objects.uri(self.checkpoints_prefix))
            self.objects.download_dir(self.checkpoints_prefix, self.checkpoints)
        remote_metrics = f"{self.prefix}/{METRICS_FILE}"
        if not self.metrics.exists() and self.objects.exists(remote_metrics):
            self.objects.get_file(remote_metrics, self.metrics)

    def read_rows(self) -> list[dict[str, Any]]:
        """The metrics.jsonl rows (one per evaluation)."""
        if not self.metrics.exists():
            return []
        text = self.metrics.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line]

    def start_metrics(self, *, resuming: bool, resume_from: Path | None) -> None:
        """A fresh run drops old rows; a resumed one keeps those up to its checkpoint's step
        (later rows belong to steps that will be re-run)."""
        if not resuming:
            self.metrics.unlink(missing_ok=True)
        elif resume_from is not None:
            done = step_of(resume_from) or 0
            kept = [r for r in self.read_rows() if int(r.get("step", 0)) <= done]
            self.metrics.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in kept))

    def upload_metrics(self) -> None:
        if self.metrics.exists():
            self.objects.put_file(f"{self.prefix}/{METRICS_FILE}", self.metrics)

    def upload_files(self, paths: list[Path]) -> None:
        """Put files of the run directory's top level at ``<prefix>/<name>``."""
        for path in paths:
            self.objects.put_file(f"{self.prefix}/{path.name}", path)

    def write_run(self, run: dict[str, Any]) -> Path:
        self.run_file.write_text(json.dumps(run, indent=2, default=str) + "\n")
        return self.run_file

    def upload_best(self) -> str:
        """Upload best/ verified; returns its URI."""
        return upload_verified(self.objects, self.best, f"{self.prefix}/{BEST}")
