"""``layoutlm-cli fit-fields``: fit the learned field models onto a trained checkpoint."""

from __future__ import annotations

import argparse
import json
from typing import Any

from receipt_layoutlm.cli.dataset_commands import positive_int


def cmd_fit_fields(args: argparse.Namespace) -> int:
    from receipt_layoutlm.training.fit_fields import fit_fields

    print(json.dumps(fit_fields(
        args.checkpoint, args.dataset, line_classifier=args.line_classifier == "fit",
        known_values=args.known_values == "fit", key_lexicon=args.key_lexicon == "fit",
        min_count=args.min_count,
        runtime=args.runtime)))
    return 0


def register(subparsers: Any) -> None:
    fit = subparsers.add_parser(
        "fit-fields",
        help="fit the company/address line classifier, known values and key lexicon onto a "
        "checkpoint",
        description="Run the checkpoint over labelled receipts (its training receipts, and "
        "OCR'd re-renders of them) and fit which whole lines make the company and address "
        "blocks (fields.line_classifier) from each line's model probabilities, position, "
        "patterns and neighbours; with --known-values fit, also the merchant/address values "
        "seen on at least --min-count receipts (fields.known_values: a read value that nearly "
        "spells one is replaced by it); with --key-lexicon fit, the printed keys' letters seen "
        "on at least --min-count receipts (fields.key_lexicon: a word the model left outside "
        "every key and value that spells one becomes that key before key-value pairing). "
        "Writes line_classifier.json, known_values.json and key_lexicon.json into "
        "the checkpoint (replacing those there); exports copy them into bundles and every "
        "runtime applies them. Never fit them on the receipts you evaluate on.",
    )
    fit.add_argument("checkpoint", metavar="CHECKPOINT", help="checkpoint directory")
    fit.add_argument("--dataset", action="append", required=True, metavar="FILE.jsonl",
                     help="labelled receipts in the JSONL dataset format (repeatable)")
    fit.add_argument("--runtime", default="torch",
                     help="runtime that predicts on them (default torch)")
    fit.add_argument("--line-classifier", choices=("fit", "none"), default="fit",
                     help="fit the line classifier (default fit)")
    fit.add_argument("--known-values", choices=("fit", "none"), default="none",
                     help="fit the known merchant/address values from the receipts' key values "
                     "(default none: they ship inside every bundle)")
    fit.add_argument("--key-lexicon", choices=("fit", "none"), default="none",
                     help="fit the key lexicon from the receipts' key labels (X_KEY, as "
                     "import wildreceipt --labels native gives; default none)")
    fit.add_argument("--min-count", type=positive_int, default=2, metavar="N",
                     help="keep a known value or lexicon key only when N or more receipts "
                     "carry it (default 2; 1 would ship values printed once, such as a "
                     "person's name)")
    fit.set_defaults(handler=cmd_fit_fields)
