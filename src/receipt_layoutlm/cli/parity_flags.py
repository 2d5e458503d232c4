"""``--min-agreement-<mode>``, ``--agreement-margin-floor``, ``--min-agreement-all-words``: the
parity gate's thresholds, shared by ``export-coreml`` and ``export-worker``."""

from __future__ import annotations

import argparse
from typing import Any

from receipt_layoutlm.export.parity import ALL_WORDS_FLOOR, MARGIN_NOISE_FLOOR, ParityThresholds
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
    parser.add_argument(
        "--agreement-margin-floor",
        type=_fraction,
        default=None,
        metavar="FRACTION",
        help="the per-mode thresholds apply to words whose PyTorch top-2 probability margin "
        f"exceeds this (default {MARGIN_NOISE_FLOOR})",
    )
    parser.add_argument(
        "--min-agreement-all-words",
        type=_fraction,
        default=None,
        metavar="FRACTION",
        help=f"agreement floor over all words (default {ALL_WORDS_FLOOR})",
    )


def thresholds_from_args(args: argparse.Namespace) -> ParityThresholds:
    """``ParityThresholds`` with the values given on the command line, defaults for the rest."""
    given = {mode: getattr(args, f"min_agreement_{mode}") for mode in QUANTIZE_MODES}
    given["margin_floor"] = args.agreement_margin_floor
    given["all_words_floor"] = args.min_agreement_all_words
    return ParityThresholds(**{k: v for k, v in given.items() if v is not None})
