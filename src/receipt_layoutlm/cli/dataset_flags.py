"""``--dataset … --downsample-empty``: the DatasetConfig flags ``train`` and ``evaluate`` share.

Split and merge flags default to None = not given: train then uses DatasetConfig's defaults,
evaluate the checkpoint's recorded split and merges (DatasetConfig.inherit).
"""

from __future__ import annotations

import argparse

from receipt_cloud.dataclass_flags import Flag, add_flags, flag_values
from receipt_layoutlm.data import MERGE_PRESETS, DatasetConfig, parse_label_merges

DATASET_FLAGS = (
    Flag(
        "dataset_file",
        "--dataset",
        help="JSONL dataset instead of the store",
        kwargs={"metavar": "FILE.jsonl"},
    ),
    Flag(
        "mix",
        default=None,
        help="several named datasets instead of --dataset, each NAME=FILE.jsonl (repeatable): "
        "train trains one model on all of them, a label a dataset does not annotate ignored in "
        "its receipts' loss",
        kwargs={"action": "append", "metavar": "NAME=FILE.jsonl"},
    ),
    Flag("merge_preset", default=None, kwargs={"choices": sorted(MERGE_PRESETS)}),
    Flag(
        "label_merges",
        default=None,
        convert=parse_label_merges,
        help='extra merges, e.g. \'{"TIP": "AMOUNT"}\'',
        kwargs={"metavar": "JSON"},
    ),
    Flag("merge_amounts", default=None, help="legacy: same as --merge-preset amounts"),
    Flag(
        "allowed_labels",
        "--allowed-label",
        default=None,
        help="keep only these (merged) labels, others become O; repeatable",
        kwargs={"action": "append", "metavar": "LABEL"},
    ),
    "unverified",
    Flag("split_file", help='frozen {"train","dev"} keys', kwargs={"metavar": "FILE.json"}),
    Flag("dev_ratio", default=None, help="dev share (default {default})"),
    Flag("split_seed", default=None, help="split seed (default {default})"),
    Flag("downsample_empty", help="share of entity-free windows kept"),
)


def add_dataset_flags(parser: argparse.ArgumentParser) -> None:
    """The ``dataset`` argument group."""
    add_flags(parser.add_argument_group("dataset"), DatasetConfig, DATASET_FLAGS)


def dataset_config_from_args(args: argparse.Namespace) -> DatasetConfig:
    """The DatasetConfig the flags give (the dataclass's defaults for those left off)."""
    return DatasetConfig.from_dict(flag_values(args, DATASET_FLAGS))
