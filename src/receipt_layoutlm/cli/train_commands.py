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

log = logging.getLogger(__name__)


def _settings_args(parser: argparse.ArgumentParser) -> None:
    from receipt_cloud.settings import add_settings_arguments

    add_settings_arguments(parser)


def _dataset_args(parser: argparse.ArgumentParser) -> None:
    from receipt_layoutlm.data import MERGE_PRESETS

    group = parser.add_argument_group("dataset")
    group.add_argument("--dataset", metavar="FILE.jsonl", help="JSONL dataset instead of the store")
    group.add_argument("--merge-preset", choices=sorted(MERGE_PRESETS), default=None)
    group.add_argument(
        "--label-merges", metavar="JSON", help='extra merges, e.g. \'{"TIP": "AMOUNT"}\''
    )
    group.add_argument(
        "--merge-amounts", action="store_true", help="legacy: same as --merge-preset amounts"
    )
    group.add_argument(
        "--allowed-label",
        action="append",
        default=[],
        metavar="LABEL",
        help="keep only these (merged) labels, others become O; repeatable",
    )
    group.add_argument("--unverified", choices=["o", "mask"], default="o")
    group.add_argument("--split-file", metavar="FILE.json", help='frozen {"train","dev"} keys')
    # None = not given: train uses DatasetConfig's defaults, evaluate the checkpoint's split.
    group.add_argument("--dev-ratio", type=float, default=None, help="dev share (default 0.2)")
    group.add_argument("--split-seed", type=int, default=None, help="split seed (default 42)")
    group.add_argument(
        "--downsample-empty", type=float, default=1.0, help="share of entity-free windows kept"
    )


SPLIT_FIELDS = ("dev_ratio", "split_seed", "split_file")
"""DatasetConfig fields that decide the split (flags --dev-ratio, --split-seed, --split-file)."""
MERGE_FIELDS = ("merge_preset", "label_merges", "merge_amounts", "allowed_labels")
"""DatasetConfig fields that decide the label set (merge and allowed-label flags)."""


def _split_flags_given(args: argparse.Namespace) -> bool:
    return any(getattr(args, name) is not None for name in SPLIT_FIELDS)


def _merge_flags_given(args: argparse.Namespace) -> bool:
    return bool(args.merge_preset or args.label_merges or args.merge_amounts or args.allowed_label)


def _dataset_config(args: argparse.Namespace, *, recorded: dict[str, Any] | None = None) -> Any:
    """The DatasetConfig of the flags; split and merge fields the user did not pass come from
    ``recorded`` (the checkpoint's training config) when given, else DatasetConfig's defaults."""
    from receipt_layoutlm.data import DatasetConfig
    from receipt_layoutlm.errors import DatasetError

    merges = {}
    if args.label_merges:
        try:
            merges = json.loads(args.label_merges)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"--label-merges is not valid JSON: {exc}") from None
        if not isinstance(merges, dict):
            raise DatasetError('--label-merges must be a JSON object {"ORIGINAL": "MERGED"}')
    defaults = DatasetConfig()
    values: dict[str, Any] = {
        "unverified": args.unverified,
        "merge_preset": args.merge_preset or defaults.merge_preset,
        "label_merges": merges,
        "merge_amounts": args.merge_amounts,
        "allowed_labels": tuple(args.allowed_label),
        "dev_ratio": defaults.dev_ratio if args.dev_ratio is None else args.dev_ratio,
        "split_seed": defaults.split_seed if args.split_seed is None else args.split_seed,
        "split_file": args.split_file,
        "downsample_empty": args.downsample_empty,
        "dataset_file": args.dataset,
    }
    if recorded:
        # The receipts that count as labelled decide the split, so they follow the training.
        if recorded.get("statuses"):
            values["statuses"] = tuple(recorded["statuses"])
        if not _split_flags_given(args):
            values.update({k: recorded[k] for k in SPLIT_FIELDS if k in recorded})
        if not _merge_flags_given(args):
            values.update({k: recorded[k] for k in MERGE_FIELDS if k in recorded})
    return DatasetConfig.from_dict(values)


def _training_config(args: argparse.Namespace) -> Any:
    from receipt_layoutlm.training import TrainingConfig

    return TrainingConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        warmup_ratio=args.warmup_ratio,
        early_stopping_patience=args.early_stopping_patience,
        weight_decay=args.weight_decay,
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        label_smoothing=args.label_smoothing,
        seed=args.seed,
        max_seq_length=args.max_seq_length,
        stride=args.stride,
        checkpoint_metric=args.checkpoint_metric,
        new_param_lr_multiplier=args.new_param_lr_multiplier,
        model_size=args.model_size,
        pretrained=args.pretrained,
        init_from=args.init_from,
        max_steps=args.max_steps,
    )


def cmd_train(args: argparse.Namespace) -> int:
    from receipt_cloud.settings import settings_from_args
    from receipt_layoutlm.training import train
    from receipt_layoutlm.training.hooks import run_auto_export

    training_config = _training_config(args)
    dataset_config = _dataset_config(args)
    settings = settings_from_args(args)
    job_name = args.job_name or f"layoutlm-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
    output_dir = (
        Path(args.output_dir)
        if args.output_dir
        else Path(settings.data_dir) / "training" / job_name
    )
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
                "status": result.status,
                "best_f1": result.best_f1,
                "best_epoch": result.best_epoch,
                "best_checkpoint": result.best_checkpoint_uri,
                "output_dir": str(result.output_dir),
                "status_message": result.job.status_message,
            },
            indent=2,
        )
    )
    if result.status != "succeeded":
        return 130
    if settings.is_local and not args.no_auto_export:
        run_auto_export(result.job, settings)
    return 0


def _load_eval_documents(args: argparse.Namespace, dataset_config: Any) -> Any:
    from receipt_layoutlm.data import load_documents

    store = None
    if not dataset_config.dataset_file:
        from receipt_cloud.settings import settings_from_args

        store = settings_from_args(args).open_store()
    return load_documents(store, dataset_config)


def _evaluation_merges(dataset_config: Any, docs: list[Any]) -> dict[str, str]:
    """The label renames of ``dataset_config`` as one map for evaluation: its merges, plus
    ``label → O`` for every label the allowed-labels filter drops (what training did)."""
    merges = dict(dataset_config.merges)
    if dataset_config.allowed_labels:
        for label in sorted({w.label for d in docs for w in d.words if w.label}):
            if dataset_config.merged_label(label) is None:
                merges[label] = "O"
    return merges


def _split_side(
    args: argparse.Namespace, docs: Any, dataset_config: Any, meta: dict[str, Any]
) -> list[Any]:
    """One side of the split, checked against the split hashes the checkpoint recorded."""
    from receipt_layoutlm.data import split_documents
    from receipt_layoutlm.errors import DatasetError

    split = split_documents(docs, dataset_config)
    recorded = meta.get("split_hashes")
    if recorded and dict(recorded) != split.hashes:
        message = (
            f"evaluate --split-side {args.split_side}: this split (sha256 train "
            f"{split.hashes['train'][:12]}, dev {split.hashes['dev'][:12]}) is not the one "
            f"{args.model} was trained on (train {str(recorded.get('train'))[:12]}, dev "
            f"{str(recorded.get('dev'))[:12]})"
        )
        if _split_flags_given(args):
            log.warning("%s; evaluating the split the flags asked for", message)
        else:
            raise DatasetError(
                f"{message}; evaluate the training receipts (the same --dataset, or the "
                "--env/--data-dir of the training run), or pass --split-file/--dev-ratio/"
                "--split-seed to evaluate another split on purpose"
            )
    return list(split.dev if args.split_side == "dev" else split.train)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from receipt_layoutlm.checkpoint import fetched_checkpoint, read_meta, training_dataset_config

    with fetched_checkpoint(args.model) as model_dir:
        meta = read_meta(model_dir)
        recorded = training_dataset_config(model_dir, meta)
        # The checkpoint's training split and merges are the defaults, so the truth matches
        # what it learned and --split-side dev is the run's dev set.
        dataset_config = _dataset_config(args, recorded=recorded)
        docs = _load_eval_documents(args, dataset_config)
        if args.split_side:
            docs = _split_side(args, docs, dataset_config, meta)
        docs = list(docs)
        if _merge_flags_given(args) or recorded:
            merges = _evaluation_merges(dataset_config, docs)
        else:
            merges = dict(meta.get("merges") or {})  # checkpoints that record only the map
        return _evaluate(args, model_dir, docs, merges)


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


def _status(job: Any) -> str:
    return str(getattr(job.status, "value", job.status))


def cmd_jobs_list(args: argparse.Namespace) -> int:
    from receipt_cloud.settings import settings_from_args

    store = settings_from_args(args).open_store()
    jobs = sorted(store.list_jobs(status=args.status), key=lambda j: j.created_at)
    print(f"{'name':40} {'status':12} {'best_f1':>8} {'epoch':>5}  created")
    for job in jobs:
        results = job.results or {}
        f1 = results.get("best_f1")
        print(
            f"{job.name:40} {_status(job):12} {'' if f1 is None else f'{f1:.4f}':>8} "
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


_SAGEMAKER_LOG_GROUP = "/aws/sagemaker/TrainingJobs"


def _sagemaker_status(name: str, settings: Any) -> dict[str, Any] | None:
    try:
        import boto3

        client = boto3.client(
            "sagemaker", region_name=settings.region, endpoint_url=settings.endpoint_url
        )
        desc = client.describe_training_job(TrainingJobName=name)
    except Exception as exc:  # absent job, no permissions, no network: say so and go on
        return {"error": f"{type(exc).__name__}: {exc}"}
    status = {
        "status": desc.get("TrainingJobStatus"),
        "secondary_status": desc.get("SecondaryStatus"),
        "failure_reason": desc.get("FailureReason"),
        "log_group": _SAGEMAKER_LOG_GROUP,
    }
    try:
        logs = boto3.client("logs", region_name=settings.region, endpoint_url=settings.endpoint_url)
        streams = logs.describe_log_streams(
            logGroupName=_SAGEMAKER_LOG_GROUP, logStreamNamePrefix=f"{name}/"
        )["logStreams"]
        status["log_streams"] = [s["logStreamName"] for s in streams]
    except Exception as exc:  # no logs yet, or no permission: the job status still helps
        status["log_streams_error"] = f"{type(exc).__name__}: {exc}"
    return status


def cmd_jobs_show(args: argparse.Namespace) -> int:
    from receipt_cloud.settings import settings_from_args

    settings = settings_from_args(args)
    store = settings.open_store()
    job = store.get_job_by_name(args.name)
    results = job.results or {}
    print(f"job       {job.name} ({job.job_id})")
    print(f"status    {_status(job)}  updated {job.updated_at}")
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
        print("\nsagemaker", json.dumps(_sagemaker_status(job.name, settings), default=str))
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
    hp = train.add_argument_group("hyperparameters")
    hp.add_argument("--epochs", type=int, default=10)
    hp.add_argument("--batch-size", type=int, default=8)
    hp.add_argument("--learning-rate", type=float, default=5e-5)
    hp.add_argument("--warmup-ratio", type=float, default=0.1)
    hp.add_argument("--early-stopping-patience", type=int, default=2)
    hp.add_argument("--weight-decay", type=float, default=0.01)
    hp.add_argument("--gradient-accumulation-steps", type=int, default=1)
    hp.add_argument("--label-smoothing", type=float, default=0.0)
    hp.add_argument("--seed", type=int, default=42)
    hp.add_argument("--max-seq-length", type=int, default=512)
    hp.add_argument("--stride", type=int, default=128)
    hp.add_argument("--checkpoint-metric", default="eval_f1")
    hp.add_argument("--new-param-lr-multiplier", type=float, default=1.0)
    hp.add_argument("--max-steps", type=int, default=None, help="stop after N steps (smoke runs)")
    model = train.add_argument_group("model")
    model.add_argument("--pretrained", metavar="DIR_OR_HUB_ID", help="LayoutLM checkpoint")
    model.add_argument("--init-from", metavar="DIR", help="BERT-family checkpoint (warm start)")
    model.add_argument(
        "--model-size",
        choices=["base", "tiny"],
        default="base",
        help="without --pretrained/--init-from: tiny = from scratch, base = MiniLM warm start",
    )
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
