"""The worker programs' mode flags (the seed's words for ``WorkerConfig.mode``), built the same
way for ``receipt-ocr`` and ``layoutlm-cli export-worker``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from receipt_cloud.worker._config import WorkerMode


@dataclass(frozen=True)
class ModeFlag:
    """One flag that selects a loop mode."""

    option: str
    """The option string, e.g. ``--continuous``."""
    mode: WorkerMode
    """The ``WorkerConfig.mode`` it selects."""
    help: str
    """Its help line (which seed word it is, and what it does)."""


def add_mode_flags(
    parser: argparse.ArgumentParser, flags: Sequence[ModeFlag], *, default: WorkerMode
) -> None:
    """``flags`` as one mutually exclusive group setting ``args.mode``; none given: ``default``."""
    group = parser.add_mutually_exclusive_group()
    for flag in flags:
        group.add_argument(
            flag.option, dest="mode", action="store_const", const=flag.mode, help=flag.help
        )
    parser.set_defaults(mode=default)
