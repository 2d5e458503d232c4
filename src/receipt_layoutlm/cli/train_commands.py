"""``layoutlm-cli train``: argument parsing; the work is in ``receipt_layoutlm.training.train``.

``evaluate``, ``predict`` and ``jobs`` live in their own command modules.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_cloud.dataclass_flags import Flag, add_flags, flag_values
from receipt_layoutlm.cli.dataset_flags import add_dataset_flags, dataset_config_from_args
from receipt_layoutlm.training import TrainingConfig

if TYPE_CHECKING:
    from receipt_cloud.settings import Settings
    from receipt_layoutlm.data import DatasetConfig

log = logging.getLogger(__name__)

HYPERPARAMETER_FLAGS = (
    "epochs",
    "batch_size",
    "learning_rate",
    "warmup_ratio",
    "early_stopping_patience",
    "weight_decay",
    "gradient_accumulation_steps",
    "label_smoothing",
    "seed",
    "max_seq_length",
    "stride",
    "checkpoint_metric",
    "new_param_lr_multiplier",
    "box_embedding_init",
    "total_picker",
    "line_classifier",
    "known_values",
    "key_lexicon",
    Flag("max_steps", help="stop after N steps (smoke runs)"),
)
MODEL_FLAGS = (
    Flag("pretrained", help="LayoutLM checkpoint", kwargs={"metavar": "DIR_OR_HUB_ID"}),
    Flag("init_from", help="BERT-family checkpoint (warm start)", kwargs={"metavar": "DIR"}),
    Flag("init_layers", help="keep the first N encoder layers of the warm start (faster model)",
         kwargs={"metavar": "N"}),
    Flag(
        "model_size",
        help="without --pretrained/--init-from: tiny = from scratch, base = MiniLM warm start",
    ),
)

TRAINING_FLAGS = (*HYPERPARAMETER_FLAGS, *MODEL_FLAGS)
"""TrainingConfig fields with a flag (logging_steps and save_total_limit have none)."""


def _training_config(args: argparse.Namespace) -> TrainingConfig:
    return TrainingConfig(**flag_values(args, TRAINING_FLAGS))


def check_something_to_train(settings: Settings, dataset_config: DatasetConfig) -> None:
    """Refuse a run with nothing to read before opening the store, which would create the data
    directory (and its table file) as a side effect."""
    from receipt_layoutlm.data import check_dataset_source
    from receipt_layoutlm.errors import DatasetError

    check_dataset_source(dataset_config)
    if settings.is_local and not dataset_config.reads_files and not Path(
        settings.table_name
    ).is_file():
        raise DatasetError(
            f"nothing to train on: {settings.data_dir} holds no receipts yet; import a dataset "
            "first (`layoutlm-cli import ...`) or pass --dataset FILE.jsonl"
        )


def cmd_train(args: argparse.Namespace) -> int:
    from receipt_cloud.settings import settings_from_args
    from receipt_dynamo.names import validate_job_name
    from receipt_dynamo.vocabulary import JobStatus
    from receipt_layoutlm.training import train
    from receipt_layoutlm.training.auto_export import run_auto_export

    training_config = _training_config(args)
    dataset_config = dataset_config_from_args(args)
    settings = settings_from_args(args)
    job_name = validate_job_name(
        args.job_name or f"layoutlm-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
    )
    output_dir = (
        Path(args.output_dir)
        if args.output_dir
        else Path(settings.data_dir) / "training" / job_name
    )
    check_something_to_train(settings, dataset_config)
    store = settings.open_store()
    result = train(
        training_config,
        dataset_config,
        store=store,
        objects=settings.open_objects("runs"),
        job_name=job_name,
        output_dir=output_dir,
        resume=args.resume,
        tags=dict(args.tag),
    )
    print(
        json.dumps(
            {
                "job_name": job_name,
                "job_id": result.job.job_id,
                "status": result.status.value,
                "best_f1": result.best_f1,
                "best_epoch": result.best_epoch,
                "best_checkpoint": result.best_checkpoint_uri,
                "output_dir": str(result.output_dir),
                "status_message": result.job.status_message,
            },
            indent=2,
        )
    )
    if result.status is not JobStatus.SUCCEEDED:
        return 130
    if settings.is_local and not args.no_auto_export:
        run_auto_export(result.job, settings)
    return 0


def _tag(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"--tag {text!r}: expected KEY=VALUE")
    return key.strip(), value.strip()


def register(subparsers: Any) -> None:
    from receipt_cloud.settings import add_settings_arguments

    train = subparsers.add_parser("train", help="fine-tune LayoutLM on labelled receipts")
    train.add_argument("--job-name", help="Job name (default layoutlm-<UTC time>); reuse to resume")
    add_settings_arguments(train)
    add_dataset_flags(train)
    add_flags(train.add_argument_group("hyperparameters"), TrainingConfig, HYPERPARAMETER_FLAGS)
    add_flags(train.add_argument_group("model"), TrainingConfig, MODEL_FLAGS)
    train.add_argument("--output-dir", help="local work dir (default <data-dir>/training/<job>)")
    train.add_argument("--resume", action="store_true", help="require an existing job to resume")
    train.add_argument("--no-auto-export", action="store_true")
    train.add_argument(
        "--tag",
        action="append",
        type=_tag,
        default=[],
        metavar="KEY=VALUE",
        help="store a tag on the Job (repeatable), e.g. skip-coreml-export=true",
    )
    train.set_defaults(handler=cmd_train)


if __name__ == "__main__":  # pragma: no cover
    from receipt_layoutlm.cli import main

    sys.exit(main(["train", *sys.argv[1:]]))
