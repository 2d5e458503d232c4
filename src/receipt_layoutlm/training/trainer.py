"""``train()``: data → Trainer → best checkpoint, with the Job record and artifacts.

Layout of the local output directory (``runs/<job>/`` in the object store mirrors it)::

    checkpoints/checkpoint-<step>/   Trainer checkpoints (synced after every save)
    best/                            save_checkpoint() of the best epoch (what export reads)
    metrics.jsonl                    one row per evaluation (epoch)
    run.json                         config, dataset, split, versions, timings, results
    report.json, report.md, learning_curves.png, confusion_matrix.png
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from receipt_layoutlm.data import (
    DatasetConfig,
    DocumentSet,
    encode_documents,
    entity_labels,
    load_documents,
    rows_to_dataset,
    split_documents,
    window_rows,
)
from receipt_layoutlm.encoding import ENCODING_VERSION, EncodingConfig, label_list
from receipt_layoutlm.errors import TrainingError
from receipt_layoutlm.training._config import TrainingConfig
from receipt_layoutlm.training._jobs import JobRecorder

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
BEST = "best"
METRICS_FILE = "metrics.jsonl"
RUN_FILE = "run.json"


@dataclass
class TrainResult:
    """What a call to :func:`train` produced."""

    job: Any
    """The Job record as last written."""
    status: str
    """``succeeded`` | ``interrupted`` (failures raise after the Job is marked failed)."""
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


def is_main_process() -> bool:
    """Rank 0 under torchrun/accelerate (``RANK``), or a single process."""
    return int(os.environ.get("RANK", "0")) == 0


def run_prefix(job_name: str) -> str:
    return f"runs/{job_name}"


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version(), "encoding": ENCODING_VERSION}
    for dist in ("receipt-labeler", "torch", "transformers", "datasets", "accelerate"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


TRAINER_STATE_FILE = "trainer_state.json"
"""Written last by the Trainer (and uploaded last by CheckpointSync): a checkpoint-* directory
without it is a save or upload that did not finish."""


def _newest_checkpoint(directory: Path) -> Path | None:
    """The complete ``checkpoint-<step>`` with the highest step (it holds trainer_state.json)."""
    if not directory.is_dir():
        return None
    complete: list[tuple[int, Path]] = []
    for path in directory.glob("checkpoint-*"):
        step = path.name.rsplit("-", 1)[1]
        if not (path.is_dir() and step.isdigit()):
            continue
        if (path / TRAINER_STATE_FILE).is_file():
            complete.append((int(step), path))
        else:
            log.warning("skipping %s: no %s (an unfinished save)", path, TRAINER_STATE_FILE)
    return max(complete)[1] if complete else None


def _fetch_remote_state(objects: Any, prefix: str, output_dir: Path) -> None:
    """Bring back checkpoints and metrics.jsonl of an earlier run of this job (another machine,
    a spot restart without the local dir)."""
    checkpoints = output_dir / CHECKPOINTS
    if _newest_checkpoint(checkpoints) is None and any(
        True for _ in objects.list(f"{prefix}/{CHECKPOINTS}/")
    ):
        log.info("downloading checkpoints of %s from %s", prefix, objects.uri(prefix))
        objects.download_dir(f"{prefix}/{CHECKPOINTS}", checkpoints)
    metrics = output_dir / METRICS_FILE
    if not metrics.exists() and objects.exists(f"{prefix}/{METRICS_FILE}"):
        objects.get_file(f"{prefix}/{METRICS_FILE}", metrics)


def _read_rows(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def upload_verified(objects: Any, local_dir: Path, prefix: str) -> str:
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


def _mixed_precision() -> dict[str, bool]:
    import torch

    if not torch.cuda.is_available():
        return {}
    if torch.cuda.is_bf16_supported():
        return {"bf16": True}
    return {"fp16": True}


def _make_trainer_class() -> type:
    from transformers import Trainer

    class LayoutLMTrainer(Trainer):
        """Trainer with a learning-rate multiplier for freshly initialised tensors."""

        new_param_names: frozenset[str] = frozenset()
        new_param_lr_multiplier: float = 1.0

        def _get_eval_sampler(self, eval_dataset: Any) -> Any:
            # transformers groups EVAL batches by length too under group_by_length; word-level
            # decoding needs the logits in dataset order (receipt by receipt, window by window).
            from torch.utils.data import SequentialSampler

            if eval_dataset is None:
                return None
            return SequentialSampler(eval_dataset) if self.args.world_size <= 1 else None

        def create_optimizer(self, model: Any = None) -> Any:
            if self.optimizer is not None or self.new_param_lr_multiplier == 1.0:
                return super().create_optimizer(model)
            opt_model = self.model if model is None else model
            decay = set(self.get_decay_parameter_names(opt_model))
            base_lr = self.args.learning_rate
            groups = []
            for is_new in (False, True):
                for use_decay in (True, False):
                    params = [
                        p
                        for n, p in opt_model.named_parameters()
                        if p.requires_grad
                        and (n in decay) == use_decay
                        and (n.removeprefix("module.") in self.new_param_names) == is_new
                    ]
                    if params:
                        groups.append(
                            {
                                "params": params,
                                "weight_decay": self.args.weight_decay if use_decay else 0.0,
                                "lr": base_lr * (self.new_param_lr_multiplier if is_new else 1.0),
                            }
                        )
            optimizer_cls, kwargs = self.get_optimizer_cls_and_kwargs(self.args, opt_model)
            self.optimizer = optimizer_cls(groups, **kwargs)
            return self.optimizer

    return LayoutLMTrainer


def train(
    config: TrainingConfig,
    dataset_config: DatasetConfig = DatasetConfig(),
    *,
    store: Any,
    objects: Any,
    job_name: str,
    output_dir: str | Path | None = None,
    resume: bool = False,
    documents: Sequence[Any] | None = None,
    callbacks: Sequence[Any] = (),
    created_by: str | None = None,
    tags: dict[str, str] | None = None,
    best_model_dir: str | Path | None = None,
) -> TrainResult:
    """Train a LayoutLM token classifier and record it as Job ``job_name``.

    ``store`` holds the receipts (unless ``documents`` or ``dataset_config.dataset_file`` is
    given) and the Job/JobMetric records; ``objects`` is the runs object store (artifacts under
    ``runs/<job_name>/``). Training an existing, unfinished job name resumes it from its newest
    checkpoint (local ``output_dir`` first, else downloaded). On SIGTERM/SIGINT the run stops
    after the current step with a checkpoint and returns with status ``interrupted``; any error
    marks the Job failed with the reason and re-raises. ``best_model_dir`` gets a copy of
    ``best/`` (SageMaker's ``SM_MODEL_DIR``).
    """
    from receipt_dynamo.names import validate_job_name
    from receipt_layoutlm.data import check_dataset_source
    from receipt_layoutlm.training.callbacks import InterruptFlag

    validate_job_name(job_name)
    if documents is None:
        check_dataset_source(dataset_config)  # before a Job record or a run folder exists
    started = time.monotonic()
    timings: dict[str, float] = {}
    main = is_main_process()
    output = Path(output_dir) if output_dir else Path(".layoutlm-runs") / job_name
    output.mkdir(parents=True, exist_ok=True)
    prefix = run_prefix(job_name)
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
    flag = InterruptFlag()
    flag.install()
    try:
        result = _run(
            config,
            dataset_config,
            encoding_config=encoding_config,
            store=store,
            objects=objects,
            recorder=recorder,
            resuming=resuming,
            output=output,
            prefix=prefix,
            documents=documents,
            callbacks=callbacks,
            flag=flag,
            timings=timings,
            started=started,
            main=main,
            best_model_dir=Path(best_model_dir) if best_model_dir else None,
        )
    except KeyboardInterrupt:
        reason = flag.reason or "KeyboardInterrupt"
        recorder.update(
            status="interrupted",
            status_message=f"{reason}; resume with: layoutlm-cli train --job-name {job_name}",
        )
        log.warning("job %s interrupted (%s)", job_name, reason)
        return TrainResult(job=recorder.job, status="interrupted", output_dir=output)
    except BaseException as exc:
        recorder.update(status="failed", status_message=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    finally:
        flag.restore()
    return result


def _run(
    config: TrainingConfig,
    dataset_config: DatasetConfig,
    *,
    encoding_config: EncodingConfig,
    store: Any,
    objects: Any,
    recorder: JobRecorder,
    resuming: bool,
    output: Path,
    prefix: str,
    documents: Sequence[Any] | None,
    callbacks: Sequence[Any],
    flag: Any,
    timings: dict[str, float],
    started: float,
    main: bool,
    best_model_dir: Path | None,
) -> TrainResult:
    import torch
    from transformers import EarlyStoppingCallback, TrainingArguments, set_seed

    from receipt_layoutlm.training.callbacks import (
        CheckpointSync,
        EpochRecorder,
        InterruptCallback,
    )
    from receipt_layoutlm.training.collator import LayoutLMCollator
    from receipt_layoutlm.training.model_init import build_model
    from receipt_layoutlm.training.word_metrics import WordLevelMetrics

    job_name = recorder.job.name
    # --- data -----------------------------------------------------------------------------
    t0 = time.monotonic()
    if documents is not None:
        docs = documents if isinstance(documents, DocumentSet) else DocumentSet(documents)
    else:
        docs = load_documents(store, dataset_config)
    split = split_documents(docs, dataset_config)
    if not split.dev:
        raise TrainingError(
            "the dev split is empty; per-epoch metrics and the best checkpoint need dev receipts "
            "(raise --dev-ratio or add receipts)"
        )
    labels = label_list(entity_labels(split.train, dataset_config))
    if len(labels) == 1:
        raise TrainingError(
            "the training receipts carry no entity label (after merges and --allowed-label); "
            "nothing to learn"
        )
    timings["load_s"] = time.monotonic() - t0
    dataset_info = {
        "source": docs.source or "documents",
        "receipts": len(docs),
        "label_conflicts": docs.conflicts,
        "unverified_words": sum(len(v) for v in docs.unverified.values()),
        "merges": dataset_config.merges,
        "labels": labels,
    }
    previous = recorder.job.job_config.get("split")
    if resuming and previous and previous.get("hashes") != split.hashes:
        raise TrainingError(
            f"job {job_name} was trained on another split (train/dev hashes "
            f"{previous.get('hashes')}) than this run produces ({split.hashes}); use the same "
            "data and split flags, or a new --job-name"
        )
    if resuming and recorder.job.job_config.get("labels") not in (None, labels):
        raise TrainingError(
            f"job {job_name} was trained with labels {recorder.job.job_config['labels']}, this "
            f"data gives {labels}; use the same data and merges, or a new --job-name"
        )
    job_config = {
        **recorder.job.job_config,
        "split": split.to_dict(),
        "labels": labels,
        "dataset_summary": dataset_info,
    }
    recorder.update(status="running", status_message=None, job_config=job_config)

    # --- model + encoded windows ----------------------------------------------------------------
    set_seed(config.seed)
    init = build_model(config, labels)
    tokenizer = init.tokenizer
    t0 = time.monotonic()
    train_set = encode_documents(split.train, tokenizer, encoding_config, labels, dataset_config)
    dev_set = encode_documents(split.dev, tokenizer, encoding_config, labels, dataset_config)
    train_ds = rows_to_dataset(
        window_rows(
            train_set,
            downsample_empty=dataset_config.downsample_empty,
            outside_id=labels.index("O"),
            seed=config.seed,
        )
    )
    dev_ds = rows_to_dataset(window_rows(dev_set, outside_id=labels.index("O")))
    timings["encode_s"] = time.monotonic() - t0
    dataset_info["windows"] = {"train": len(train_ds), "dev": len(dev_ds)}
    log.info(
        "job %s: %d train / %d dev receipts, %d / %d windows, %d labels, model %s",
        job_name,
        len(split.train),
        len(split.dev),
        len(train_ds),
        len(dev_ds),
        len(labels),
        init.source,
    )

    # --- resume ---------------------------------------------------------------------------------
    checkpoints_dir = output / CHECKPOINTS
    if resuming and main:
        _fetch_remote_state(objects, prefix, output)
    resume_from = _newest_checkpoint(checkpoints_dir) if resuming else None
    if resuming and resume_from is None:
        log.info("job %s has no checkpoint yet: starting from the beginning", job_name)
    metrics_path = output / METRICS_FILE
    if not resuming and metrics_path.exists():
        metrics_path.unlink()
    if resume_from is not None:
        # Rows after the checkpoint's step belong to steps that will be re-run.
        done = int(resume_from.name.rsplit("-", 1)[1])
        kept = [r for r in _read_rows(metrics_path) if int(r.get("step", 0)) <= done]
        metrics_path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in kept))

    # --- trainer --------------------------------------------------------------------------------
    steps_mode = config.max_steps is not None
    strategy = "steps" if steps_mode else "epoch"
    args = TrainingArguments(
        output_dir=str(checkpoints_dir),
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps if steps_mode else -1,
        learning_rate=config.learning_rate,
        warmup_steps=config.warmup_ratio,
        weight_decay=config.weight_decay,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        label_smoothing_factor=config.label_smoothing,
        seed=config.seed,
        eval_strategy=strategy,
        save_strategy=strategy,
        logging_strategy=strategy,
        eval_steps=config.max_steps if steps_mode else None,
        save_steps=config.max_steps if steps_mode else 500,
        logging_steps=config.max_steps if steps_mode else config.logging_steps,
        load_best_model_at_end=True,
        metric_for_best_model=config.checkpoint_metric,
        greater_is_better=config.greater_is_better,
        save_total_limit=config.save_total_limit,
        train_sampling_strategy="group_by_length",
        length_column_name="length",
        remove_unused_columns=False,
        report_to="none",
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(),
        # The pooler's output is unused for token classification; DDP must tolerate that.
        ddp_find_unused_parameters=True,
        disable_tqdm=not main,
        **_mixed_precision(),
    )
    metrics_fn = WordLevelMetrics(dev_set, labels)

    def per_label() -> dict[str, Any]:
        if metrics_fn.last is None:
            return {}
        return {k: vars(v) for k, v in metrics_fn.last.metrics.per_label.items()}

    def upload_metrics() -> None:
        if metrics_path.exists():
            objects.put_file(f"{prefix}/{METRICS_FILE}", metrics_path)

    recorder_cb = EpochRecorder(
        metrics_path, recorder.add_metrics if main else None, per_label_support=per_label
    )
    interrupt_cb = InterruptCallback(flag)
    trainer_callbacks: list[Any] = [recorder_cb, interrupt_cb]
    if main:
        trainer_callbacks.append(
            CheckpointSync(objects, f"{prefix}/{CHECKPOINTS}", checkpoints_dir, upload_metrics)
        )
    if config.early_stopping_patience > 0:
        trainer_callbacks.append(EarlyStoppingCallback(config.early_stopping_patience))
    trainer_callbacks.extend(callbacks)
    trainer_cls = _make_trainer_class()
    trainer_cls.new_param_names = frozenset(init.new_tensors)
    trainer_cls.new_param_lr_multiplier = config.new_param_lr_multiplier
    collator = LayoutLMCollator(
        pad_token_id=int(tokenizer.pad_token_id or 0),
        pad_to_multiple_of=8 if torch.cuda.is_available() else None,
    )
    trainer = trainer_cls(
        model=init.model,
        args=args,
        data_collator=collator,
        train_dataset=train_ds,
        eval_dataset=dev_ds,
        compute_metrics=metrics_fn,
        callbacks=trainer_callbacks,
    )
    t0 = time.monotonic()
    step_before = 0
    if resume_from is not None:
        log.info("job %s: resuming from %s", job_name, resume_from)
        step_before = int(resume_from.name.rsplit("-", 1)[1])
    trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    timings["train_s"] = time.monotonic() - t0
    steps_this_run = trainer.state.global_step - step_before
    rows = _read_rows(metrics_path)

    if flag.is_set:
        if main:
            CheckpointSync(
                objects, f"{prefix}/{CHECKPOINTS}", checkpoints_dir, upload_metrics
            ).sync()
        recorder.update(
            status="interrupted",
            status_message=(
                f"{flag.reason} at step {trainer.state.global_step}; resume with: "
                f"layoutlm-cli train --job-name {job_name}"
            ),
        )
        return TrainResult(
            job=recorder.job,
            status="interrupted",
            output_dir=output,
            epochs=rows,
            resumed_from=str(resume_from) if resume_from else None,
            steps_this_run=steps_this_run,
        )

    # --- best model, report, artifacts ----------------------------------------------------------
    metric_key = config.checkpoint_metric
    metric_key = metric_key if metric_key.startswith("eval_") else f"eval_{metric_key}"
    scored = [r for r in rows if metric_key in r]
    if not scored:
        raise TrainingError(f"no evaluation produced {metric_key}; nothing to pick a best model by")
    pick = max if config.greater_is_better else min
    best_row = pick(scored, key=lambda r: r[metric_key])
    recorder_cb.active = False
    final = trainer.evaluate()
    result_words = metrics_fn.last
    results: dict[str, Any] = {
        "best_f1": float(best_row.get("eval_f1", final.get("eval_f1", 0.0))),
        "best_epoch": int(best_row["epoch"]),
        "best_step": int(best_row["step"]),
        "best_metric": {metric_key: float(best_row[metric_key])},
        "final_eval": {k: float(v) for k, v in final.items() if isinstance(v, int | float)},
        "epochs_run": len(rows),
    }
    run: dict[str, Any] = {
        "job_name": job_name,
        "job_id": recorder.job.job_id,
        "config": config.to_dict(),
        "dataset_config": dataset_config.to_dict(),
        "encoding": encoding_config.to_dict(),
        "dataset": dataset_info,
        "split": split.to_dict(),
        "model": {
            "source": init.source,
            "new_tensors": init.new_tensors if init.copied_tensors else ["<all>"],
            "parameters": int(sum(p.numel() for p in trainer.model.parameters())),
        },
        "versions": _versions(),
        "resumed_from": str(resume_from) if resume_from else None,
    }
    if not main:
        return TrainResult(job=recorder.job, status="succeeded", output_dir=output, epochs=rows)

    from receipt_layoutlm.checkpoint import save_checkpoint
    from receipt_layoutlm.evaluation import confusion_matrix, write_report

    best_dir = output / BEST
    if best_dir.exists():
        shutil.rmtree(best_dir)
    save_checkpoint(
        best_dir,
        trainer.model,
        tokenizer,
        labels,
        encoding_config,
        extra_meta={
            "job_name": job_name,
            "job_id": recorder.job.job_id,
            "best_epoch": results["best_epoch"],
            "best_f1": results["best_f1"],
            "split_hashes": split.hashes,
            "merges": dataset_config.merges,
            # evaluate --split-side and the export parity gate read the split and data back.
            "dataset_config": dataset_config.to_dict(),
        },
    )
    report_files: list[Path] = []
    if result_words is not None:
        entities = ["O", *sorted({t[2:] for t in labels if t != "O"})]
        true_flat = [t for seq in result_words.true_tags for t in seq]
        pred_flat = [t for seq in result_words.pred_tags for t in seq]
        confusion = confusion_matrix(true_flat, pred_flat, entities)
        curves = [
            {
                "epoch": r["epoch"],
                "loss": r.get("loss"),
                "eval_loss": r.get("eval_loss"),
                "f1": r.get("eval_f1"),
                "learning_rate": r.get("learning_rate"),
            }
            for r in rows
        ]
        report_files = write_report(
            output,
            metrics={"entity": result_words.metrics.to_dict(), "best": results},
            confusion=confusion,
            labels=entities,
            curves=curves,
        )
    timings["total_s"] = time.monotonic() - started
    run["timings"] = timings
    run["results"] = results
    (output / RUN_FILE).write_text(json.dumps(run, indent=2, default=str) + "\n")
    for path in [output / RUN_FILE, metrics_path, *report_files]:
        objects.put_file(f"{prefix}/{path.name}", path)
    CheckpointSync(objects, f"{prefix}/{CHECKPOINTS}", checkpoints_dir, lambda: None).sync()
    best_uri = upload_verified(objects, best_dir, f"{prefix}/{BEST}")
    results["best_checkpoint_s3_path"] = best_uri
    results["run_uri"] = objects.uri(prefix)
    (output / RUN_FILE).write_text(json.dumps(run, indent=2, default=str) + "\n")
    objects.put_file(f"{prefix}/{RUN_FILE}", output / RUN_FILE)
    if best_model_dir is not None:
        shutil.copytree(best_dir, best_model_dir, dirs_exist_ok=True)
    job = recorder.update(status="succeeded", status_message=None, results=results)
    log.info(
        "job %s succeeded: best %s %.4f at epoch %d → %s",
        job_name,
        metric_key,
        best_row[metric_key],
        results["best_epoch"],
        best_uri,
    )
    return TrainResult(
        job=job,
        status="succeeded",
        output_dir=output,
        best_f1=results["best_f1"],
        best_epoch=results["best_epoch"],
        best_checkpoint_uri=best_uri,
        epochs=rows,
        resumed_from=str(resume_from) if resume_from else None,
        steps_this_run=steps_this_run,
    )
