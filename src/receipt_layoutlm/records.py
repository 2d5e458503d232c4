"""The one mapping between store records (``receipt_dynamo``) and in-memory documents.

Importers, the dataset builder and the OCR worker all go through here, so a receipt written by
one reads back identically in the others.

- :func:`records_from_document`: a :class:`ReceiptDocument` → Image, Receipt, ReceiptLine,
  ReceiptWord and ReceiptWordLabel records. Words without line ids are put on lines by the
  encoding spec's :func:`~receipt_layoutlm.encoding.group_lines`; missing or repeated word ids
  are renumbered left to right. A line's text is its words joined by spaces; its corners are the
  first word's left and the last word's right corners.
- :func:`document_from_details`: a stored receipt → a document with the labels of the chosen
  validation statuses. When one word carries several such labels, the newest
  (``timestamp_added``) wins, then the higher confidence, then the alphabetically first label;
  :func:`resolve_word_labels` counts those conflicts.
- Imports get stable ids: ``image_id = uuid5(IMPORT_NAMESPACE, doc.key)``, so importing the same
  receipt again addresses the same records (and is skipped). A key of the form
  ``<image id>#<5-digit receipt id>`` (what :func:`dataset_key` gives a receipt that was not
  imported) addresses that receipt itself (:func:`receipt_ids`).
- An image that was not uploaded anywhere is recorded with bucket :data:`NOT_UPLOADED` and the
  document key (e.g. ``sroie:X51005230605``) as object key, so the dataset origin stays visible
  and :func:`dataset_key` can give an exported receipt its original key back: exporting and
  importing into the same store then adds nothing.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from receipt_dynamo import (
    BoundingBox,
    Image,
    Point,
    Receipt,
    ReceiptLine,
    ReceiptWord,
    ReceiptWordLabel,
    utc_now,
)
from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.errors import DatasetError

IMPORT_NAMESPACE = uuid.UUID("6f1c2b0e-5d1a-4c3e-9a57-2f0b8e4d7c91")
"""Namespace of imported image ids (never change it: re-imports would duplicate receipts)."""

NOT_UPLOADED = "not-uploaded"
"""``raw_s3_bucket`` of an image that lives only in the source dataset."""


def import_image_id(key: str) -> str:
    """The stable image id of an imported document key."""
    return str(uuid.uuid5(IMPORT_NAMESPACE, key))


_STORE_KEY = re.compile(
    r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})#(\d{5})", re.IGNORECASE
)


def store_key(image_id: str, receipt_id: int) -> str:
    """``<image_id>#<receipt_id:05d>``: the key of a stored receipt that has no dataset key."""
    return f"{image_id}#{receipt_id:05d}"


def receipt_ids(key: str) -> tuple[str, int]:
    """The (image id, receipt id) a document key is stored under.

    A :func:`store_key` (``<uuid>#00001``) names them itself, so a receipt exported from a store
    and imported again lands on the same records; any other key is a dataset key and gets
    ``(import_image_id(key), 1)``.
    """
    match = _STORE_KEY.fullmatch(key)
    if match and int(match[2]) > 0:
        return match[1].lower(), int(match[2])
    return import_image_id(key), 1


def dataset_key(receipt: Receipt) -> str:
    """The key to export a stored receipt under: the dataset key it was imported with, else its
    :func:`store_key`.

    Imports record the document key as ``raw_s3_key`` with bucket :data:`NOT_UPLOADED` (on the
    Image and the Receipt alike); it is only trusted when it still derives this image id.
    """
    key = str(receipt.raw_s3_key or "")
    if (
        receipt.raw_s3_bucket == NOT_UPLOADED
        and int(receipt.receipt_id) == 1
        and key
        and import_image_id(key) == receipt.image_id
    ):
        return key
    return store_key(receipt.image_id, int(receipt.receipt_id))


@dataclass(frozen=True)
class ReceiptRecords:
    """Everything ``ReceiptStore.write_receipt`` (plus ``add_image``) needs for one receipt."""

    image: Image
    """The Image record."""
    receipt: Receipt
    """The Receipt record (written last: its presence marks the receipt complete)."""
    lines: list[ReceiptLine]
    """One record per OCR line."""
    words: list[ReceiptWord]
    """One record per word."""
    labels: list[ReceiptWordLabel]
    """One record per labelled word."""


def _numbered(doc: ReceiptDocument) -> list[DocWord]:
    """The words with unique (line_id, word_id). Missing or clashing ids are numbered in the
    encoding spec's reading order: OCR lines kept when every word has one, else clustered."""
    from receipt_layoutlm.encoding import reading_lines

    words = doc.words
    pairs = [(w.line_id, w.word_id) for w in words]
    if all(None not in pair for pair in pairs) and len(set(pairs)) == len(pairs):
        return list(words)
    keep_lines = all(w.line_id is not None for w in words)
    return [
        replace(words[i], line_id=words[i].line_id if keep_lines else n, word_id=position)
        for n, line in enumerate(reading_lines(doc), 1)
        for position, i in enumerate(line, 1)
    ]


def _box(points: Iterable[tuple[float, float]]) -> BoundingBox:
    xs, ys = zip(*points, strict=True)
    return BoundingBox(x=min(xs), y=min(ys), width=max(xs) - min(xs), height=max(ys) - min(ys))


def _angle(top_left: tuple[float, float], top_right: tuple[float, float], origin: str) -> float:
    dx, dy = top_right[0] - top_left[0], top_right[1] - top_left[1]
    # Counter-clockwise positive: with y pointing down (top-left origin) that is -dy.
    return math.degrees(math.atan2(-dy if origin == "top-left" else dy, dx)) if dx or dy else 0.0


def _geometry(
    text: str, corners: Sequence[tuple[float, float]], doc: ReceiptDocument, confidence: float
) -> dict[str, Any]:
    return {
        "text": text,
        "bounding_box": _box(corners),
        "top_left": Point(*corners[0]),
        "top_right": Point(*corners[1]),
        "bottom_right": Point(*corners[2]),
        "bottom_left": Point(*corners[3]),
        "angle_degrees": _angle(corners[0], corners[1], doc.origin),
        "confidence": confidence,
        "origin": doc.origin,
        "normalized": doc.normalized,
    }


def _pixel_size(doc: ReceiptDocument) -> tuple[int, int]:
    """The document's size rounded up to pixels (1 x 1 for a normalized document); a size that
    is not a positive finite number is an error, never silently turned into 1."""
    if doc.normalized:
        return 1, 1
    sizes = []
    for name in ("width", "height"):
        value = getattr(doc, name)
        if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            raise DatasetError(f"receipt {doc.key!r}: {name} {value!r} must be a positive finite "
                               "number of pixels")
        sizes.append(math.ceil(value))
    return sizes[0], sizes[1]


def records_from_document(
    doc: ReceiptDocument,
    *,
    image_id: str | None = None,
    receipt_id: int | None = None,
    source: str,
    validation_status: str = "VALID",
    label_proposed_by: str,
    raw_s3_bucket: str = "",
    raw_s3_key: str = "",
    pixel_size: tuple[int, int] | None = None,
    timestamp: str | None = None,
) -> ReceiptRecords:
    """Records for one document (entity validation errors propagate; nothing is written).

    ``image_id`` and ``receipt_id`` default to :func:`receipt_ids` of ``doc.key`` (receipt id 1
    when only ``image_id`` is given). ``pixel_size`` is the
    receipt's size in pixels; by default the document's width and height rounded up (a
    normalized document without it is recorded as 1 × 1; a size <= 0 or not finite is a
    DatasetError). ``timestamp`` (ISO 8601) defaults to
    now.
    """
    if image_id is None:
        image_id, key_receipt_id = receipt_ids(doc.key)
        receipt_id = receipt_id or key_receipt_id
    receipt_id = receipt_id or 1
    now = timestamp or utc_now()
    width, height = pixel_size or _pixel_size(doc)
    bucket = raw_s3_bucket or NOT_UPLOADED
    key = raw_s3_key or doc.key
    image = Image(image_id=image_id, width=width, height=height, raw_s3_bucket=bucket,
                  raw_s3_key=key, timestamp_added=now, source=source)
    receipt = Receipt(image_id=image_id, receipt_id=receipt_id, width=width, height=height,
                      raw_s3_bucket=bucket, raw_s3_key=key, timestamp_added=now)
    ids = {"image_id": image_id, "receipt_id": receipt_id}
    numbered = _numbered(doc)
    words = [
        ReceiptWord(**ids, line_id=w.line_id, word_id=w.word_id,  # type: ignore[arg-type]
                    **_geometry(w.text, w.corners, doc, w.confidence))
        for w in numbered
    ]
    by_line: dict[int, list[DocWord]] = {}
    for w in numbered:
        by_line.setdefault(int(w.line_id), []).append(w)  # type: ignore[arg-type]
    lines = []
    for line_id in sorted(by_line):
        members = sorted(by_line[line_id], key=lambda w: int(w.word_id))  # type: ignore[arg-type]
        first, last = members[0], members[-1]
        corners = (first.corners[0], last.corners[1], last.corners[2], first.corners[3])
        geometry = _geometry(" ".join(w.text for w in members), corners, doc,
                             min(w.confidence for w in members))
        geometry["bounding_box"] = _box(c for w in members for c in w.corners)
        lines.append(ReceiptLine(**ids, line_id=line_id, **geometry))
    labels = [
        ReceiptWordLabel(**ids, line_id=w.line_id, word_id=w.word_id,  # type: ignore[arg-type]
                         label=w.label, validation_status=validation_status,
                         label_proposed_by=label_proposed_by,
                         reasoning=f"imported from {source}", timestamp_added=now)
        for w in numbered
        if w.label
    ]
    return ReceiptRecords(image, receipt, lines, words, labels)


@dataclass(frozen=True)
class LabelResolution:
    """One label per word, chosen among the labels of the wanted statuses."""

    by_word: dict[tuple[int, int], str]
    """(line_id, word_id) → label."""
    conflicts: int
    """Words that had more than one distinct label of the wanted statuses."""


def _rank(label: ReceiptWordLabel) -> tuple[str, float]:
    return (str(label.timestamp_added), float(label.confidence or 0.0))


def resolve_word_labels(
    labels: Iterable[ReceiptWordLabel], *, statuses: Sequence[str] = ("VALID",)
) -> LabelResolution:
    """Newest label wins per word, then higher confidence, then the alphabetically first name."""
    wanted = {str(s) for s in statuses}
    candidates: dict[tuple[int, int], list[ReceiptWordLabel]] = {}
    for label in labels:
        if str(label.validation_status) in wanted:
            candidates.setdefault((label.line_id, label.word_id), []).append(label)
    by_word, conflicts = {}, 0
    for word, options in candidates.items():
        if len({o.label for o in options}) > 1:
            conflicts += 1
        top = max(_rank(o) for o in options)
        by_word[word] = min(o.label for o in options if _rank(o) == top)
    return LabelResolution(by_word, conflicts)


def document_from_details(
    details: Any,
    *,
    statuses: Sequence[str] = ("VALID",),
    resolved: LabelResolution | None = None,
) -> ReceiptDocument:
    """A stored receipt (``ReceiptStore.get_receipt_details``) as a document keyed
    :func:`store_key`.

    ``resolved`` is ``resolve_word_labels(details.labels, statuses=statuses)`` when the caller
    already has it (e.g. for its conflict count); it is computed otherwise.
    """
    receipt = details.receipt
    words = sorted(details.words, key=lambda w: (w.line_id, w.word_id))
    frames = {(w.origin, w.normalized) for w in words}
    if len(frames) > 1:
        raise DatasetError(
            f"receipt {receipt.receipt_id} of image {receipt.image_id} mixes coordinate frames "
            f"{sorted(frames)}; rewrite its words in one frame"
        )
    origin, normalized = frames.pop() if frames else ("top-left", False)
    if resolved is None:
        resolved = resolve_word_labels(details.labels, statuses=statuses)
    doc_words = [
        DocWord(
            text=w.text,
            corners=tuple((p.x, p.y) for p in (w.top_left, w.top_right, w.bottom_right,
                                               w.bottom_left)),  # type: ignore[arg-type]
            line_id=w.line_id,
            word_id=w.word_id,
            label=resolved.by_word.get((w.line_id, w.word_id)),
            confidence=w.confidence,
        )
        for w in words
    ]
    return ReceiptDocument(
        key=store_key(receipt.image_id, int(receipt.receipt_id)),
        width=1.0 if normalized else float(receipt.width),
        height=1.0 if normalized else float(receipt.height),
        words=doc_words,
        origin=origin,
        normalized=normalized,
    )
