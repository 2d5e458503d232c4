"""``layoutlm-cli fit-fields``: fit the field line classifier onto a trained checkpoint."""

from __future__ import annotations

import argparse
import json
from typing import Any


def cmd_fit_fields(args: argparse.Namespace) -> int:
    from receipt_layoutlm.training.line_classifier_fit import fit_onto_checkpoint

    classifier = fit_onto_checkpoint(args.checkpoint, args.dataset, runtime=args.runtime)
    print(json.dumps({"checkpoint": args.checkpoint, "fields": sorted(classifier.models),
                      "fitted_on": classifier.fitted_on}))
    return 0


def register(subparsers: Any) -> None:
    fit = subparsers.add_parser(
        "fit-fields",
        help="fit the company/address line classifier onto a trained checkpoint",
        description="Run the checkpoint over labelled receipts (its training receipts, and "
        "OCR'd re-renders of them) and fit which whole lines make the company and address "
        "blocks (fields.line_classifier) from each line's model probabilities, position, "
        "patterns and neighbours. Writes line_classifier.json into the checkpoint (replacing "
        "one there); exports copy it into bundles and every runtime applies it. Never fit it on "
        "the receipts you evaluate on.",
    )
    fit.add_argument("checkpoint", metavar="CHECKPOINT", help="checkpoint directory")
    fit.add_argument("--dataset", action="append", required=True, metavar="FILE.jsonl",
                     help="labelled receipts in the JSONL dataset format (repeatable)")
    fit.add_argument("--runtime", default="torch",
                     help="runtime that predicts on them (default torch)")
    fit.set_defaults(handler=cmd_fit_fields)
