"""Small stores for the review app tests: receipts with PENDING proposals and a photo."""

from __future__ import annotations

import io
from typing import Any

from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.records import records_from_document
from receipt_review import ReviewConfig
from receipt_review.state import ReviewState

XSS_WORDS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(2)>')


def png(width: int, height: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, format="PNG")
    return out.getvalue()


def write_receipt(
    store: Any, raw: Any, key: str, words: list[tuple[str, str | None, float]], *,
    photo: bool = True,
) -> tuple[str, int]:
    """One word per line; labelled words get PENDING proposals with the given confidence."""
    height = 40 + 30 * len(words)
    doc_words = [
        DocWord(text, ((20, 20 + 30 * i), (220, 20 + 30 * i), (220, 40 + 30 * i),
                       (20, 40 + 30 * i)), line_id=i + 1, word_id=1, label=label)
        for i, (text, label, _) in enumerate(words)
    ]
    doc = ReceiptDocument(key=key, width=400, height=height, words=doc_words)
    photo_key = f"raw/{key}.png"
    if photo:
        raw.put_bytes(photo_key, png(400, height), content_type="image/png")
    bucket, full_key = raw.location(photo_key)
    records = records_from_document(
        doc, source="test", validation_status="PENDING", label_proposed_by="model:v1",
        raw_s3_bucket=bucket, raw_s3_key=full_key, pixel_size=(400, height),
    )
    confidence = {i + 1: conf for i, (_, _, conf) in enumerate(words)}
    labels = [lab.with_changes(confidence=confidence[lab.line_id]) for lab in records.labels]
    store.add_image(records.image)
    store.write_receipt(records.receipt, records.lines, records.words, labels)
    return records.receipt.image_id, 1


def state(settings: Any, **config: Any) -> ReviewState:
    return ReviewState.from_settings(settings, ReviewConfig(**config))
