"""``layoutlm-cli jobs list | show``: training Jobs as the store records them (status, epochs,
artifacts, exports); argument parsing and printing only."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from receipt_dynamo import JobMetric


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


def _epoch_table(metrics: list[JobMetric]) -> list[str]:
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


def register(subparsers: Any) -> None:
    from receipt_cloud.settings import add_settings_arguments

    jobs = subparsers.add_parser("jobs", help="training jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    jobs_list = jobs_sub.add_parser("list", help="list jobs")
    jobs_list.add_argument("--status", default=None)
    add_settings_arguments(jobs_list)
    jobs_list.set_defaults(handler=cmd_jobs_list)
    jobs_show = jobs_sub.add_parser("show", help="one job: status, epochs, artifacts")
    jobs_show.add_argument("name")
    add_settings_arguments(jobs_show)
    jobs_show.set_defaults(handler=cmd_jobs_show)
