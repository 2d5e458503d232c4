"""Builders for valid entities used across the receipt_dynamo tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from receipt_dynamo import (
    CORE_LABELS,
    BoundingBox,
    Receipt,
    ReceiptLine,
    ReceiptWord,
    ReceiptWordLabel,
    ValidationStatus,
)

BASE_TIME = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def new_id() -> str:
    return str(uuid.uuid4())


def at(seconds: float) -> str:
    return (BASE_TIME + timedelta(seconds=seconds)).isoformat()


def receipt(image_id: str, receipt_id: int = 1) -> Receipt:
    return Receipt(image_id=image_id, receipt_id=receipt_id, width=600, height=1800,
                   raw_s3_bucket="bucket", raw_s3_key=f"receipts/{image_id}/{receipt_id}.png",
                   timestamp_added=at(0))


def line(image_id: str, receipt_id: int, line_id: int) -> ReceiptLine:
    y = min(line_id * 0.01, 0.95)
    return ReceiptLine(image_id=image_id, receipt_id=receipt_id, line_id=line_id,
                       text=f"line {line_id}", bounding_box=BoundingBox(0.1, y, 0.8, 0.01),
                       origin="top-left", normalized=True, confidence=0.9)


def word(image_id: str, receipt_id: int, line_id: int, word_id: int) -> ReceiptWord:
    y = min(line_id * 0.01, 0.95)
    return ReceiptWord(image_id=image_id, receipt_id=receipt_id, line_id=line_id,
                       word_id=word_id, text=f"w{line_id}.{word_id}",
                       bounding_box=BoundingBox(0.001 * (word_id % 900), y, 0.001, 0.01),
                       origin="top-left", normalized=True, confidence=0.75,
                       angle_degrees=1.5)


def label(
    image_id: str,
    receipt_id: int,
    line_id: int,
    word_id: int,
    name: str = "GRAND_TOTAL",
    status: ValidationStatus = ValidationStatus.PENDING,
    by: str = "model-v1",
) -> ReceiptWordLabel:
    return ReceiptWordLabel(image_id=image_id, receipt_id=receipt_id, line_id=line_id,
                            word_id=word_id, label=name, validation_status=status,
                            label_proposed_by=by, confidence=0.5, timestamp_added=at(1))


def whole_receipt(
    image_id: str, receipt_id: int = 1, n_lines: int = 3, words_per_line: int = 4
) -> tuple[Receipt, list[ReceiptLine], list[ReceiptWord], list[ReceiptWordLabel]]:
    lines = [line(image_id, receipt_id, li) for li in range(1, n_lines + 1)]
    words = [word(image_id, receipt_id, li, wi)
             for li in range(1, n_lines + 1) for wi in range(1, words_per_line + 1)]
    labels = [label(image_id, receipt_id, w.line_id, w.word_id,
                    CORE_LABELS[(w.line_id + w.word_id) % len(CORE_LABELS)]) for w in words]
    return receipt(image_id, receipt_id), lines, words, labels
