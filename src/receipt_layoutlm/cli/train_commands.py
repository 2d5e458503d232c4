"""``layoutlm-cli train | evaluate | predict | jobs``: argument parsing; the work is in
``receipt_layoutlm.training`` (train, evaluate_documents) and the runtimes."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from receipt_layoutlm.cli.dataclass_flags import Flag, add_flags, flag_values
from receipt_layoutlm.data import MERGE_PRESETS, DatasetConfig, parse_label_merges
from receipt_layoutlm.training import TrainingConfig

log = logging.getLogger(__name__)


def _settings_args(parser: argparse.ArgumentParser) -> None:
    from receipt_cloud.settings import add_settings_arguments

    add_settings_arguments(parser)


# --dataset … --downsample-empty (train and evaluate): DatasetConfig fields. Split and merge
# flags default to None = not given: train then uses DatasetConfig's defaults, evaluate the
# checkpoint's recorded split and merges (DatasetConfig.inherit).
DATASET_FLAGS = (
    Flag(
        "dataset_file",
        "--dataset",
        help="JSONL dataset instead of the store",
        kwargs={"metavar": "FILE.jsonl"},
    ),
    Flag("merge_preset", default=None, kwargs={"choices": sorted(MERGE_PRESETS)}),
    Flag(
        "label_merges",
        default=None,
        convert=parse_label_merges,
        help='extra merges, e.g. \'{"TIP": "AMOUNT"}\'',
        kwargs={"metavar": "JSON"},
    ),
    Flag("merge_amounts", default=None, help="legacy: same as --merge-preset amounts"),
    Flag(
        "allowed_labels",
        "--allowed-label",
        default=None,
        help="keep only these (merged) labels, others become O; repeatable",
        kwargs={"action": "append", "metavar": "LABEL"},
    ),
    "unverified",
    Flag("split_file", help='frozen {"train","dev"} keys', kwargs={"metavar": "FILE.json"}),
    Flag("dev_ratio", default=None, help="dev share (default {default})"),
    Flag("split_seed", default=None, help="split seed (default {default})"),
    Flag("downsample_empty", help="share of entity-free windows kept"),
)

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
    Flag("max_steps", help="stop after N steps (smoke runs)"),
)
MODEL_FLAGS = (
    Flag("pretrained", help="LayoutLM checkpoint", kwargs={"metavar": "DIR_OR_HUB_ID"}),
    Flag("init_from", help="BERT-family checkpoint (warm start)", kwargs={"metavar": "DIR"}),
    Flag(
        "model_size",
        help="without --pretrained/--init-from: tiny = from scratch, base = MiniLM warm start",
    ),
)

TRAINING_FLAGS = (*HYPERPARAMETER_FLAGS, *MODEL_FLAGS)
"""TrainingConfig fields with a flag (logging_steps and save_total_limit have none)."""


def _dataset_args(parser: argparse.ArgumentParser) -> None:
    add_flags(parser.add_argument_group("dataset"), DatasetConfig, DATASET_FLAGS)


def _dataset_config(args: argparse.Namespace) -> DatasetConfig:
    return DatasetConfig.from_dict(flag_values(args, DATASET_FLAGS))


def _training_config(args: argparse.Namespace) -> TrainingConfig:
    return TrainingConfig(**flag_values(args, TRAINING_FLAGS))


def check_something_to_train(settings: Any, dataset_config: Any) -> None:
    """Refuse a run with nothing to read before opening the store, which would create the data
    directory (and its table file) as a side effect."""
    from receipt_layoutlm.data import check_dataset_source
    from receipt_layoutlm.errors import DatasetError

    check_dataset_source(dataset_config)
    if settings.is_local and not dataset_config.dataset_file and not Path(
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
    from receipt_layoutlm.training.hooks import run_auto_export

    training_config = _training_config(args)
    dataset_config = _dataset_config(args)
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


def cmd_evaluate(args: argparse.Namespace) -> int:
    from receipt_layoutlm.checkpoint import fetched_checkpoint
    from receipt_layoutlm.training.evaluate import checkpoint_truth

    def open_store() -> Any:
        from receipt_cloud.settings import settings_from_args

        return settings_from_args(args).open_store()

    with fetched_checkpoint(args.model) as model_dir:
        truth = checkpoint_truth(
            model_dir,
            flag_values(args, DATASET_FLAGS),
            open_store=open_store,
            split_side=args.split_side,
            trained_on=args.model,
        )
        return _evaluate(args, model_dir, truth.docs, truth.merges)


def _evaluate(args: argparse.Namespace, model_dir: Path, docs: list[Any], merges: Any) -> int:
    from receipt_layoutlm.runtime import load_runtime
    from receipt_layoutlm.training.evaluate import evaluate_documents

    runtime = load_runtime(args.runtime, model_dir)
    out_dir = Path(args.output_dir)
    result = evaluate_documents(
        runtime, docs, merges=merges, out_dir=out_dir, task3_whitespace=args.task3_whitespace
    )
    summary = {
        "receipts": result.metrics["receipts"],
        "entity_f1": result.metrics["entity"]["f1"],
        "token_accuracy": result.metrics["token_accuracy"],
        "per_label_f1": {k: v["f1"] for k, v in result.metrics["entity"]["per_label"].items()},
    }
    if "sroie_task3" in result.metrics:
        summary["sroie_task3_f1"] = result.metrics["sroie_task3"].get("f1")
        summary["sroie_task3_per_key_f1"] = {
            k: v["f1"] for k, v in result.metrics["sroie_task3"]["per_key"].items()
        }
        excluding = result.metrics["sroie_task3_excluding_ocr_mismatch"]
        summary["sroie_task3_excluding_ocr_mismatch"] = {
            "f1": excluding["f1"],
            "per_key_f1": {k: v["f1"] for k, v in excluding["per_key"].items()},
            "excluded_pairs": excluding["excluded_pairs"],
        }
        summary["sroie_task3_mismatch_kinds"] = result.metrics["sroie_task3"]["mismatch_kinds"]
    if "wildreceipt_segments" in result.metrics:
        segments = result.metrics["wildreceipt_segments"]
        summary["wildreceipt_segment_macro_f1"] = segments["macro_f1"]
        summary["wildreceipt_segment_f1"] = {k: v["f1"] for k, v in segments["per_class"].items()}
    summary["report"] = [str(p) for p in result.files]
    print(json.dumps(summary, indent=2))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from receipt_cloud.settings import settings_from_args
    from receipt_layoutlm.checkpoint import fetched_checkpoint
    from receipt_layoutlm.prediction import predict_document
    from receipt_layoutlm.records import document_from_details
    from receipt_layoutlm.runtime import load_runtime

    store = settings_from_args(args).open_store()
    details = store.get_receipt_details(args.image_id, args.receipt_id)
    doc = document_from_details(details, statuses=())
    with fetched_checkpoint(args.model) as model_dir:
        prediction = predict_document(load_runtime(args.runtime, model_dir), doc)
    out = {
        "image_id": args.image_id,
        "receipt_id": args.receipt_id,
        "runtime": args.runtime,
        **prediction.to_dict(),
    }
    print(json.dumps(out, indent=2, default=str))
    return 0


def cmd_jobs_list(args: argparse.Namespace) -> int:
    from receipt_cloud.settings import settings_from_args

    store = settings_from_args(args).open_store()
    jobs = sorted(store.list_jobs(status=args.status), key=lambda j: j.created_at)
    print(f"{'name':40} {'status':12} {'best_f1':>8} {'epoch':>5}  created")
    for job in jobs:
        results = job.results or {}
        f1 = results.get("best_f1")
        print(
            f"{job.name:40} {job.status.value:12} {'' if f1 is None else f'{f1:.4f}':>8} "
            f"{results.get('best_epoch', ''):>5}  {job.created_at}"
        )
    return 0


def _epoch_table(metrics: list[Any]) -> list[str]:
    columns = ["loss", "learning_rate", "eval_loss", "eval_precision", "eval_recall", "eval_f1"]
    by_epoch: dict[int, dict[str, float]] = {}
    for m in metrics:
        if m.epoch is not None and m.metric_name in columns and isinstance(m.value, float):
            by_epoch.setdefault(m.epoch, {})[m.metric_name] = m.value
    lines = ["epoch " + " ".join(f"{c:>14}" for c in columns)]
    for epoch in sorted(by_epoch):
        row = by_epoch[epoch]
        cells = [f"{row[c]:>14.6g}" if c in row else f"{'':>14}" for c in columns]
        lines.append(f"{epoch:>5} " + " ".join(cells))
    return lines


def cmd_jobs_show(args: argparse.Namespace) -> int:
    from receipt_cloud.sagemaker_status import training_job_status
    from receipt_cloud.settings import settings_from_args

    settings = settings_from_args(args)
    store = settings.open_store()
    job = store.get_job_by_name(args.name)
    results = job.results or {}
    print(f"job       {job.name} ({job.job_id})")
    print(f"status    {job.status.value}  updated {job.updated_at}")
    if job.status_message:
        print(f"reason    {job.status_message}")
    if results:
        print(f"best      f1 {results.get('best_f1')} at epoch {results.get('best_epoch')}")
        print(f"checkpoint {results.get('best_checkpoint_s3_path', '(not uploaded)')}")
    split = (job.job_config or {}).get("split")
    if split:
        print(f"split     {json.dumps(split.get('counts'))}")
    print()
    print("\n".join(_epoch_table(store.list_job_metrics(job.job_id))))
    try:
        objects = settings.open_objects("runs")
        artifacts = sorted(k for k in objects.list(f"runs/{job.name}/") if "/checkpoints/" not in k)
    except Exception as exc:
        artifacts = [f"(cannot list artifacts: {exc})"]
    print("\nartifacts")
    for key in artifacts:
        print(f"  {key}")
    from receipt_cloud.exports import list_exports
    from receipt_layoutlm.cli.worker_commands import export_lines

    print("\nexports")
    print("\n".join(f"  {line}" for line in export_lines(list_exports(store, job=job.name))))
    if not settings.is_local:
        print("\nsagemaker", json.dumps(training_job_status(job.name, settings), default=str))
    return 0


def _tag(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"--tag {text!r}: expected KEY=VALUE")
    return key.strip(), value.strip()


def register(subparsers: Any) -> None:
    train = subparsers.add_parser("train", help="fine-tune LayoutLM on labelled receipts")
    train.add_argument("--job-name", help="Job name (default layoutlm-<UTC time>); reuse to resume")
    _settings_args(train)
    _dataset_args(train)
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

    evaluate = subparsers.add_parser("evaluate", help="entity/field metrics of a model")
    evaluate.add_argument("--model", required=True, metavar="DIR_OR_URI")
    evaluate.add_argument("--runtime", default="torch")
    evaluate.add_argument("--output-dir", default="evaluation", help="report directory")
    evaluate.add_argument(
        "--split-side",
        choices=["dev", "train"],
        default=None,
        help="evaluate one side of the split: the checkpoint's training split unless "
        "--split-file/--dev-ratio/--split-seed are given (its recorded split hashes are "
        "checked); default all receipts",
    )
    evaluate.add_argument(
        "--task3-whitespace",
        choices=["collapse", "remove"],
        default="collapse",
        help="SROIE task-3 string comparison: collapse runs of whitespace (default) or remove "
        "all of it (OCR spacing such as 'NO.2&4,JALAN' vs 'NO.2&4, JALAN' then matches)",
    )
    _settings_args(evaluate)
    _dataset_args(evaluate)
    evaluate.set_defaults(handler=cmd_evaluate)

    predict = subparsers.add_parser("predict", help="word labels + fields for one receipt")
    predict.add_argument("--model", required=True, metavar="DIR_OR_URI")
    predict.add_argument("--runtime", default="torch", help="torch | onnx | coreml")
    predict.add_argument("--image-id", required=True)
    predict.add_argument("--receipt-id", type=int, default=1)
    _settings_args(predict)
    predict.set_defaults(handler=cmd_predict)

    jobs = subparsers.add_parser("jobs", help="training jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    jobs_list = jobs_sub.add_parser("list", help="list jobs")
    jobs_list.add_argument("--status", default=None)
    _settings_args(jobs_list)
    jobs_list.set_defaults(handler=cmd_jobs_list)
    jobs_show = jobs_sub.add_parser("show", help="one job: status, epochs, artifacts")
    jobs_show.add_argument("name")
    _settings_args(jobs_show)
    jobs_show.set_defaults(handler=cmd_jobs_show)


if __name__ == "__main__":  # pragma: no cover
    from receipt_layoutlm.cli import main

    sys.exit(main(["train", *sys.argv[1:]]))
