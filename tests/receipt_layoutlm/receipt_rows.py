"""A labelled receipt document from rows of ``(text, label)`` words, for tests that fit or
predict on whole documents (line classifier, known values)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from receipt_layoutlm.document import DocWord, ReceiptDocument


def receipt_from_rows(
    key: str, rows: Sequence[Sequence[tuple[str, str | None]]], fields: Mapping[str, str]
) -> ReceiptDocument:
    """One printed line per row, words 80 px apart, rows 30 px apart, on a 400×200 receipt."""
    words = []
    for row_no, row in enumerate(rows):
        for word_no, (text, label) in enumerate(row):
            x, y = 10.0 + 80 * word_no, 30.0 * row_no
            corners = ((x, y), (x + 60, y), (x + 60, y + 20), (x, y + 20))
            words.append(DocWord(text, corners, line_id=row_no, label=label))
    return ReceiptDocument(key, 400.0, 200.0, words, fields=dict(fields))
