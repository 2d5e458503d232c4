"""``layoutlm-cli``: argument parsing only; every command calls a library function.

Each command group lives in its own module exposing ``register(subparsers)``; the module list
below is the whole command surface. Modules import heavy libraries inside their handlers, so
``layoutlm-cli --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from receipt_layoutlm.cli.exit_codes import run_command
from receipt_layoutlm.cli.log_levels import (
    DEFAULT_LOG_LEVEL,
    add_log_level_option,
    configure_logging,
)

# Command-group modules, in the order their commands appear in --help.
_COMMAND_MODULES = (
    "receipt_layoutlm.cli.dataset_commands",
    "receipt_layoutlm.cli.train_commands",
    "receipt_layoutlm.cli.evaluate_commands",
    "receipt_layoutlm.cli.predict_commands",
    "receipt_layoutlm.cli.job_commands",
    "receipt_layoutlm.cli.field_commands",
    "receipt_layoutlm.cli.export_commands",
    "receipt_layoutlm.cli.worker_commands",
    "receipt_layoutlm.cli.synth_commands",
    "receipt_layoutlm.cli.report_commands",
    "receipt_layoutlm.cli.review_commands",
)


def _common_options(default: str | None) -> argparse.ArgumentParser:
    """Options every command accepts, before or after the subcommand's name.

    The top-level parser holds the real default; on subcommands the default is SUPPRESS, so an
    option left off after the subcommand does not overwrite one given before it.
    """
    common = argparse.ArgumentParser(add_help=False)
    add_log_level_option(common, default)
    return common


_SUBCOMMAND_OPTIONS = _common_options(None)


class _CommandParser(argparse.ArgumentParser):
    """Parser of every (sub)command: the shared options come in as a parent parser. argparse
    builds nested subcommands with ``type(self)``, so ``jobs list`` etc. get them too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["parents"] = [*kwargs.get("parents", []), _SUBCOMMAND_OPTIONS]
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="layoutlm-cli",
        description="Train, evaluate and export LayoutLM receipt models.",
        parents=[_common_options(DEFAULT_LOG_LEVEL)],
    )
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_CommandParser
    )
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    return run_command(lambda: args.handler(args), args.log_level)

if __name__ == "__main__":
    sys.exit(main())
