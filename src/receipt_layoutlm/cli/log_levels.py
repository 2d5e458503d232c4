"""``--log-level`` for every console script: the seed's names (trace, debug, info, warn, error)
and Python's (DEBUG, INFO, WARNING, ERROR), in any case."""

from __future__ import annotations

import argparse
import logging
from typing import Any

TRACE = 5
"""Below DEBUG: per-word and per-request detail the seed logged at ``trace``."""

LEVELS = {
    "TRACE": TRACE,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
}
"""Accepted names (upper case) → logging levels."""

DEFAULT_LOG_LEVEL = "INFO"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

logging.addLevelName(TRACE, "TRACE")


def log_level(text: str) -> str:
    """argparse ``type=``: the canonical (upper-case) name of a level given in any case."""
    name = text.strip().upper()
    if name not in LEVELS:
        raise argparse.ArgumentTypeError(
            f"unknown log level {text!r}; choose one of {', '.join(n.lower() for n in LEVELS)}"
        )
    return name


def add_log_level_option(parser: Any, default: str | None = DEFAULT_LOG_LEVEL) -> None:
    """Add ``--log-level`` to ``parser``; ``default=None`` leaves the option out of the namespace
    when not given (for subcommands that must not overwrite the top-level value)."""
    parser.add_argument(
        "--log-level",
        type=log_level,
        default=argparse.SUPPRESS if default is None else default,
        metavar="{trace,debug,info,warn,error}",
        help=f"logging verbosity (default {DEFAULT_LOG_LEVEL})",
    )


def configure_logging(level: str | int = DEFAULT_LOG_LEVEL) -> int:
    """Configure the root logger at ``level`` (a name from :data:`LEVELS`, any case, or a
    number); returns the numeric level."""
    number = level if isinstance(level, int) else LEVELS[log_level(level)]
    logging.basicConfig(level=number, format=LOG_FORMAT)
    return number


def is_debug(level: str | int) -> bool:
    """DEBUG or TRACE: errors raised on purpose then show their traceback."""
    number = level if isinstance(level, int) else LEVELS[log_level(level)]
    return number <= logging.DEBUG
