"""``layoutlm-cli``: argument parsing only; every command calls a library function.

Each command group lives in its own module exposing ``register(subparsers)``; the module list
below is the whole command surface. Modules import heavy libraries inside their handlers, so
``layoutlm-cli --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

# Command-group modules, in the order their commands appear in --help.
_COMMAND_MODULES = (
    "receipt_layoutlm.cli.dataset_commands",
    "receipt_layoutlm.cli.train_commands",
    "receipt_layoutlm.cli.export_commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="layoutlm-cli",
        description="Train, evaluate and export LayoutLM receipt models.",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="logging verbosity (default INFO)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a command group not built yet
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one readable line for known errors, traceback only at DEBUG
        if args.log_level == "DEBUG":
            raise
        from receipt_layoutlm.errors import ReceiptLayoutLMError

        if isinstance(exc, ReceiptLayoutLMError) or exc.__class__.__module__.startswith(
            ("receipt_dynamo", "receipt_cloud")
        ):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
