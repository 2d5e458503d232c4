"""``layoutlm-cli evaluate``: argument parsing; the work is in
``receipt_layoutlm.evaluation`` (checkpoint_truth, evaluate_documents)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_cloud.dataclass_flags import flag_values
from receipt_layoutlm.cli.dataset_flags import DATASET_FLAGS, add_dataset_flags

if TYPE_CHECKING:
    from receipt_dynamo import ReceiptStore


def cmd_evaluate(args: argparse.Namespace) -> int:
    from receipt_layoutlm.evaluation.evaluate import checkpoint_truth, evaluate_documents
    from receipt_layoutlm.remote_dirs import fetched_checkpoint
    from receipt_layoutlm.runtime import load_runtime

    def open_store() -> ReceiptStore:
        from receipt_cloud.settings import settings_from_args

        return settings_from_args(args).open_store()

    with fetched_checkpoint(args.checkpoint) as checkpoint_dir:
        label_set = _label_set(checkpoint_dir, args.label_set)
        truth = checkpoint_truth(
            checkpoint_dir,
            flag_values(args, DATASET_FLAGS),
            open_store=open_store,
            split_side=args.split_side,
            trained_on=args.checkpoint,
        )
        docs, runtime = truth.docs, load_runtime(args.runtime, checkpoint_dir)
        if label_set is not None:
            from receipt_layoutlm.data import receipts_of
            from receipt_layoutlm.training.label_masks import LabelSetRuntime

            docs = receipts_of(docs, truth.dataset_of, args.label_set)
            runtime = LabelSetRuntime(runtime, label_set)
        result = evaluate_documents(
            runtime,
            docs,
            merges=truth.merges,
            out_dir=Path(args.output_dir),
            task3_whitespace=args.task3_whitespace,
        )
    print(json.dumps(result.summary(), indent=2))
    return 0


def _label_set(checkpoint_dir: Path, name: str | None) -> list[str] | None:
    if name is None:
        return None
    from receipt_layoutlm.training.label_masks import recorded_label_set

    return recorded_label_set(checkpoint_dir, name)


def register(subparsers: Any) -> None:
    from receipt_cloud.settings import add_settings_arguments
    from receipt_layoutlm.cli.checkpoint_flags import add_checkpoint_flag

    evaluate = subparsers.add_parser("evaluate", help="entity/field metrics of a model")
    add_checkpoint_flag(evaluate)
    evaluate.add_argument("--runtime", default="torch")
    evaluate.add_argument("--output-dir", default="evaluation", help="report directory")
    evaluate.add_argument(
        "--split-side",
        choices=["dev", "train"],
        default=None,
        help="evaluate one side of the split: the checkpoint's training split unless "
        "--split-file/--dev-ratio/--split-seed are given (its recorded split hashes are "
        "checked); default all receipts",
    )
    evaluate.add_argument(
        "--task3-whitespace",
        choices=["collapse", "remove"],
        default="collapse",
        help="SROIE task-3 string comparison: collapse runs of whitespace (default) or remove "
        "all of it (OCR spacing such as 'NO.2&4,JALAN' vs 'NO.2&4, JALAN' then matches)",
    )
    evaluate.add_argument(
        "--label-set",
        metavar="NAME",
        help="a model trained with --mix: score it with the labels dataset NAME annotates (the "
        "others' probability counts as O); with --mix, on NAME's receipts only",
    )
    add_settings_arguments(evaluate)
    add_dataset_flags(evaluate)
    evaluate.set_defaults(handler=cmd_evaluate)
