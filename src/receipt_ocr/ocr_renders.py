"""Training receipts that read like the worker's OCR (issue 18, "train on what the worker reads").

For each labelled receipt with key values (SROIE ``fields``): re-print it from its own boxes and
transcript with scan/photo degradation (``receipt_layoutlm.synthetic.rerender``), read it with
the worker's OCR engine (through :class:`~receipt_ocr.ocr_cache.CachingEngine`, so a second pass
costs no OCR), turn the OCR into the worker's document (``ocr_document.document_from_ocr``) and
label its words from the key values with the SROIE importer's own matching
(``importers.sroie.label_words``: fuzzy text spans for company and address, parsed dates, the
total on its keyword row). The result is a dataset receipt like the importer's, whose words are
what Tesseract read — debris, split amounts, misread letters and all — keyed
``<key>#ocr<seed>`` so it never collides with its transcript.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from receipt_layoutlm.document import ReceiptDocument, render_key
from receipt_layoutlm.importers.sroie import CORE_LABELS, BoxLine, label_words
from receipt_layoutlm.synthetic.rerender import Degradation, rerender
from receipt_ocr.engines import OcrEngine, OcrResult
from receipt_ocr.ocr_document import document_from_ocr


@dataclass
class RenderStats:
    """What a pass cost and how much of the truth survived the OCR."""

    receipts: int = 0
    skipped: int = 0
    """Receipts without key values or without any OCR word."""
    render_s: float = 0.0
    ocr_s: float = 0.0
    """OCR seconds (cache hits cost reading a JSON file)."""
    label_s: float = 0.0
    keys: dict[str, list[int]] = field(default_factory=dict)
    """Per key: [fully matched, present] over the receipts."""

    def per_receipt(self) -> dict[str, float]:
        n = max(1, self.receipts)
        return {"render_s": round(self.render_s / n, 3), "ocr_s": round(self.ocr_s / n, 3),
                "label_s": round(self.label_s / n, 3)}


def _box_lines(ocr: OcrResult) -> list[BoxLine]:
    """The OCR lines as the importer's box lines (1-based, the words' ``line_id``)."""
    out = []
    for number, line in enumerate(ocr.lines, 1):
        left, top, right, bottom = line.box
        corners = ((left, top), (right, top), (right, bottom), (left, bottom))
        out.append(BoxLine(number, corners, line.text))
    return out


def ocr_render(doc: ReceiptDocument, engine: OcrEngine, fonts: Sequence[Path], *, seed: int = 0,
               degradation: Degradation | None = None, stats: RenderStats | None = None
               ) -> ReceiptDocument | None:
    """``doc`` re-printed, degraded, OCR'd and labelled from its ``fields``; None when it has
    no key values or the OCR read nothing."""
    stats = stats if stats is not None else RenderStats()
    if not doc.fields:
        stats.skipped += 1
        return None
    started = time.perf_counter()
    image = rerender(doc, fonts, seed=seed, degradation=degradation)
    rendered = time.perf_counter()
    ocr = engine.recognize(image)
    read = time.perf_counter()
    key = render_key(doc.key, seed)
    words = document_from_ocr(ocr, key=key).words
    if not words:
        stats.skipped += 1
        return None
    fields = dict(doc.fields)
    labelled, complete = label_words(list(words), _box_lines(ocr), fields, CORE_LABELS)
    for name, ok in complete.items():
        counts = stats.keys.setdefault(name, [0, 0])
        counts[0] += ok
        counts[1] += 1
    stats.receipts += 1
    stats.render_s += rendered - started
    stats.ocr_s += read - rendered
    stats.label_s += time.perf_counter() - read
    return replace(doc, key=key, width=float(ocr.width), height=float(ocr.height),
                   words=labelled, origin="top-left", normalized=False, image_path=None)


def ocr_renders(docs: Iterable[ReceiptDocument], engine: OcrEngine, fonts: Sequence[Path], *,
                seeds: Sequence[int] = (0,), degradation: Degradation | None = None,
                stats: RenderStats | None = None) -> Iterator[ReceiptDocument]:
    """:func:`ocr_render` of every receipt for every seed (one degraded copy per seed)."""
    for doc in docs:
        for seed in seeds:
            out = ocr_render(doc, engine, fonts, seed=seed, degradation=degradation, stats=stats)
            if out is not None:
                yield out
