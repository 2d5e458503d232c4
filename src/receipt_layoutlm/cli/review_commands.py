"""``layoutlm-cli review``: serve the label review app (``receipt_review``) on this environment."""

from __future__ import annotations

import argparse
import os
from typing import Any

TOKEN_VARIABLE = "RECEIPT_REVIEW_TOKEN"


def cmd_review(args: argparse.Namespace) -> int:
    from receipt_cloud.settings import settings_from_args
    from receipt_review import ReviewConfig
    from receipt_review.server import serve

    config = ReviewConfig(host=args.host, port=args.port, reviewer=args.reviewer,
                          token=args.token or os.environ.get(TOKEN_VARIABLE) or None,
                          extra_labels=tuple(args.label or ()))
    serve(settings_from_args(args), config)
    return 0


def register(subparsers: Any) -> None:
    from receipt_cloud.settings import add_settings_arguments

    review = subparsers.add_parser(
        "review",
        help="serve the label review app: accept or correct the worker's PENDING labels",
        description="A web app over this environment's store and raw photos: receipts with "
        "PENDING labels, least certain first; a receipt page with its photo and word boxes "
        "coloured by label, keyboard-first corrections (the correction VALID, the proposal "
        "INVALID, with reviewer and time). `train` then reads the VALID labels. Serves until "
        "Ctrl-C.",
    )
    review.add_argument("--host", default="127.0.0.1",
                        help="interface to bind (default 127.0.0.1); any other needs --token")
    review.add_argument("--port", type=int, default=8765, help="TCP port (default 8765)")
    review.add_argument("--reviewer", metavar="NAME", default=None,
                        help="name recorded on every decision (default: asked on the page)")
    review.add_argument("--token", default=None,
                        help=f"secret every request must carry (default ${TOKEN_VARIABLE}); "
                        "required off loopback")
    review.add_argument("--label", action="append", metavar="LABEL",
                        help="a label to offer beside the core ones (repeatable)")
    add_settings_arguments(review)
    review.set_defaults(handler=cmd_review)
