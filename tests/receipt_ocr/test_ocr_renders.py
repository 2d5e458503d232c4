"""OCR-realistic training receipts: re-print a labelled receipt at its boxes, degrade it, read it
with real Tesseract, label the OCR words from the key values with the importer's matching."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.synthetic.fonts import find_fonts
from receipt_layoutlm.synthetic.rerender import Degradation, rerender
from receipt_ocr.engines import get_engine
from receipt_ocr.ocr_cache import CachingEngine
from receipt_ocr.ocr_renders import RenderStats, ocr_renders

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None,
                                reason="tesseract is not installed")
GENTLE = Degradation(max_rotation=0.3, max_blur=0.3, max_noise=4.0, min_contrast=0.9,
                     min_scale=0.95, jpeg_quality=(85, 95))


def _receipt() -> ReceiptDocument:
    lines = [("BOOK TA SDN BHD", 40), ("DATE 25/12/2018", 110), ("TOTAL 9.00", 180)]
    words = []
    for line_id, (text, top) in enumerate(lines, 1):
        x = 30.0
        for word_id, token in enumerate(text.split(), 1):
            width = 26.0 * len(token)
            words.append(DocWord(text=token, corners=((x, top), (x + width, top),
                                                      (x + width, top + 40), (x, top + 40)),
                                 line_id=line_id, word_id=word_id))
            x += width + 24
    fields = {"company": "BOOK TA SDN BHD", "date": "25/12/2018", "total": "9.00"}
    return ReceiptDocument(key="sroie:T1", width=560.0, height=260.0, words=words,
                           fields=fields)


def test_rerender_is_deterministic_and_keeps_the_page_size():
    fonts = find_fonts()
    first = rerender(_receipt(), fonts, seed=3)
    assert first.size == (560, 260)
    assert np.array_equal(np.asarray(first), np.asarray(rerender(_receipt(), fonts, seed=3)))
    assert not np.array_equal(np.asarray(first), np.asarray(rerender(_receipt(), fonts, seed=4)))
    # Ink where the words' boxes are, paper elsewhere.
    pixels = np.asarray(first, dtype=np.float32)
    assert pixels[40:80, 30:200].mean() < pixels[225:255, 300:550].mean() - 20


def test_ocr_render_labels_what_tesseract_read(tmp_path):
    engine = CachingEngine(get_engine("tesseract", language="eng"), tmp_path / "cache")
    stats = RenderStats()
    docs = list(ocr_renders([_receipt()], engine, find_fonts(), seeds=(0,), degradation=GENTLE,
                            stats=stats))
    assert len(docs) == 1
    doc = docs[0]
    assert doc.key == "sroie:T1#ocr0" and doc.fields["total"] == "9.00"
    labelled = {w.text: w.label for w in doc.words if w.label}
    assert labelled.get("25/12/2018") == "DATE"
    assert labelled.get("9.00") == "GRAND_TOTAL"
    assert stats.keys["date"] == [1, 1] and stats.receipts == 1
    # A second pass reads the OCR from the cache.
    list(ocr_renders([_receipt()], engine, find_fonts(), degradation=GENTLE))
    assert engine.hits == 1


def test_receipts_without_key_values_are_skipped(tmp_path):
    engine = CachingEngine(get_engine("tesseract", language="eng"), tmp_path)
    stats = RenderStats()
    bare = ReceiptDocument(key="x:1", width=100.0, height=100.0, words=[])
    assert list(ocr_renders([bare], engine, find_fonts(), stats=stats)) == []
    assert stats.skipped == 1 and engine.misses == 0
