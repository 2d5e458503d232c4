"""One synthetic receipt for the store benchmarks (store_bench.py, review_bench.py).

Not a benchmark itself (run_all.py skips files starting with ``_``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from receipt_dynamo import (
    CORE_LABELS,
    BoundingBox,
    Receipt,
    ReceiptLine,
    ReceiptWord,
    ReceiptWordLabel,
    ValidationStatus,
)


def synthetic_receipt(
    n_words: int,
    *,
    n_lines: int,
    bucket: str,
    key: str,
    confidence: Callable[[], float],
    label_every: int = 1,
) -> tuple[Receipt, list[ReceiptLine], list[ReceiptWord], list[ReceiptWordLabel]]:
    """``n_words`` words on ``n_lines`` lines; every ``label_every``-th word gets a PENDING label
    (labels cycle through CORE_LABELS, confidence drawn from ``confidence()``)."""
    image_id = str(uuid.uuid4())
    receipt = Receipt(image_id=image_id, receipt_id=1, width=600, height=1800,
                      raw_s3_bucket=bucket, raw_s3_key=key.format(image_id=image_id))
    per_line = -(-n_words // n_lines)
    row = 1 / (n_lines + 2)
    words, labels = [], []
    for i in range(n_words):
        line_id, word_id = i // per_line + 1, i % per_line + 1
        box = BoundingBox(word_id / (per_line + 2), line_id * row, 0.5 / (per_line + 2), row / 2)
        words.append(ReceiptWord(image_id=image_id, receipt_id=1, line_id=line_id,
                                 word_id=word_id, text=f"w{i}", bounding_box=box,
                                 origin="top-left", normalized=True, confidence=0.9))
        if i % label_every == 0:
            labels.append(ReceiptWordLabel(
                image_id=image_id, receipt_id=1, line_id=line_id, word_id=word_id,
                label=CORE_LABELS[i % len(CORE_LABELS)], label_proposed_by="bench",
                validation_status=ValidationStatus.PENDING, confidence=confidence()))
    lines = [ReceiptLine(image_id=image_id, receipt_id=1, line_id=n, text=f"line {n}",
                         bounding_box=BoundingBox(0, n * row, 1, row / 2), origin="top-left",
                         normalized=True) for n in sorted({w.line_id for w in words})]
    return receipt, lines, words, labels
