"""Where the parity gate's receipts come from: a JSONL dataset, the store, or (last) synthetic."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.errors import ExportError

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


def load_parity_documents(
    limit: int,
    *,
    parity_data: str | Path | None = None,
    settings: Any | None = None,
    documents: Sequence[ReceiptDocument] | None = None,
    seed: int = 0,
) -> tuple[list[ReceiptDocument], str]:
    """Up to ``limit`` receipts and a description of their source.

    Precedence: ``documents`` handed in, a JSONL dataset file (``importers.jsonl``), the store
    of ``settings`` (receipts with VALID labels), and only when none is given synthetic receipts.
    A source that is given but yields nothing is an error, never a silent fall-back.
    """
    if limit < 1:
        raise ExportError(f"parity needs at least one receipt; got --parity-receipts {limit}")
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
    elif settings is not None:
        from receipt_layoutlm.data import load_documents
        from receipt_layoutlm.errors import DatasetError

        try:
            docs = list(load_documents(settings.open_store()))
        except DatasetError as exc:
            raise ExportError(f"parity receipts from --env {settings.env}: {exc}") from None
        source = f"store:{settings.env}"
    else:
        log.warning("no parity receipts given (--parity-data/--env); using synthetic receipts")
        return synthetic_documents(limit, seed=seed), "synthetic"
    docs = [d for d in docs if d.words]
    if not docs:
        raise ExportError(f"parity source {source} holds no receipt with words")
    docs.sort(key=lambda d: d.key)
    return docs[:limit], source
