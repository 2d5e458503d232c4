"""``layoutlm-cli export-worker`` and ``exports list|show``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from receipt_cloud.dataclass_flags import Flag, add_flags, flag_values
from receipt_cloud.worker.mode_flags import ModeFlag, add_mode_flags
from receipt_layoutlm.cli.format_flags import (
    COREML_SEQ_LENGTHS,
    parse_formats,
    with_formats_help,
)
from receipt_layoutlm.cli.parity_flags import add_threshold_flags, thresholds_from_args

if TYPE_CHECKING:
    from receipt_cloud.settings import Settings
    from receipt_dynamo import CoreMLExportJob


MODE_FLAGS = (
    ModeFlag("--once", "once", "one message, then exit (default; the seed's --once)"),
    ModeFlag(
        "--continuous",
        "drain",
        "messages until the queue is empty, then exit (the seed's --continuous)",
    ),
    ModeFlag("--drain", "drain", "same as --continuous"),
    ModeFlag(
        "--serve",
        "serve",
        "keep polling until SIGTERM/SIGINT or --idle-exit (ours, not the seed's)",
    ),
)
# Flags generated from the config dataclasses (defaults and help live there).
LOOP_FLAGS = (
    Flag("visibility_timeout", kwargs={"metavar": "SECONDS"}),
    Flag("heartbeat_interval", kwargs={"metavar": "SECONDS"}),
    "max_receives",
    Flag("wait_seconds", kwargs={"metavar": "SECONDS"}),
    Flag("idle_exit", kwargs={"metavar": "SECONDS"}),
    "retry_attempts",
)
EXPORT_FLAGS = (
    # help: the registry's, when the parser is built
    Flag("formats", default=None, convert=parse_formats),
    Flag("seq_length", help="Fixed sequence length of the exported model."),
    COREML_SEQ_LENGTHS,
    Flag("model_name", help="Name of the .mlpackage (the seed's consumers expect LayoutLM)."),
    Flag("parity_receipts", help="Receipts the parity gate runs."),
    Flag(
        "parity_data",
        help="JSONL parity receipts; None: the environment's store, else the training dataset "
        "file.",
        kwargs={"metavar": "PATH.jsonl"},
    ),
    "weight_threshold",
)
"""ExportOptions fields of the worker's template (the rest each message sets)."""
ROLLOUT_FLAGS = (Flag("rollout", kwargs={"choices": ("never", "on-pass", "if-better")}),)


def _settings(args: argparse.Namespace) -> Settings:
    from receipt_cloud.settings import settings_from_args

    return settings_from_args(args)


def _register_worker(subparsers: Any) -> None:
    from receipt_cloud.settings import add_settings_arguments
    from receipt_cloud.worker import WorkerConfig
    from receipt_layoutlm.export import ExportOptions
    from receipt_layoutlm.export_worker import ExportWorkerOptions

    worker = subparsers.add_parser(
        "export-worker",
        help="turn export queue messages into parity-gated bundles",
        description="Receive export messages ({export_id, job_id, model_s3_uri, quantize, "
        "output_s3_prefix}), export each checkpoint through the parity gate, upload the bundle "
        "(manifest last), record the CoreMLExportJob and send the result message. Transient "
        "failures are retried; poison messages end in the dead-letter queue after "
        "--max-receives receives; SIGTERM/SIGINT release the current message and exit 0.",
    )
    add_mode_flags(worker, MODE_FLAGS, default="once")
    add_flags(worker.add_argument_group("queue handling"), WorkerConfig, LOOP_FLAGS)
    export = worker.add_argument_group("export (the same for every message)")
    add_flags(export, ExportOptions, with_formats_help(EXPORT_FLAGS))
    add_flags(export, ExportWorkerOptions, ROLLOUT_FLAGS)
    add_threshold_flags(export)
    export.add_argument("--no-zip", action="store_true", help="do not publish <bundle>.zip")
    add_settings_arguments(worker)
    # The seed's command lines name the queues this way.
    worker.add_argument(
        "--job-queue-url",
        dest="coreml_export_job_queue_url",
        default=None,
        help="alias of --coreml-export-job-queue-url",
    )
    worker.add_argument(
        "--results-queue-url",
        dest="coreml_export_results_queue_url",
        default=None,
        help="alias of --coreml-export-results-queue-url",
    )
    worker.set_defaults(handler=run_export_worker_command)


def _register_exports(subparsers: Any) -> None:
    from receipt_cloud.settings import add_settings_arguments

    exports = subparsers.add_parser("exports", help="list and show export records")
    sub = exports.add_subparsers(dest="exports_command", required=True)
    listing = sub.add_parser("list", help="export records, oldest first")
    listing.add_argument("--job", metavar="NAME", help="only this training job (name or id)")
    listing.add_argument(
        "--status", type=str.upper, choices=["PENDING", "RUNNING", "SUCCEEDED", "FAILED"]
    )
    listing.add_argument("--json", action="store_true", help="one JSON object per export")
    add_settings_arguments(listing)
    listing.set_defaults(handler=run_exports_list)
    show = sub.add_parser("show", help="one export record")
    show.add_argument("export_id", metavar="EXPORT_ID")
    show.add_argument("--json", action="store_true")
    add_settings_arguments(show)
    show.set_defaults(handler=run_exports_show)


def register(subparsers: Any) -> None:
    _register_worker(subparsers)
    _register_exports(subparsers)


def run_export_worker_command(args: argparse.Namespace) -> int:
    from receipt_cloud.worker import WorkerConfig
    from receipt_layoutlm.export_worker import ExportWorkerOptions, run_export_worker

    try:
        worker = WorkerConfig(mode=args.mode, **flag_values(args, LOOP_FLAGS))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    options = ExportWorkerOptions.of(
        **flag_values(args, (*EXPORT_FLAGS, *ROLLOUT_FLAGS)),
        thresholds=thresholds_from_args(args),
        make_zip=not args.no_zip,
    )
    stats = run_export_worker(_settings(args), worker, options)
    print(json.dumps(stats.to_dict(), sort_keys=True))
    return 0


def export_lines(exports: list[CoreMLExportJob]) -> list[str]:
    """Table rows of export records (``exports list``, ``jobs show``)."""
    if not exports:
        return ["(no exports)"]
    rows = [f"{'export_id':<36} {'status':<9} {'mode':<8} {'size':>12}  {'updated':<32} bundle"]
    for e in exports:
        size = f"{e.model_size_bytes:,}" if e.model_size_bytes is not None else "-"
        if e.bundle_s3_uri:
            where = e.bundle_s3_uri
        elif e.error_message:
            where = e.error_message.splitlines()[0][:100]
        else:
            where = "-"
        rows.append(
            f"{e.export_id:<36} {e.status.value:<9} {e.quantize.value:<8} {size:>12}  "
            f"{e.updated_at:<32} {where}"
        )
    return rows


def run_exports_list(args: argparse.Namespace) -> int:
    from receipt_cloud.exports import export_summary, list_exports

    exports = list_exports(_settings(args).open_store(), job=args.job, status=args.status)
    if args.json:
        for export in exports:
            print(json.dumps(export_summary(export), sort_keys=True))
        return 0
    print("\n".join(export_lines(exports)))
    return 0


def run_exports_show(args: argparse.Namespace) -> int:
    from receipt_cloud.exports import export_summary

    export = _settings(args).open_store().get_export_job(args.export_id)
    summary = export_summary(export)
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True))
        return 0
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        print(f"{key:<{width}}  {'-' if value is None else value}")
    return 0
