"""``--log-level`` for every console script and the Lambda handlers: the seed's names (trace,
debug, info, warn, error), Python's (DEBUG, INFO, WARNING, ERROR), in any case, and the opt-in
``trace-wire``.

Credentials never reach a log line: the AWS libraries (botocore, boto3, urllib3, s3transfer) log
request headers, signatures and tokens at DEBUG, so they stay at INFO or above at every level
except ``trace-wire``, which turns their wire logging on on purpose; and at every level each
handler carries the :class:`~receipt_cloud.log_redaction.RedactingFilter`, so what they (or
anything else) print is redacted even then. Stdlib only (the Lambda path imports it).
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Mapping
from typing import Any

from receipt_cloud.log_redaction import install_redaction

TRACE = 5
"""Below DEBUG: per-word and per-request detail the seed logged at ``trace``."""
WIRE = "TRACE-WIRE"
"""TRACE plus the AWS libraries' own DEBUG output (redacted): only when asked for by name."""

LEVELS = {
    WIRE: TRACE,
    "TRACE": TRACE,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
}
"""Accepted names (upper case) → logging levels."""

WIRE_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")
"""Loggers that print credentials at DEBUG; capped at :data:`WIRE_FLOOR` unless ``trace-wire``."""
WIRE_FLOOR = logging.INFO

DEFAULT_LOG_LEVEL = "INFO"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LAMBDA_LOG_LEVEL_VARS = ("LOG_LEVEL", "AWS_LAMBDA_LOG_LEVEL")
"""Where a Lambda reads its level (ours first, then the runtime's advanced logging control)."""

logging.addLevelName(TRACE, "TRACE")


def log_level(text: str) -> str:
    """argparse ``type=``: the canonical (upper-case) name of a level given in any case."""
    name = text.strip().upper().replace("_", "-")
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


def _number(level: str | int) -> int:
    return level if isinstance(level, int) else LEVELS[log_level(level)]


def apply_level(level: str | int) -> int:
    """Set the root logger to ``level``, cap the AWS libraries' loggers (unless ``trace-wire``)
    and put the redacting filter on every root handler; returns the numeric level."""
    number = _number(level)
    wire = isinstance(level, str) and log_level(level) == WIRE
    root = logging.getLogger()
    root.setLevel(number)
    for name in WIRE_LOGGERS:
        logging.getLogger(name).setLevel(number if wire else max(number, WIRE_FLOOR))
    install_redaction(root.handlers)
    return number


def configure_logging(level: str | int = DEFAULT_LOG_LEVEL) -> int:
    """Configure the root logger at ``level`` (a name from :data:`LEVELS`, any case, or a
    number) with a stderr handler when it has none; see :func:`apply_level`."""
    logging.basicConfig(level=_number(level), format=LOG_FORMAT)
    return apply_level(level)


def configure_lambda_logging(environ: Mapping[str, str] | None = None) -> int:
    """A Lambda's logging: the level of ``$LOG_LEVEL`` (default INFO; an unknown name is INFO)
    over the handler the Lambda runtime installed; see :func:`apply_level`."""
    environ = os.environ if environ is None else environ
    name = next((environ[v] for v in LAMBDA_LOG_LEVEL_VARS if environ.get(v)), DEFAULT_LOG_LEVEL)
    try:
        name = log_level(name)
    except argparse.ArgumentTypeError:
        name = DEFAULT_LOG_LEVEL
    if not logging.getLogger().handlers:
        logging.basicConfig(format=LOG_FORMAT)
    return apply_level(name)


def is_debug(level: str | int) -> bool:
    """DEBUG or TRACE: errors raised on purpose then show their traceback."""
    return _number(level) <= logging.DEBUG
