"""Sanity checks every parsed receipt passes before it may reach a store (or a JSONL file).

A receipt whose size is not a positive finite number within ``MAX_IMAGE_SIDE``, or whose word
boxes are not finite or lie outside the page by more than :data:`PAGE_OVERHANG`, is reported as a
problem on its file/line and skipped: nothing is clamped or rounded silently, and no value that a
backend cannot store (DynamoDB rejects numbers beyond 1e125) gets as far as a batch write.
"""

from __future__ import annotations

import math

from receipt_dynamo.limits import MAX_IMAGE_SIDE
from receipt_layoutlm.document import ReceiptDocument

PAGE_OVERHANG = 0.05
"""How far a box may reach past the page edge, as a share of the page side: scanned receipts
are cropped tightly and OCR quads often poke a few pixels out. Further out is a wrong size or
wrong coordinates."""


def _size_problem(doc: ReceiptDocument) -> str | None:
    limit = 1.0 if doc.normalized else MAX_IMAGE_SIDE
    for name in ("width", "height"):
        value = getattr(doc, name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{name} must be a number, got {value!r}"
        if not math.isfinite(value) or not 0 < value <= limit:
            return f"{name} {value:g} must be a finite number in (0, {limit:g}]"
    return None


def _word_problem(doc: ReceiptDocument) -> str | None:
    width, height = (1.0, 1.0) if doc.normalized else (doc.width, doc.height)
    low_x, high_x = -PAGE_OVERHANG * width, (1 + PAGE_OVERHANG) * width
    low_y, high_y = -PAGE_OVERHANG * height, (1 + PAGE_OVERHANG) * height
    for index, word in enumerate(doc.words):
        for x, y in word.corners:
            if not (math.isfinite(x) and math.isfinite(y)):
                return f"word {index} ({word.text!r}) has a non-finite corner ({x!r}, {y!r})"
            if not (low_x <= x <= high_x and low_y <= y <= high_y):
                return (
                    f"word {index} ({word.text!r}) corner ({x:g}, {y:g}) lies outside the "
                    f"{width:g} x {height:g} page"
                )
    return None


def document_problem(doc: ReceiptDocument) -> str | None:
    """Why ``doc`` cannot be imported as it is, or None when it can."""
    return _size_problem(doc) or _word_problem(doc)
