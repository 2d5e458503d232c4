"""Labelled receipts from the store (or a JSONL dataset file) as ReceiptDocuments."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_layoutlm.data._config import DatasetConfig, parse_mix
from receipt_layoutlm.document import ReceiptDocument
from receipt_layoutlm.errors import DatasetError

if TYPE_CHECKING:
    from receipt_dynamo import ReceiptStore, ReceiptWordLabel

log = logging.getLogger(__name__)

WordKey = tuple[int | None, int | None]
"""A word's (line_id, word_id) inside its receipt."""


class DocumentSet(list[ReceiptDocument]):
    """A list of documents plus what loading found out about them."""

    def __init__(
        self,
        docs: Iterable[ReceiptDocument] = (),
        *,
        source: str = "",
        conflicts: int = 0,
        unverified: dict[str, set[WordKey]] | None = None,
        datasets: dict[str, str] | None = None,
    ) -> None:
        super().__init__(docs)
        self.source = source
        """Where the documents came from (``store`` or the dataset file path)."""
        self.conflicts = conflicts
        """Words carrying several different labels of the accepted statuses (the rule in
        ``records.document_from_details`` picked one)."""
        self.unverified: dict[str, set[WordKey]] = unverified or {}
        """Per receipt key: words with label rows but none of the accepted statuses."""
        self.datasets: dict[str, str] = datasets or {}
        """Per receipt key: the name of the ``--mix`` dataset it came from (empty outside a
        mix)."""

    def subset(self, keys: Iterable[str]) -> DocumentSet:
        wanted = set(keys)
        return DocumentSet(
            (d for d in self if d.key in wanted),
            source=self.source,
            conflicts=self.conflicts,
            unverified={k: v for k, v in self.unverified.items() if k in wanted},
            datasets={k: v for k, v in self.datasets.items() if k in wanted},
        )


def _status_name(status: Any) -> str:
    return str(getattr(status, "value", status)).upper()


def _word_key(obj: Any) -> WordKey:
    return (getattr(obj, "line_id", None), getattr(obj, "word_id", None))


def _unverified_words(
    labels: Iterable[ReceiptWordLabel], statuses: tuple[str, ...]
) -> set[WordKey]:
    accepted: set[WordKey] = set()
    labelled: set[WordKey] = set()
    for label in labels:
        key = _word_key(label)
        labelled.add(key)
        if _status_name(label.validation_status) in statuses:
            accepted.add(key)
    return labelled - accepted


def load_documents(
    store: ReceiptStore | None, config: DatasetConfig = DatasetConfig()
) -> DocumentSet:
    """Receipts with at least one label of ``config.statuses``, one document each.

    One index query per status (``list_labels_by_status``) finds the receipts, then one details
    query per receipt (``get_receipt_details``); ``records.document_from_details`` is the only
    records → document mapping. With ``config.dataset_file`` the store is not used (None may
    be passed).
    """
    if config.dataset_file:
        return load_dataset_file(config.dataset_file)
    if config.mix:
        return load_mix(config)
    from receipt_layoutlm.records import document_from_details, resolve_word_labels

    receipts: set[tuple[str, int]] = set()
    for status in config.statuses:
        for label in store.list_labels_by_status(status):
            receipts.add((label.image_id, int(label.receipt_id)))
    if not receipts:
        raise DatasetError(
            f"the store has no receipt with labels of status {', '.join(config.statuses)}; "
            "import a dataset (layoutlm-cli import ...) or validate some labels first"
        )
    docs = DocumentSet(source="store")
    for image_id, receipt_id in sorted(receipts):
        details = store.get_receipt_details(image_id, receipt_id)
        resolved = resolve_word_labels(details.labels, statuses=config.statuses)
        doc = document_from_details(details, statuses=config.statuses, resolved=resolved)
        docs.conflicts += resolved.conflicts
        unverified = _unverified_words(details.labels, config.statuses)
        if unverified:
            docs.unverified[doc.key] = unverified
        docs.append(doc)
    if docs.conflicts:
        log.warning(
            "%d word(s) carry several different %s labels; records.document_from_details "
            "picked one for each",
            docs.conflicts,
            "/".join(config.statuses),
        )
    log.info("loaded %d receipts from the store", len(docs))
    return docs


def check_dataset_source(config: DatasetConfig) -> None:
    """DatasetError when ``config`` names a dataset file that is not there (checked before a
    training run creates anything)."""
    if config.dataset_file:
        _existing_dataset(Path(config.dataset_file))
    if config.mix:
        for path in parse_mix(config.mix).values():
            _existing_dataset(Path(path))


def _existing_dataset(path: Path) -> Path:
    if not path.is_file() and not (path.is_dir() and any(path.glob("*.jsonl"))):
        raise DatasetError(f"dataset file {path} does not exist; pass an existing .jsonl file")
    return path


def load_dataset_file(path: str | Path) -> DocumentSet:
    """Documents from a JSONL dataset file (``importers.jsonl``), or every ``*.jsonl`` in a
    directory; every label counts as verified."""
    path = _existing_dataset(Path(path))
    from receipt_layoutlm.importers.jsonl import parse_jsonl

    # native: a dataset file may carry non-core labels (merged ones, other datasets' classes).
    result = parse_jsonl(path, labels="native")
    docs = result.documents
    for problem in result.problems:
        log.warning("%s", problem)
    if not docs:
        raise DatasetError(f"dataset file {path} holds no receipts")
    return DocumentSet(docs, source=str(path))


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
