"""``--min-agreement-<mode>``: the parity gate's thresholds, shared by ``export-coreml`` and
``export-worker``."""

from __future__ import annotations

import argparse
from typing import Any

from receipt_layoutlm.export.quantize import QUANTIZE_MODES


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a fraction in [0, 1] (e.g. 0.99)")
    return value


def add_threshold_flags(parser: Any) -> None:
    """One ``--min-agreement-<mode>`` per quantize mode (default: the mode's own threshold)."""
    for mode in QUANTIZE_MODES:
        parser.add_argument(
            f"--min-agreement-{mode}",
            type=_fraction,
            default=None,
            metavar="FRACTION",
            help=f"parity threshold for {mode} (default {QUANTIZE_MODES[mode].default_agreement})",
        )


def thresholds_from_args(args: argparse.Namespace) -> Any:
    """``ParityThresholds`` with the modes given on the command line, defaults for the rest."""
    from receipt_layoutlm.export.parity import ParityThresholds

    return ParityThresholds(
        **{
            mode: value
            for mode in QUANTIZE_MODES
            if (value := getattr(args, f"min_agreement_{mode}")) is not None
        }
    )
