"""The ``--checkpoint`` flag of ``evaluate`` and ``predict``: what they run, named for what it
holds (docs/glossary.md), with ``--model`` kept as the old spelling scripts still type."""

from __future__ import annotations

from typing import Any


def add_checkpoint_flag(parser: Any) -> None:
    """``--checkpoint DIR_OR_URI`` (alias ``--model``), required, parsed into ``checkpoint``."""
    parser.add_argument(
        "--checkpoint", "--model", dest="checkpoint", required=True, metavar="DIR_OR_URI",
        help="checkpoint directory or URI (a bundle's for a runtime other than torch); --model "
        "is the old spelling",
    )
