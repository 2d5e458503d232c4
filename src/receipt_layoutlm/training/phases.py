"""The set-up phases of a training run, in order: :func:`prepare_data` (receipts → split and
labels), :func:`encode_data` (model, tokenizer, windows), :func:`restore` (the checkpoint to
resume from) and :func:`build_trainer`. ``trainer.train`` runs them, fits, and hands over to
``finalize``."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_dynamo.vocabulary import JobStatus
from receipt_layoutlm.data import (
    DocumentSet,
    Split,
    dataset_label_sets,
    encode_documents,
    entity_labels,
    load_documents,
    rows_to_dataset,
    split_documents,
    window_rows,
)
from receipt_layoutlm.encoding import label_list
from receipt_layoutlm.errors import TrainingError
from receipt_layoutlm.training.run_context import RunContext

if TYPE_CHECKING:
    from receipt_dynamo import ReceiptStore
    from receipt_layoutlm.data import DatasetConfig, EncodedSet
    from receipt_layoutlm.document import ReceiptDocument
    from receipt_layoutlm.evaluation.word_metrics import WordLevelMetrics
    from receipt_layoutlm.training.callbacks import CheckpointSync, EpochRecorder
    from receipt_layoutlm.training.label_masks import FoldedWordMetrics
    from receipt_layoutlm.training.model_init import ModelInit

log = logging.getLogger(__name__)


@dataclass
class PreparedData:
    """The receipts of a run, split, and the label list they give."""

    docs: DocumentSet
    split: Split
    labels: list[str]
    """``O`` plus B-/I- tags of every entity label of the training side."""
    info: dict[str, Any]
    """Summary for the Job and run.json (source, counts, merges, labels, windows)."""
    dataset_labels: dict[str, list[str]] = field(default_factory=dict)
    """A ``--mix`` run's ``{dataset: entity labels it annotates}`` (empty otherwise)."""


@dataclass
class EncodedData:
    """The model to train and the windows it trains and evaluates on."""

    init: ModelInit
    """The :class:`~receipt_layoutlm.training.model_init.ModelInit`."""
    dev_set: EncodedSet
    """Encoded dev receipts (word-level metrics decode against them)."""
    train_ds: Any
    dev_ds: Any


@dataclass
class Fitting:
    """The Trainer and the callbacks that :func:`finalize` reads back."""

    trainer: Any
    metrics_fn: WordLevelMetrics | FoldedWordMetrics
    """The :class:`~receipt_layoutlm.evaluation.word_metrics.WordLevelMetrics` of the dev set."""
    recorder_cb: EpochRecorder
    """The :class:`~receipt_layoutlm.training.callbacks.EpochRecorder`."""
    sync: CheckpointSync | None
    """The :class:`~receipt_layoutlm.training.callbacks.CheckpointSync` (rank 0), else None."""


def _documents(
    ctx: RunContext, store: ReceiptStore, documents: Sequence[ReceiptDocument] | None
) -> DocumentSet:
    if documents is not None:
        return documents if isinstance(documents, DocumentSet) else DocumentSet(documents)
    return load_documents(store, ctx.dataset_config)


def check_trainable(
    docs: Sequence[ReceiptDocument], dataset_config: DatasetConfig
) -> tuple[Split, list[str]]:
    """The split and label list of ``docs``; :class:`TrainingError` when there is nothing to
    train on. ``train`` runs it before a Job record or a run folder exists."""
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
    if dataset_config.mix:
        dataset_label_sets(split.train, dataset_config)  # each dataset must annotate a label
    return split, labels


def _check_resumed_job(ctx: RunContext, split: Split, labels: list[str]) -> None:
    """A resumed job must see the split and labels it started with."""
    recorded = ctx.recorder.job.job_config
    previous = recorded.get("split")
    if ctx.resuming and previous and previous.get("hashes") != split.hashes:
        raise TrainingError(
            f"job {ctx.job_name} was trained on another split (train/dev hashes "
            f"{previous.get('hashes')}) than this run produces ({split.hashes}); use the same "
            "data and split flags, or a new --job-name"
        )
    if ctx.resuming and recorded.get("labels") not in (None, labels):
        raise TrainingError(
            f"job {ctx.job_name} was trained with labels {recorded['labels']}, this "
            f"data gives {labels}; use the same data and merges, or a new --job-name"
        )


def prepare_data(
    ctx: RunContext, store: ReceiptStore, documents: Sequence[ReceiptDocument] | None
) -> PreparedData:
    """Load and split the receipts, derive the labels, record both in the Job (now running)."""
    t0 = time.monotonic()
    dataset_config = ctx.dataset_config
    docs = _documents(ctx, store, documents)
    split, labels = check_trainable(docs, dataset_config)
    ctx.timings["load_s"] = time.monotonic() - t0
    info = {
        "source": docs.source or "documents",
        "receipts": len(docs),
        "label_conflicts": docs.conflicts,
        "unverified_words": sum(len(v) for v in docs.unverified.values()),
        "merges": dataset_config.merges,
        "labels": labels,
    }
    _check_resumed_job(ctx, split, labels)
    dataset_labels = dataset_label_sets(split.train, dataset_config) if dataset_config.mix else {}
    if dataset_labels:
        info["dataset_labels"] = dataset_labels
        info["dataset_receipts"] = {
            name: sum(1 for d in docs if docs.datasets.get(d.key) == name)
            for name in dataset_labels
        }
    job_config = {
        **ctx.recorder.job.job_config,
        "split": split.to_dict(),
        "labels": labels,
        "dataset_summary": info,
    }
    ctx.recorder.update(status=JobStatus.RUNNING, status_message=None, job_config=job_config)
    return PreparedData(
        docs=docs, split=split, labels=labels, info=info, dataset_labels=dataset_labels
    )


def encode_data(ctx: RunContext, data: PreparedData) -> EncodedData:
    """Seed, build the model and encode both sides of the split into windows."""
    from transformers import set_seed

    from receipt_layoutlm.training.model_init import build_model

    config, dataset_config, labels = ctx.config, ctx.dataset_config, data.labels
    set_seed(config.seed)
    init = build_model(config, labels)
    t0 = time.monotonic()
    encode = ctx.encoding_config
    train_set = encode_documents(data.split.train, init.tokenizer, encode, labels, dataset_config)
    dev_set = encode_documents(data.split.dev, init.tokenizer, encode, labels, dataset_config)
    outside = labels.index("O")
    train_ds = rows_to_dataset(
        window_rows(
            train_set,
            downsample_empty=dataset_config.downsample_empty,
            outside_id=outside,
            seed=config.seed,
        )
    )
    dev_ds = rows_to_dataset(window_rows(dev_set, outside_id=outside))
    ctx.timings["encode_s"] = time.monotonic() - t0
    data.info["windows"] = {"train": len(train_ds), "dev": len(dev_ds)}
    log.info(
        "job %s: %d train / %d dev receipts, %d / %d windows, %d labels, model %s",
        ctx.job_name,
        len(data.split.train),
        len(data.split.dev),
        len(train_ds),
        len(dev_ds),
        len(labels),
        init.source,
    )
    return EncodedData(init=init, dev_set=dev_set, train_ds=train_ds, dev_ds=dev_ds)


def restore(ctx: RunContext) -> Path | None:
    """The checkpoint to resume from (local, else downloaded from the runs store), and
    metrics.jsonl trimmed to it; None for a fresh start."""
    run_dir = ctx.run_dir
    if ctx.resuming and ctx.main:
        run_dir.fetch_remote()
    resume_from = run_dir.newest_checkpoint() if ctx.resuming else None
    if ctx.resuming and resume_from is None:
        log.info("job %s has no checkpoint yet: starting from the beginning", ctx.job_name)
    run_dir.start_metrics(resuming=ctx.resuming, resume_from=resume_from)
    return resume_from


def build_trainer(ctx: RunContext, data: PreparedData, encoded: EncodedData) -> Fitting:
    """The Trainer with the Job, interrupt, checkpoint-sync and early-stopping callbacks."""
    import torch
    from transformers import EarlyStoppingCallback

    from receipt_layoutlm.evaluation.word_metrics import WordLevelMetrics
    from receipt_layoutlm.training.callbacks import (
        CheckpointSync,
        EpochRecorder,
        InterruptCallback,
    )
    from receipt_layoutlm.training.collator import LayoutLMCollator
    from receipt_layoutlm.training.hf_trainer import make_trainer_class, training_arguments

    config, run_dir = ctx.config, ctx.run_dir
    metrics_fn: WordLevelMetrics | FoldedWordMetrics = WordLevelMetrics(
        encoded.dev_set, data.labels
    )
    masks = None
    if data.dataset_labels:
        from receipt_layoutlm.training.label_masks import DatasetLabelMasks, FoldedWordMetrics

        masks = DatasetLabelMasks.from_label_sets(data.labels, data.dataset_labels)
        metrics_fn = FoldedWordMetrics(metrics_fn, masks, encoded.dev_ds["dataset"])

    def per_label() -> dict[str, Any]:
        if metrics_fn.last is None:
            return {}
        return {k: vars(v) for k, v in metrics_fn.last.metrics.per_label.items()}

    recorder_cb = EpochRecorder(
        run_dir.metrics,
        ctx.recorder.add_metrics if ctx.main else None,
        per_label_support=per_label,
    )
    sync = CheckpointSync(run_dir) if ctx.main else None
    callbacks: list[Any] = [recorder_cb, InterruptCallback(ctx.interrupt_flag)]
    if sync is not None:
        callbacks.append(sync)
    if config.early_stopping_patience > 0:
        callbacks.append(EarlyStoppingCallback(config.early_stopping_patience))
    callbacks.extend(ctx.callbacks)
    trainer_cls = make_trainer_class()
    trainer_cls.new_param_names = frozenset(encoded.init.new_tensors)
    trainer_cls.new_param_lr_multiplier = config.new_param_lr_multiplier
    trainer_cls.label_masks = masks
    collator = LayoutLMCollator(
        pad_token_id=int(encoded.init.tokenizer.pad_token_id or 0),
        pad_to_multiple_of=8 if torch.cuda.is_available() else None,
    )
    trainer = trainer_cls(
        model=encoded.init.model,
        args=training_arguments(config, run_dir.checkpoints, main=ctx.main),
        data_collator=collator,
        train_dataset=encoded.train_ds,
        eval_dataset=encoded.dev_ds,
        compute_metrics=metrics_fn,
        callbacks=callbacks,
    )
    return Fitting(trainer=trainer, metrics_fn=metrics_fn, recorder_cb=recorder_cb, sync=sync)
