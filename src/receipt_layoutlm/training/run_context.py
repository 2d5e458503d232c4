"""What the phases of one ``train()`` call share, and what the call returns."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_dynamo.vocabulary import JobStatus
from receipt_layoutlm.data import DatasetConfig
from receipt_layoutlm.encoding import EncodingConfig
from receipt_layoutlm.training._config import TrainingConfig
from receipt_layoutlm.training._jobs import JobRecorder
from receipt_layoutlm.training.run_dir import RunDir

if TYPE_CHECKING:  # callbacks imports transformers; the context must not
    from receipt_dynamo import Job
    from receipt_layoutlm.training.callbacks import InterruptFlag


def is_main_process() -> bool:
    """Rank 0 under torchrun/accelerate (``RANK``), or a single process."""
    return int(os.environ.get("RANK", "0")) == 0


@dataclass
class TrainResult:
    """What a call to :func:`train` produced."""

    job: Job
    """The Job record as last written."""
    status: JobStatus
    """``SUCCEEDED`` or ``INTERRUPTED`` (failures raise after the Job is marked failed)."""
    output_dir: Path
    """Local directory with checkpoints, best/, metrics and reports."""
    best_f1: float | None = None
    """Best value of the checkpoint metric's F1 (``eval_f1``) over the epochs."""
    best_epoch: int | None = None
    """Epoch of the best checkpoint."""
    best_checkpoint_uri: str | None = None
    """Object-store URI of ``runs/<job>/best`` (verified upload)."""
    epochs: list[dict[str, Any]] = field(default_factory=list)
    """metrics.jsonl rows (every epoch of the job, earlier runs included)."""
    resumed_from: str | None = None
    """The checkpoint this run resumed from, if any."""
    steps_this_run: int = 0
    """Optimizer steps performed by this call (a resumed run skips finished ones)."""


@dataclass
class RunContext:
    """One ``train()`` call: its configs, Job recorder, run directory and bookkeeping."""

    config: TrainingConfig
    dataset_config: DatasetConfig
    encoding_config: EncodingConfig
    recorder: JobRecorder
    resuming: bool
    """An earlier run of this job name exists (its checkpoints and split must be reused)."""
    run_dir: RunDir
    interrupt_flag: InterruptFlag
    """Set by SIGTERM/SIGINT during this call: training saves a checkpoint and stops cleanly."""
    main: bool = True
    """Rank 0 (the only process that writes records and artifacts)."""
    callbacks: Sequence[Any] = ()
    """Extra Trainer callbacks of the caller."""
    best_model_dir: Path | None = None
    """Where a copy of best/ goes (SageMaker's ``SM_MODEL_DIR``)."""
    started: float = field(default_factory=time.monotonic)
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per phase: ``load_s``, ``encode_s``, ``train_s``, ``total_s``."""

    @property
    def job_name(self) -> str:
        return str(self.recorder.job.name)

    def interrupted(self, reason: str, **result: Any) -> TrainResult:
        """Mark the Job interrupted with the command that resumes it."""
        self.recorder.update(
            status=JobStatus.INTERRUPTED,
            status_message=f"{reason}; resume with: layoutlm-cli train --job-name {self.job_name}",
        )
        return TrainResult(
            job=self.recorder.job,
            status=JobStatus.INTERRUPTED,
            output_dir=self.run_dir.root,
            **result,
        )
