"""OCR output → the neutral :class:`ReceiptDocument` the encoding spec reads.

Pixel coordinates with a top-left origin, as the engines report them; OCR line and word ids are
kept (1-based, in the engine's reading order) so the records and the encoding agree on lines.
"""

from __future__ import annotations

from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_ocr.engines import OcrResult


def document_from_ocr(
    result: OcrResult, *, key: str, image_path: str | None = None
) -> ReceiptDocument:
    words = []
    for line_id, line in enumerate(result.lines, 1):
        for word_id, word in enumerate(line.words, 1):
            left, top, right, bottom = word.box
            corners = ((left, top), (right, top), (right, bottom), (left, bottom))
            words.append(
                DocWord(
                    text=word.text,
                    corners=corners,
                    line_id=line_id,
                    word_id=word_id,
                    confidence=word.confidence,
                )
            )
    return ReceiptDocument(
        key=key,
        width=float(result.width),
        height=float(result.height),
        words=words,
        origin="top-left",
        normalized=False,
        image_path=image_path,
    )
