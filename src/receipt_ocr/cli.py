"""``receipt-ocr``: argument parsing only; the work is in ``receipt_ocr.worker``,
``receipt_ocr.local_image`` and ``receipt_cloud.ocr_submit``. Its flags are generated from
``OcrWorkerOptions`` and ``WorkerConfig`` the way ``layoutlm-cli export-worker``'s are
(``receipt_cloud.dataclass_flags``), so a default is written once, in the dataclass.

    receipt-ocr [env flags]                        one batch (up to 10 jobs), then exit (seed)
    receipt-ocr --continuous [env flags]           until the queue is empty, then exit (seed)
    receipt-ocr --serve [env flags]                keep polling until SIGTERM/SIGINT (ours)
    receipt-ocr --process-local-image IMG --output-dir DIR      JSON + PNG, no store
    receipt-ocr submit IMAGE... [env flags]        upload, records, queue messages
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence

from receipt_cloud.dataclass_flags import Flag, add_flags, flag_values
from receipt_cloud.log_levels import add_log_level_option, configure_logging
from receipt_cloud.worker import WorkerConfig
from receipt_cloud.worker.mode_flags import ModeFlag, add_mode_flags
from receipt_layoutlm.cli.exit_codes import run_command
from receipt_layoutlm.runtime.registry import ranked_runtimes
from receipt_ocr.engines import ENGINE_NAMES
from receipt_ocr.errors import ReceiptOcrError
from receipt_ocr.options import OCR_LOOP, OcrWorkerOptions, ocr_loop


def _settings_flags(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    from receipt_cloud.settings import add_settings_arguments

    before = {a.dest for a in parser._actions}
    add_settings_arguments(parser)
    if suppress:
        # On the subcommand: a flag left off there must not reset one given before it.
        for action in parser._actions:
            if action.dest not in before:
                action.default = argparse.SUPPRESS


MODE_FLAGS = (
    ModeFlag("--continuous", "drain", "process until the queue is empty, then exit (the seed's "
             "meaning; default: one batch of up to 10 jobs, then exit)"),
    ModeFlag("--serve", "serve", "keep polling the queue until SIGTERM/SIGINT (ours, not the "
             "seed's)"),
)
# Flags generated from the worker's dataclasses: OcrWorkerOptions (help lines are its
# docstrings), then WorkerConfig with the OCR worker's defaults (OCR_LOOP).
MODEL_FLAGS = (
    Flag("model_dir", flag="--layoutlm-model", kwargs={"metavar": "DIR"}),
    Flag("cache_path", flag="--layoutlm-cache-path", kwargs={"metavar": "DIR"}),
    Flag("runtime"),  # choices: the registry's, when the parser is built (_model_flags)
)
OCR_FLAGS = (
    Flag("engine", flag="--ocr-engine", kwargs={"choices": ENGINE_NAMES}),
    Flag("ocr_language", kwargs={"metavar": "LANGS"}),
)
LOOP_FLAGS = (
    Flag("visibility_timeout", kwargs={"metavar": "SECONDS"},
         help="how long a taken job stays hidden from other workers (default {default})"),
    Flag("max_receives", help="receives before a job message goes to the dead-letter queue"),
)


def _model_flags() -> tuple[Flag, ...]:
    """MODEL_FLAGS with ``--runtime``'s choices read from the runtime registry now, fastest
    first, so a runtime registered after import (a plug-in format) is accepted and shown."""
    choices = {"choices": ranked_runtimes()}
    return tuple(
        dataclasses.replace(spec, kwargs=spec.kwargs | choices) if spec.field == "runtime"
        else spec
        for spec in MODEL_FLAGS
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="receipt-ocr",
        description="Label receipt photos: OCR, LayoutLM word labels and fields, records. "
        "Without a subcommand, labels one batch of queued photos (up to 10) and exits; "
        "--continuous labels until the queue is empty, --serve until SIGTERM.",
    )
    add_log_level_option(parser)
    add_mode_flags(parser, MODE_FLAGS, default=OCR_LOOP.mode)
    add_flags(parser, OcrWorkerOptions, (*_model_flags(), *OCR_FLAGS))
    parser.add_argument("--stub-ocr", action="store_true",
                        help="deterministic stub OCR (queue-flow tests); same as --ocr-engine stub")
    parser.add_argument("--process-local-image", metavar="PATH",
                        help="label one local image and write JSON + PNG to --output-dir")
    parser.add_argument("--output-dir", metavar="DIR",
                        help="where --process-local-image writes <name>.json and <name>.png")
    add_flags(parser, WorkerConfig, LOOP_FLAGS, defaults=OCR_LOOP)
    _settings_flags(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    submit = sub.add_parser("submit", help="upload images and queue them for labelling",
                            description="Upload each image to the raw images store, create its "
                            "Image and OCRJob records and send the OCR job message.")
    submit.add_argument("images", nargs="+", metavar="IMAGE")
    _settings_flags(submit, suppress=True)
    return parser


def _options(args: argparse.Namespace) -> OcrWorkerOptions:
    values = flag_values(args, (*MODEL_FLAGS, *OCR_FLAGS))
    return OcrWorkerOptions(**values | {"engine": _engine_name(args)})


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
    from receipt_cloud.settings import settings_from_args
    from receipt_ocr.engines import build_engine
    from receipt_ocr.local_image import open_local_image, process_local_image
    from receipt_ocr.model_cache import open_models

    if not args.output_dir:
        raise ReceiptOcrError("--process-local-image needs --output-dir DIR")
    image = open_local_image(args.process_local_image)  # before anything slow is loaded
    options = _options(args)
    engine = build_engine(options.engine, options.ocr_language)
    models = open_models(options.model_dir, cache_path=options.cache_path,
                         runtime=options.runtime, settings=lambda: settings_from_args(args))
    result = process_local_image(image, args.output_dir, engine=engine, model=models.current())
    fields = {k: v.value for k, v in result.labelled.prediction.fields.items()}
    print(json.dumps({"json": str(result.json_path), "png": str(result.png_path),
                      "words": len(result.labelled.prediction.words), "fields": fields}))
    return 0


def run_worker_command(args: argparse.Namespace) -> int:
    from receipt_cloud.settings import settings_from_args
    from receipt_ocr.worker import run_ocr_worker

    try:
        worker = ocr_loop(mode=args.mode, **flag_values(args, LOOP_FLAGS))
    except ValueError as exc:  # a loop setting out of range, before anything loads
        raise ReceiptOcrError(str(exc)) from None
    stats = run_ocr_worker(settings_from_args(args), worker, _options(args))
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
