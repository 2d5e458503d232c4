"""``train()``: data → Trainer → best checkpoint, with the Job record and artifacts.

A run reads like a fine-tuning script: set up (``phases.prepare_data``, ``encode_data``,
``restore``, ``build_trainer``), fit, then validate and finalize (``finalize.finalize``).
The run directory's layout is :class:`~receipt_layoutlm.training.run_dir.RunDir`'s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_dynamo.vocabulary import JobStatus
from receipt_layoutlm.data import DatasetConfig
from receipt_layoutlm.encoding import EncodingConfig
from receipt_layoutlm.training._config import TrainingConfig
from receipt_layoutlm.training._jobs import JobRecorder
from receipt_layoutlm.training.run_context import RunContext, TrainResult, is_main_process
from receipt_layoutlm.training.run_dir import RunDir, step_of

if TYPE_CHECKING:
    from receipt_cloud.objects import ObjectStore
    from receipt_dynamo import ReceiptStore
    from receipt_layoutlm.document import ReceiptDocument

log = logging.getLogger(__name__)

__all__ = ["TrainResult", "is_main_process", "train"]


def train(
    config: TrainingConfig,
    dataset_config: DatasetConfig = DatasetConfig(),
    *,
    store: ReceiptStore,
    objects: ObjectStore,
    job_name: str,
    output_dir: str | Path | None = None,
    resume: bool = False,
    documents: Sequence[ReceiptDocument] | None = None,
    callbacks: Sequence[Any] = (),
    created_by: str | None = None,
    tags: dict[str, str] | None = None,
    best_model_dir: str | Path | None = None,
) -> TrainResult:
    """Train a LayoutLM token classifier and record it as Job ``job_name``.

    ``store`` holds the receipts (unless ``documents``, ``dataset_config.dataset_file`` or its
    ``mix`` is given) and the Job/JobMetric records; ``objects`` is the runs object store
    (artifacts under ``runs/<job_name>/``). Training an existing, unfinished job name resumes it
    from its newest checkpoint (local ``output_dir`` first, else downloaded). On SIGTERM/SIGINT
    the run stops after the current step with a checkpoint and returns with status
    ``INTERRUPTED``; any error marks the Job failed with the reason and re-raises.
    ``best_model_dir`` gets a copy of ``best/`` (SageMaker's ``SM_MODEL_DIR``).
    """
    from receipt_dynamo.names import validate_job_name
    from receipt_layoutlm.training.callbacks import InterruptFlag

    validate_job_name(job_name)
    _refuse_smoothed_mix(config, dataset_config)
    documents = _trainable_documents(store, dataset_config, documents)
    started = time.monotonic()
    main = is_main_process()
    run_dir = RunDir.for_job(job_name, objects, output_dir)
    encoding_config = EncodingConfig(max_seq_length=config.max_seq_length, stride=config.stride)
    job_config = {
        "training": config.to_dict(),
        "dataset": dataset_config.to_dict(),
        "encoding": encoding_config.to_dict(),
        "seed": config.seed,
    }
    recorder, resuming = JobRecorder.open(
        store,
        job_name,
        job_config=job_config,
        resume=resume,
        enabled=main,
        created_by=created_by,
        tags=tags,
    )
    ctx = RunContext(
        config=config,
        dataset_config=dataset_config,
        encoding_config=encoding_config,
        recorder=recorder,
        resuming=resuming,
        run_dir=run_dir,
        interrupt_flag=InterruptFlag(),
        main=main,
        callbacks=callbacks,
        best_model_dir=Path(best_model_dir) if best_model_dir else None,
        started=started,
    )
    ctx.interrupt_flag.install()
    try:
        return _run(ctx, store, documents)
    except KeyboardInterrupt:
        reason = ctx.interrupt_flag.reason or "KeyboardInterrupt"
        log.warning("job %s interrupted (%s)", job_name, reason)
        return ctx.interrupted(reason)
    except BaseException as exc:
        recorder.update(
            status=JobStatus.FAILED, status_message=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    finally:
        ctx.interrupt_flag.restore()


def _refuse_smoothed_mix(config: TrainingConfig, dataset_config: DatasetConfig) -> None:
    if dataset_config.mix and config.label_smoothing:
        from receipt_layoutlm.errors import TrainingError

        raise TrainingError(
            "--label-smoothing is not applied by the per-dataset label-mask loss of --mix; "
            "train a mix with --label-smoothing 0"
        )


def _trainable_documents(
    store: ReceiptStore, dataset_config: DatasetConfig, documents: Sequence[ReceiptDocument] | None
) -> Sequence[ReceiptDocument]:
    """The receipts to train on, checked before a Job record or a run folder exists: nothing to
    train on is refused here, not left behind as a FAILED Job with an empty run folder."""
    from receipt_layoutlm.data import check_dataset_source, load_documents
    from receipt_layoutlm.training.phases import check_trainable

    if documents is None:
        check_dataset_source(dataset_config)
        documents = load_documents(store, dataset_config)
    check_trainable(documents, dataset_config)
    return documents


def _run(
    ctx: RunContext, store: ReceiptStore, documents: Sequence[ReceiptDocument] | None
) -> TrainResult:
    from receipt_layoutlm.training.finalize import finalize
    from receipt_layoutlm.training.phases import (
        build_trainer,
        encode_data,
        prepare_data,
        restore,
    )

    data = prepare_data(ctx, store, documents)
    encoded = encode_data(ctx, data)
    resume_from = restore(ctx)
    fit = build_trainer(ctx, data, encoded)
    if resume_from is not None:
        log.info("job %s: resuming from %s", ctx.job_name, resume_from)
    t0 = time.monotonic()
    fit.trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    ctx.timings["train_s"] = time.monotonic() - t0
    step = fit.trainer.state.global_step
    steps_this_run = step - ((step_of(resume_from) or 0) if resume_from else 0)
    if ctx.interrupt_flag.is_set:
        if fit.sync is not None:
            fit.sync.sync()
        return ctx.interrupted(
            f"{ctx.interrupt_flag.reason} at step {step}",
            epochs=ctx.run_dir.read_rows(),
            resumed_from=str(resume_from) if resume_from else None,
            steps_this_run=steps_this_run,
        )
    return finalize(ctx, data, encoded, fit, resume_from, steps_this_run)
