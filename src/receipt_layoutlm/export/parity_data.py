"""Where the parity gate's receipts come from: a JSONL dataset, the store, or (last) synthetic."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.errors import ExportError

if TYPE_CHECKING:
    from receipt_cloud.settings import Settings

log = logging.getLogger(__name__)

_SYNTHETIC_WORDS = [
    "TOTAL",
    "SUBTOTAL",
    "TAX",
    "CASH",
    "CHANGE",
    "RM",
    "12.50",
    "3.00",
    "GST",
    "6%",
    "QTY",
    "1",
    "2",
    "x",
    "ITEM",
    "COFFEE",
    "TEA",
    "RICE",
    "CHICKEN",
    "01/02/2019",
    "12:34",
    "SDN",
    "BHD",
    "JALAN",
    "NO.",
    "5",
    "TEL:",
    "03-1234",
    "5678",
    "INVOICE",
    "RECEIPT",
    "THANK",
    "YOU",
]


def synthetic_documents(
    n: int, *, seed: int = 0, words_per_receipt: int = 60
) -> list[ReceiptDocument]:
    """Deterministic receipt-like documents (lines of short words). Used only when no real
    receipts are available; the parity report then says ``synthetic``."""
    rng = random.Random(seed)
    docs = []
    for r in range(n):
        words: list[DocWord] = []
        y = 20.0
        line = 1
        x = 10.0
        count = words_per_receipt + rng.randint(-10, 10)
        for i in range(count):
            text = rng.choice(_SYNTHETIC_WORDS)
            width = 9.0 * len(text)
            if x + width > 590:
                line, x, y = line + 1, 10.0, y + 25.0
            corners = ((x, y), (x + width, y), (x + width, y + 18), (x, y + 18))
            words.append(DocWord(text=text, corners=corners, line_id=line, word_id=i + 1))
            x += width + 8.0
        docs.append(
            ReceiptDocument(key=f"synthetic:{r:03d}", width=600.0, height=y + 40, words=words)
        )
    return docs


def _store_documents(settings: Settings) -> list[ReceiptDocument]:
    """Receipts with VALID labels in the store of ``settings``; empty when it holds none (or a
    local store that was never created: looking must not create one)."""
    from receipt_layoutlm.data import load_documents
    from receipt_layoutlm.errors import DatasetError

    if settings.store_backend == "sqlite" and not Path(settings.table_name).is_file():
        return []
    try:
        return list(load_documents(settings.open_store()))
    except DatasetError:  # no receipt with VALID labels
        return []


def load_parity_documents(
    limit: int,
    *,
    parity_data: str | Path | None = None,
    settings: Settings | None = None,
    documents: Sequence[ReceiptDocument] | None = None,
    training_dataset: str | Path | None = None,
    seed: int = 0,
) -> tuple[list[ReceiptDocument], str]:
    """Up to ``limit`` receipts and a description of their source.

    Precedence: ``documents`` handed in; a JSONL dataset file ``parity_data``
    (``importers.jsonl``; given but empty is an error); the store of ``settings`` when it holds
    receipts with VALID labels; the checkpoint's training dataset file ``training_dataset`` when
    it still exists; and only when none of these has receipts, synthetic ones (source
    ``synthetic``).
    """
    if limit < 1:
        raise ExportError(f"parity needs at least one receipt; got --parity-receipts {limit}")
    docs: list[ReceiptDocument] = []
    source = ""
    if documents is not None:
        docs, source = list(documents), "documents"
    elif parity_data is not None:
        from receipt_layoutlm.data import load_dataset_file
        from receipt_layoutlm.errors import DatasetError

        try:
            docs = list(load_dataset_file(parity_data))
        except DatasetError as exc:
            raise ExportError(f"--parity-data: {exc}") from None
        source = f"jsonl:{parity_data}"
    if documents is not None or parity_data is not None:
        docs = [d for d in docs if d.words]
        if not docs:
            raise ExportError(f"parity source {source} holds no receipt with words")
        return _first(docs, limit), source

    if settings is not None:
        docs = [d for d in _store_documents(settings) if d.words]
        if docs:
            return _first(docs, limit), f"store:{settings.env}"
        log.info("the %s store has no receipt with VALID labels for parity", settings.env)
    if training_dataset is not None and Path(training_dataset).exists():
        from receipt_layoutlm.data import load_dataset_file
        from receipt_layoutlm.errors import DatasetError

        try:
            docs = [d for d in load_dataset_file(training_dataset) if d.words]
        except DatasetError as exc:
            log.warning("the checkpoint's training dataset is unusable for parity: %s", exc)
            docs = []
        if docs:
            return _first(docs, limit), f"jsonl:{training_dataset}"
    log.warning(
        "no parity receipts (no --parity-data, no VALID receipts in the store, no training "
        "dataset file recorded by the checkpoint); using synthetic receipts"
    )
    return synthetic_documents(limit, seed=seed), "synthetic"


def _first(docs: list[ReceiptDocument], limit: int) -> list[ReceiptDocument]:
    return sorted(docs, key=lambda d: d.key)[:limit]
