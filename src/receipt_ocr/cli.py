"""``receipt-ocr``: argument parsing only; the work is in ``receipt_ocr.worker``,
``receipt_ocr.local_image`` and ``receipt_cloud.ocr_submit``.

    receipt-ocr [env flags]                        one batch (up to 10 jobs), then exit (seed)
    receipt-ocr --continuous [env flags]           until the queue is empty, then exit (seed)
    receipt-ocr --serve [env flags]                keep polling until SIGTERM/SIGINT (ours)
    receipt-ocr --process-local-image IMG --output-dir DIR      JSON + PNG, no store
    receipt-ocr submit IMAGE... [env flags]        upload, records, queue messages
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from receipt_cloud.log_levels import add_log_level_option, configure_logging
from receipt_layoutlm.cli.exit_codes import run_command
from receipt_ocr.engines import ENGINE_NAMES
from receipt_ocr.errors import ReceiptOcrError
from receipt_ocr.model import CACHE_PATH_ENV, DEFAULT_CACHE_PATH, RUNTIME_CHOICES


def _settings_flags(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    from receipt_cloud.settings import add_settings_arguments

    before = {a.dest for a in parser._actions}
    add_settings_arguments(parser)
    if suppress:
        # On the subcommand: a flag left off there must not reset one given before it.
        for action in parser._actions:
            if action.dest not in before:
                action.default = argparse.SUPPRESS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="receipt-ocr",
        description="Label receipt photos: OCR, LayoutLM word labels and fields, records. "
        "Without a subcommand, labels one batch of queued photos (up to 10) and exits; "
        "--continuous labels until the queue is empty, --serve until SIGTERM.",
    )
    add_log_level_option(parser)
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--continuous", dest="mode", action="store_const", const="drain",
                       help="process until the queue is empty, then exit (the seed's meaning; "
                       "default: one batch of up to 10 jobs, then exit)")
    modes.add_argument("--serve", dest="mode", action="store_const", const="serve",
                       help="keep polling the queue until SIGTERM/SIGINT (ours, not the seed's)")
    parser.set_defaults(mode="batch")
    parser.add_argument("--layoutlm-model", metavar="DIR",
                        help="a bundle, a checkpoint, or a model cache folder (serves the bundle "
                        "the cache holds as current) instead of the active bundle")
    parser.add_argument("--layoutlm-cache-path", metavar="DIR", default=None,
                        help=f"model cache for the active bundle (default ${CACHE_PATH_ENV}, "
                        f"else {DEFAULT_CACHE_PATH})")
    parser.add_argument("--runtime", choices=RUNTIME_CHOICES, default=None,
                        help="model runtime (default: the fastest available for the model)")
    parser.add_argument("--ocr-engine", choices=ENGINE_NAMES, default=None,
                        help="OCR engine (default: vision on macOS, tesseract elsewhere)")
    parser.add_argument("--ocr-language", metavar="LANGS", default=None,
                        help="Tesseract languages joined by + (default eng+msa; eng reads about "
                        "2x faster and fewer words, docs/ocr.md)")
    parser.add_argument("--stub-ocr", action="store_true",
                        help="deterministic stub OCR (queue-flow tests); same as --ocr-engine stub")
    parser.add_argument("--process-local-image", metavar="PATH",
                        help="label one local image and write JSON + PNG to --output-dir")
    parser.add_argument("--output-dir", metavar="DIR",
                        help="where --process-local-image writes <name>.json and <name>.png")
    parser.add_argument("--visibility-timeout", type=float, default=120.0, metavar="SECONDS",
                        help="how long a taken job stays hidden from other workers (default 120)")
    parser.add_argument("--max-receives", type=int, default=3,
                        help="receives before a job message goes to the dead-letter queue")
    _settings_flags(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    submit = sub.add_parser("submit", help="upload images and queue them for labelling",
                            description="Upload each image to the raw images store, create its "
                            "Image and OCRJob records and send the OCR job message.")
    submit.add_argument("images", nargs="+", metavar="IMAGE")
    _settings_flags(submit, suppress=True)
    return parser


def _engine_name(args: argparse.Namespace) -> str | None:
    if args.stub_ocr and args.ocr_engine not in (None, "stub"):
        raise ReceiptOcrError(f"--stub-ocr and --ocr-engine {args.ocr_engine} contradict")
    return "stub" if args.stub_ocr else args.ocr_engine


def run_submit(args: argparse.Namespace) -> int:
    from receipt_cloud.ocr_submit import submit_settings
    from receipt_cloud.settings import settings_from_args

    for submission in submit_settings(args.images, settings_from_args(args)):
        print(json.dumps({**submission.message(), "s3_bucket": submission.s3_bucket,
                          "s3_key": submission.s3_key, "created": submission.created}))
    return 0


def run_local_image(args: argparse.Namespace) -> int:
    from receipt_ocr.engines import build_engine
    from receipt_ocr.local_image import open_local_image, process_local_image
    from receipt_ocr.model import cache_path
    from receipt_ocr.model_cache import FixedModel, ModelCache

    if not args.output_dir:
        raise ReceiptOcrError("--process-local-image needs --output-dir DIR")
    image = open_local_image(args.process_local_image)  # before anything slow is loaded
    engine = build_engine(_engine_name(args), args.ocr_language)
    if args.layoutlm_model:
        models = FixedModel(args.layoutlm_model, runtime=args.runtime)
    else:
        from receipt_cloud.settings import settings_from_args
        from receipt_layoutlm.bundles.registry import BundleRegistry

        registry = BundleRegistry.from_settings(settings_from_args(args))
        models = ModelCache(registry, cache_path(args.layoutlm_cache_path), runtime=args.runtime)
    result = process_local_image(image, args.output_dir, engine=engine, model=models.current())
    fields = {k: v.value for k, v in result.labelled.prediction.fields.items()}
    print(json.dumps({"json": str(result.json_path), "png": str(result.png_path),
                      "words": len(result.labelled.prediction.words), "fields": fields}))
    return 0


def run_worker_command(args: argparse.Namespace) -> int:
    from receipt_cloud.settings import settings_from_args
    from receipt_ocr.model import cache_path
    from receipt_ocr.worker import OcrWorkerOptions, run_ocr_worker

    options = OcrWorkerOptions(
        engine=_engine_name(args), ocr_language=args.ocr_language, model_dir=args.layoutlm_model,
        cache_path=str(cache_path(args.layoutlm_cache_path)), runtime=args.runtime,
        mode=args.mode,
        visibility_timeout=args.visibility_timeout, max_receives=args.max_receives,
    )
    stats = run_ocr_worker(settings_from_args(args), options)
    print(json.dumps(stats.to_dict()))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)

    def command() -> int:
        if args.command == "submit":
            return run_submit(args)
        if args.process_local_image:
            return run_local_image(args)
        return run_worker_command(args)

    return run_command(command, args.log_level, extra_errors=(ReceiptOcrError,))


if __name__ == "__main__":
    sys.exit(main())
