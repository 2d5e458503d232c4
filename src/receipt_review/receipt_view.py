"""One stored receipt as the review page shows it: words with boxes, each word's current
decision, the extracted fields, and the version the page's forms send back."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from receipt_dynamo import CORE_LABELS, ReceiptDetails, ReceiptWordLabel, ValidationStatus
from receipt_dynamo.label_colours import label_colour_hex
from receipt_dynamo.store import version_of
from receipt_layoutlm.encoding import normalize_box, reading_order
from receipt_layoutlm.fields import extract_fields
from receipt_layoutlm.records import document_from_details

PROPOSAL_STATUSES = frozenset(
    {ValidationStatus.PENDING, ValidationStatus.NEEDS_REVIEW, ValidationStatus.NONE}
)


@dataclass(frozen=True)
class WordView:
    """One word of the page."""

    index: int
    """Position in reading order (line, word): what the keyboard moves through."""
    line_id: int
    word_id: int
    text: str
    box: tuple[int, int, int, int]
    """Axis-aligned box in 0–1000 of the receipt (the encoding spec's ``normalize_box``)."""
    label: str | None
    """The word's label as it stands: its VALID one, else its most confident proposal."""
    status: str
    """VALID, PENDING (or another proposal status), or NONE when nothing labels the word."""
    confidence: float | None
    """The proposal's confidence (None for decided or unlabelled words)."""
    colour: str
    """``#rrggbb`` of the label in the shared palette (grey when unlabelled)."""


@dataclass(frozen=True)
class ReceiptView:
    """Everything the receipt page renders."""

    image_id: str
    receipt_id: int
    width: int
    height: int
    words: list[WordView]
    fields: list[tuple[str, str, float]]
    """(field, text, confidence) from ``receipt_layoutlm.fields.extract_fields``."""
    version: str
    """Digest of every label row of the receipt; a save names it (compare-and-put)."""
    pending: int
    """Proposals still waiting for a decision."""
    vocabulary: list[str]
    """Labels the picker offers: the core ones, the receipt's own and the configured extras."""


def receipt_version(labels: list[ReceiptWordLabel]) -> str:
    """The digest a page carries; any change to any label row of the receipt changes it."""
    digest = hashlib.sha256()
    for label in sorted(labels, key=lambda lab: lab.sk):
        digest.update(repr((label.sk, version_of(label))).encode())
    return digest.hexdigest()[:20]


def word_decision(rows: list[ReceiptWordLabel]) -> ReceiptWordLabel | None:
    """The row that stands for a word: its newest VALID row, else its most confident proposal
    (INVALID rows are history)."""
    valid = [r for r in rows if r.validation_status == ValidationStatus.VALID]
    if valid:
        return max(valid, key=lambda r: (r.reviewed_at or "", r.timestamp_added))
    proposals = [r for r in rows if r.validation_status in PROPOSAL_STATUSES]
    if proposals:
        return max(proposals, key=lambda r: (r.confidence or 0.0, r.timestamp_added))
    return None


def rows_by_word(labels: list[ReceiptWordLabel]) -> dict[tuple[int, int], list[ReceiptWordLabel]]:
    out: dict[tuple[int, int], list[ReceiptWordLabel]] = {}
    for label in labels:
        out.setdefault((label.line_id, label.word_id), []).append(label)
    return out


def build_view(details: ReceiptDetails, extra_labels: tuple[str, ...] = ()) -> ReceiptView:
    """The page of one receipt: words in the stored (line, word) order, fields read from them in
    the encoding spec's reading order."""
    doc = document_from_details(details)
    rows = rows_by_word(details.labels)
    words = []
    for index, word in enumerate(doc.words):
        key = (int(word.line_id or 0), int(word.word_id or 0))
        decision = word_decision(rows.get(key, []))
        label = decision.label if decision else None
        words.append(WordView(
            index=index, line_id=key[0], word_id=key[1], text=word.text,
            box=normalize_box(word.corners, doc.width, doc.height, origin=doc.origin,
                              normalized=doc.normalized),
            label=label,
            status=decision.validation_status.value if decision else "NONE",
            confidence=decision.confidence if decision and decision.is_proposal else None,
            colour=label_colour_hex(label),
        ))
    # Fields read the words in the encoding spec's reading order, as prediction does; the
    # table keeps the stored (line, word) order.
    ordered = [words[i] for i in reading_order(doc)]
    fields = extract_fields([(w.text, w.label, w.confidence or 1.0) for w in ordered],
                            line_ids=[w.line_id for w in ordered], fallback_min_probability=None)
    on_receipt = {lab.label for lab in details.labels}
    vocabulary = list(CORE_LABELS) + sorted((on_receipt | set(extra_labels)) - set(CORE_LABELS))
    return ReceiptView(
        image_id=details.receipt.image_id, receipt_id=int(details.receipt.receipt_id),
        width=int(details.receipt.width), height=int(details.receipt.height), words=words,
        fields=[(f.field, f.text, round(f.confidence, 3)) for f in fields.values()],
        version=receipt_version(details.labels),
        pending=sum(1 for lab in details.labels if lab.validation_status in PROPOSAL_STATUSES),
        vocabulary=vocabulary,
    )


def view_json(view: ReceiptView) -> dict[str, Any]:
    """The page's data as the JSON API returns it."""
    return {
        "image_id": view.image_id, "receipt_id": view.receipt_id, "version": view.version,
        "pending": view.pending, "width": view.width, "height": view.height,
        "fields": [{"field": f, "text": t, "confidence": c} for f, t, c in view.fields],
        "words": [{"line_id": w.line_id, "word_id": w.word_id, "text": w.text, "box": w.box,
                   "label": w.label, "status": w.status, "confidence": w.confidence}
                  for w in view.words],
    }
