"""``layoutlm-cli export-worker`` and ``exports list|show``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be > 0")
    return value


def _formats(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _settings(args: argparse.Namespace) -> Any:
    from receipt_cloud.settings import settings_from_args

    return settings_from_args(args)


def _register_worker(subparsers: Any) -> None:
    from receipt_cloud.settings import add_settings_arguments
    from receipt_layoutlm.export.quantize import QUANTIZE_MODES

    worker = subparsers.add_parser(
        "export-worker",
        help="turn export queue messages into parity-gated bundles",
        description="Receive export messages ({export_id, job_id, model_s3_uri, quantize, "
        "output_s3_prefix}), export each checkpoint through the parity gate, upload the bundle "
        "(manifest last), record the CoreMLExportJob and send the result message. Transient "
        "failures are retried; poison messages end in the dead-letter queue after "
        "--max-receives receives; SIGTERM/SIGINT release the current message and exit 0.",
    )
    mode = worker.add_mutually_exclusive_group()
    mode.add_argument(
        "--once", dest="mode", action="store_const", const="once", help="one message (default)"
    )
    mode.add_argument(
        "--drain",
        dest="mode",
        action="store_const",
        const="drain",
        help="messages until the queue is empty",
    )
    mode.add_argument(
        "--continuous",
        dest="mode",
        action="store_const",
        const="continuous",
        help="until stopped (SIGTERM/SIGINT) or --idle-exit",
    )
    worker.set_defaults(mode="once")
    loop = worker.add_argument_group("queue handling")
    loop.add_argument(
        "--visibility-timeout",
        type=_positive,
        default=300.0,
        metavar="SECONDS",
        help="how long a received message stays hidden; a heartbeat renews it (default 300)",
    )
    loop.add_argument(
        "--heartbeat-interval",
        type=_positive,
        default=None,
        metavar="SECONDS",
        help="seconds between renewals (default a third of --visibility-timeout)",
    )
    loop.add_argument(
        "--max-receives",
        type=int,
        default=3,
        help="receives before a message goes to the dead-letter queue (default 3)",
    )
    loop.add_argument(
        "--wait-seconds",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="long-poll wait per receive (default 20)",
    )
    loop.add_argument(
        "--idle-exit",
        type=_positive,
        default=None,
        metavar="SECONDS",
        help="--continuous: exit after this long without a message",
    )
    loop.add_argument(
        "--retry-attempts",
        type=int,
        default=3,
        help="tries per receive on transient errors (default 3)",
    )
    export = worker.add_argument_group("export (the same for every message)")
    export.add_argument("--formats", type=_formats, default=("coreml", "onnx"))
    export.add_argument("--seq-length", type=int, default=512)
    export.add_argument("--model-name", default="LayoutLM")
    export.add_argument("--parity-receipts", type=int, default=20)
    export.add_argument("--parity-data", metavar="PATH.jsonl", default=None)
    export.add_argument("--weight-threshold", type=int, default=2048)
    for name in QUANTIZE_MODES:
        export.add_argument(
            f"--min-agreement-{name}",
            type=float,
            default=None,
            metavar="FRACTION",
            help=f"parity threshold for {name} (default {QUANTIZE_MODES[name].default_agreement})",
        )
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
    from receipt_layoutlm.export.parity import ParityThresholds
    from receipt_layoutlm.export.quantize import QUANTIZE_MODES
    from receipt_layoutlm.export_worker import ExportWorkerOptions, run_export_worker

    try:
        worker = WorkerConfig(
            mode=args.mode,
            visibility_timeout=args.visibility_timeout,
            heartbeat_interval=args.heartbeat_interval,
            max_receives=args.max_receives,
            wait_seconds=args.wait_seconds,
            idle_exit=args.idle_exit,
            retry_attempts=args.retry_attempts,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    options = ExportWorkerOptions(
        formats=tuple(args.formats),
        seq_length=args.seq_length,
        model_name=args.model_name,
        parity_receipts=args.parity_receipts,
        parity_data=args.parity_data,
        thresholds=ParityThresholds(
            **{
                name: value
                for name in QUANTIZE_MODES
                if (value := getattr(args, f"min_agreement_{name}")) is not None
            }
        ),
        weight_threshold=args.weight_threshold,
        make_zip=not args.no_zip,
    )
    stats = run_export_worker(_settings(args), worker, options)
    print(json.dumps(stats.to_dict(), sort_keys=True))
    return 0


def export_lines(exports: list[Any]) -> list[str]:
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
