"""``layoutlm-cli export-coreml``, ``promote`` and ``bundles list``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from receipt_cloud.dataclass_flags import Flag, add_flags, flag_values
from receipt_layoutlm.cli.format_flags import (
    COREML_SEQ_LENGTHS,
    parse_formats,
    with_formats_help,
)
from receipt_layoutlm.cli.parity_flags import add_threshold_flags, thresholds_from_args
from receipt_layoutlm.export import ExportOptions
from receipt_layoutlm.export.int4_recipe import DEFAULT_INT4_INT8_LAYERS, parse_layers
from receipt_layoutlm.export.quantize import QUANTIZE_MODES

if TYPE_CHECKING:
    from receipt_cloud.settings import Settings
    from receipt_layoutlm.bundles.registry import BundleRegistry


def _add_settings(parser: argparse.ArgumentParser) -> None:
    from receipt_cloud.settings import add_settings_arguments

    add_settings_arguments(parser)


_FLAGS_BEFORE_THRESHOLDS = (
    Flag("quantize", help=f"{'|'.join(QUANTIZE_MODES)} (default {{default}})"),
    Flag("formats", kwargs={"type": parse_formats}),  # help: the registry's, at build time
    Flag("seq_length", help="fixed sequence length"),
    COREML_SEQ_LENGTHS,
    Flag("model_name", help="name of the .mlpackage"),
    Flag(
        "parity_data",
        help="JSONL dataset with parity receipts (else the environment's store when it has "
        "VALID receipts, else the checkpoint's training dataset file, else synthetic)",
        kwargs={"metavar": "PATH.jsonl"},
    ),
    Flag("parity_receipts", help="receipts for parity"),
)
_FLAGS_AFTER_THRESHOLDS = (
    Flag("int4_block_size", help="int4 block size; 0 = per channel (default {default})"),
    Flag(
        "int4_int8_layers",
        help="int4 recipe: comma-separated fnmatch patterns of the layers kept at int8, 'none' = "
        f"every layer at int4 (default: {' '.join(DEFAULT_INT4_INT8_LAYERS)})",
        kwargs={"type": parse_layers, "metavar": "PATTERNS"},
    ),
    Flag("weight_threshold", help="weights with fewer elements stay float (default {default})"),
    Flag("export_id", help="export id (default: a new uuid)"),
    Flag(
        "job_name",
        help="training Job name (an id is accepted); default: from checkpoint.json",
        aliases=("--job-id",),
    ),
    Flag(
        "make_zip",
        "--no-zip",
        help="do not write <output>.zip",
        kwargs={"action": "store_false"},
    ),
)
EXPORT_FLAGS = (*_FLAGS_BEFORE_THRESHOLDS, *_FLAGS_AFTER_THRESHOLDS)
"""ExportOptions fields with a flag; defaults and types are the dataclass's. In --help the
--min-agreement-<mode> flags (ExportOptions.thresholds) come between the two parts."""


def register(subparsers: Any) -> None:
    export = subparsers.add_parser(
        "export-coreml",
        help="export a checkpoint to a Core ML + ONNX bundle (parity-gated)",
        description="Convert a checkpoint to a bundle (Core ML ML program, ONNX, vocab, label "
        "map, encoding spec, manifest), run the parity gate against PyTorch float32, and "
        "publish the bundle only when it passes.",
    )
    source = export.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint-dir", metavar="DIR", help="local checkpoint directory")
    source.add_argument(
        "--checkpoint-uri", "--s3-uri", metavar="URI",
        help="URI of a checkpoint (s3://, file:// or a path; --s3-uri is the old spelling)",
    )
    export.add_argument(
        "--output-dir",
        metavar="DIR|s3://...",
        help="where the bundle goes (must be new/empty); default: "
        "bundles/<job>/<export_id>/ in the environment's bundles store",
    )
    add_flags(export, ExportOptions, with_formats_help(_FLAGS_BEFORE_THRESHOLDS))
    add_threshold_flags(export)
    add_flags(export, ExportOptions, _FLAGS_AFTER_THRESHOLDS)
    export.add_argument("--json", action="store_true", help="print the result as JSON")
    _add_settings(export)
    export.set_defaults(handler=run_export)

    promote = subparsers.add_parser(
        "promote",
        help="make a verified bundle the active model (or roll back to the previous one)",
        description="Verify every file of the bundle against its manifest, mirror it to the "
        "seed's coreml/ location and write bundles/active.json in the bundles store, one "
        "promote at a time (bundles/promote.lock). Every pointer joins bundles/history.json; "
        "--rollback makes the previous one active again.",
    )
    promote.add_argument(
        "bundle_uri", metavar="BUNDLE_URI", nargs="?", help="bundle directory or s3://"
    )
    promote.add_argument(
        "--rollback",
        action="store_true",
        help="return to the bundle active before the current one (its pointer history)",
    )
    promote.add_argument(
        "--history", action="store_true", help="print the pointer history, oldest first"
    )
    _add_settings(promote)
    promote.set_defaults(handler=run_promote)

    bundles = subparsers.add_parser("bundles", help="list exported bundles")
    bundles_sub = bundles.add_subparsers(dest="bundles_command", required=True)
    listing = bundles_sub.add_parser("list", help="bundles with parity, size, mode, active")
    listing.add_argument("--json", action="store_true", help="one JSON object per bundle")
    _add_settings(listing)
    listing.set_defaults(handler=run_bundles_list)


def _settings(args: argparse.Namespace) -> Settings:
    from receipt_cloud.settings import settings_from_args

    return settings_from_args(args)


def _registry(args: argparse.Namespace) -> BundleRegistry:
    """The bundles store of the environment (``--bundles-uri`` overrides it)."""
    from receipt_layoutlm.bundles.registry import BundleRegistry

    return BundleRegistry.from_settings(_settings(args))


def run_export(args: argparse.Namespace) -> int:
    import uuid

    from receipt_cloud.exports.checkpoint_alias import resolve_checkpoint_uri
    from receipt_dynamo.names import validate_export_id, validate_model_name
    from receipt_layoutlm.export import export_bundle
    from receipt_layoutlm.export.quantize import get_quantize_mode
    from receipt_layoutlm.run_record import recorded_job

    get_quantize_mode(args.quantize)  # unknown mode: one clear error before anything else
    thresholds = thresholds_from_args(args)
    validate_model_name(args.model_name)
    checkpoint = args.checkpoint_dir or resolve_checkpoint_uri(args.checkpoint_uri)
    export_id = validate_export_id(args.export_id or str(uuid.uuid4()))
    # Always the environment (flags, else $RECEIPTS_ENV/$RECEIPTS_HOME, else ./.receipts): its
    # store is the parity source after --parity-data, and its bundles store the default output.
    settings = _settings(args)
    output = args.output_dir
    if not output:
        from receipt_layoutlm.bundles.registry import BundleRegistry

        job_name = args.job_name or recorded_job(checkpoint) or "unknown-job"
        output = BundleRegistry.from_settings(settings).bundle_uri(job_name, export_id)
    options = ExportOptions(
        **{
            **flag_values(args, EXPORT_FLAGS),
            "checkpoint": checkpoint,
            "output": output,
            "thresholds": thresholds,
            "export_id": export_id,
        }
    )
    result = export_bundle(options, settings=settings)
    if args.json:
        print(
            json.dumps(
                {
                    "export_id": result.export_id,
                    "bundle_uri": result.bundle_uri,
                    **result.artifact_uris(),
                    "zip_uri": result.zip_uri,
                    "model_size_bytes": result.model_size_bytes,
                    "export_duration_seconds": result.export_duration_seconds,
                    "parity": result.parity.to_dict(),
                },
                indent=2,
            )
        )
        return 0
    manifest = result.manifest
    print(result.parity.table())
    print(
        f"bundle {result.bundle_uri}\n"
        f"  export id   {result.export_id}\n"
        f"  quantize    {manifest['quantize']} (minimum "
        f"{manifest['minimum_deployment_target']['iOS']}/"
        f"{manifest['minimum_deployment_target']['macOS']})\n"
        f"  model size  {result.model_size_bytes:,} bytes "
        f"({manifest['bytes_per_parameter']} bytes/parameter)\n"
        f"  zip         {result.zip_uri}\n"
        f"  took        {result.export_duration_seconds:.1f} s"
    )
    return 0


def run_promote(args: argparse.Namespace) -> int:
    registry = _registry(args)
    if args.history:
        for entry in registry.history():
            print(json.dumps(entry, sort_keys=True))
        return 0
    if args.rollback == (args.bundle_uri is not None):
        print("error: promote takes BUNDLE_URI, or --rollback, or --history", file=sys.stderr)
        return 2
    if args.rollback:
        record = registry.rollback()
    else:
        record = registry.promote(args.bundle_uri, records=_settings(args).open_store())
    print(json.dumps(record, indent=2, sort_keys=True))
    return 0


def run_bundles_list(args: argparse.Namespace) -> int:
    entries = _registry(args).list_bundles()
    if args.json:
        for entry in entries:
            print(json.dumps(entry.to_dict(), sort_keys=True))
        return 0
    if not entries:
        print("no bundles", file=sys.stderr)
        return 0
    print(
        f"{'':1} {'export_id':<36} {'job':<24} {'mode':<8} {'size':>12} {'agreement':>10} "
        f"{'max|Δ|':>9} {'parity':>6}  exported"
    )
    for e in entries:
        agreement = f"{e.min_agreement:.4f}" if e.min_agreement is not None else "-"
        diff = f"{e.max_logit_diff:.3g}" if e.max_logit_diff is not None else "-"
        print(
            f"{'*' if e.active else ' ':1} {e.export_id:<36} {e.job[:24]:<24} {e.quantize:<8} "
            f"{e.model_size_bytes:>12,} {agreement:>10} {diff:>9} "
            f"{'ok' if e.parity_passed else 'FAIL':>6}  {e.export_time}"
        )
        weights = [f"{name} {size / 1e6:.1f} MB" for name, size in sorted(e.artifact_sizes.items())]
        print(f"  {' · '.join([*weights, f'total {e.size_bytes / 1e6:.1f} MB'])}")
    return 0
