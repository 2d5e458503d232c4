"""Several named datasets trained as one (``--mix NAME=FILE.jsonl``): each receipt keeps the
name of the dataset it came from, and each dataset's label set is the labels it annotates.

The label sets are what the per-dataset loss masks (``training.label_masks``) and per-dataset
evaluation read: a receipt's word labelled O is "none of *its dataset's* labels", not "none of
the joint model's labels" (a SROIE word labelled O may be a phone number SROIE never marks).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

from receipt_dynamo.names import check_name
from receipt_layoutlm.data._config import DatasetConfig
from receipt_layoutlm.data._load import DocumentSet, load_dataset_file
from receipt_layoutlm.errors import DatasetError

log = logging.getLogger(__name__)


def parse_mix_entry(entry: str) -> tuple[str, str]:
    """``NAME=FILE.jsonl`` → ``(name, file)``; the name follows the CLI's name rule (it is
    recorded in the checkpoint and named again by ``evaluate --label-set``)."""
    name, sep, path = str(entry).partition("=")
    if not sep or not path:
        raise DatasetError(f"--mix takes NAME=FILE.jsonl, got {entry!r}")
    try:
        check_name("dataset name", name, where="--mix")
    except ValueError as exc:
        raise DatasetError(str(exc)) from None
    return name, path


def parse_mix(entries: Iterable[str]) -> dict[str, str]:
    """``{name: file}`` of ``--mix`` entries in order; a name given twice is refused."""
    mix: dict[str, str] = {}
    for entry in entries:
        name, path = parse_mix_entry(entry)
        if name in mix:
            raise DatasetError(f"--mix names dataset {name!r} twice; give each dataset one name")
        mix[name] = path
    return mix


def load_mix(config: DatasetConfig) -> DocumentSet:
    """The receipts of every ``--mix`` dataset, each tagged with its dataset's name
    (``DocumentSet.datasets``); a receipt key found in two datasets is refused (the split and
    the masks go by key)."""
    docs = DocumentSet(source="mix:" + ",".join(parse_mix(config.mix)))
    for name, path in parse_mix(config.mix).items():
        part = load_dataset_file(Path(path))
        for doc in part:
            if doc.key in docs.datasets:
                raise DatasetError(
                    f"receipt {doc.key!r} is in dataset {docs.datasets[doc.key]!r} and in "
                    f"{name!r} of --mix; a receipt belongs to one dataset"
                )
            docs.datasets[doc.key] = name
            docs.append(doc)
        log.info("mix: %d receipts from dataset %s (%s)", len(part), name, path)
    return docs


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
