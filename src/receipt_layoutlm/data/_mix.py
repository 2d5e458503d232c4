"""Several named datasets trained as one (``--mix NAME=FILE.jsonl``; ``load_mix`` tags each
receipt with its dataset's name): the labels each dataset annotates, and its receipts.

The label sets are what the per-dataset loss masks (``training.label_masks``) and per-dataset
evaluation read: a receipt's word labelled O is "none of *its dataset's* labels", not "none of
the joint model's labels" (a SROIE word labelled O may be a phone number SROIE never marks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from receipt_layoutlm.data._config import DatasetConfig, parse_mix
from receipt_layoutlm.data._load import DocumentSet
from receipt_layoutlm.errors import DatasetError


def dataset_label_sets(docs: DocumentSet, config: DatasetConfig) -> dict[str, list[str]]:
    """``{dataset: sorted entity labels it annotates}`` over ``docs`` (after merges and the
    allowed-labels filter), for every dataset of ``config.mix``; a dataset that annotates none
    is refused: all of its words would be "O or anything", which teaches nothing."""
    found: dict[str, set[str]] = {name: set() for name in parse_mix(config.mix)}
    for doc in docs:
        name = docs.datasets.get(doc.key)
        if name is None:
            continue
        for word in doc.words:
            label = config.merged_label(word.label)
            if label is not None:
                found[name].add(label)
    for name, labels in found.items():
        if not labels:
            raise DatasetError(
                f"dataset {name!r} of --mix annotates no label in the training receipts (after "
                "merges and --allowed-label); a mix needs each dataset's labels to mask by"
            )
    return {name: sorted(labels) for name, labels in found.items()}


def receipts_of(docs: Iterable[object], datasets: Mapping[str, str], name: str) -> list:
    """The receipts of ``docs`` that came from dataset ``name`` (all of them when ``datasets``
    is empty: the receipts were read from one file, not a mix)."""
    if not datasets:
        return list(docs)
    return [d for d in docs if datasets.get(getattr(d, "key", "")) == name]
