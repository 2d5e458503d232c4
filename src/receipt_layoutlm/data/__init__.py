"""Training data: labelled receipts → merged, split, encoded windows (``datasets.Dataset``).

Label merges, the allowed-labels filter, the unverified-word rule, the split and a mix of named
datasets (``--mix``, each receipt tagged with its dataset) are configured by
:class:`DatasetConfig`; encoding (boxes, reading order, BIO, windows) is the encoding spec's.
"""

from __future__ import annotations

from receipt_layoutlm.data._build import (
    MODEL_COLUMNS,
    EncodedSet,
    build_datasets,
    encode_documents,
    entity_labels,
    rows_to_dataset,
    window_rows,
)
from receipt_layoutlm.data._config import (
    MERGE_FIELDS,
    MERGE_PRESETS,
    SPLIT_FIELDS,
    DatasetConfig,
    parse_label_merges,
    parse_mix,
)
from receipt_layoutlm.data._folds import Fold, kfold
from receipt_layoutlm.data._load import (
    DocumentSet,
    check_dataset_source,
    load_dataset_file,
    load_documents,
    load_mix,
)
from receipt_layoutlm.data._mix import dataset_label_sets, receipts_of
from receipt_layoutlm.data._split import Split, keys_hash, split_documents

__all__ = [
    "MERGE_FIELDS",
    "MERGE_PRESETS",
    "MODEL_COLUMNS",
    "SPLIT_FIELDS",
    "DatasetConfig",
    "DocumentSet",
    "EncodedSet",
    "Fold",
    "Split",
    "build_datasets",
    "check_dataset_source",
    "dataset_label_sets",
    "encode_documents",
    "entity_labels",
    "keys_hash",
    "kfold",
    "load_dataset_file",
    "load_documents",
    "load_mix",
    "parse_label_merges",
    "parse_mix",
    "receipts_of",
    "rows_to_dataset",
    "split_documents",
    "window_rows",
]
