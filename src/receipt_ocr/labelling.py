"""One image → OCR → encoding → model → word labels and fields (no store, no queue).

The model runs through ``receipt_layoutlm.prediction.predict_document``, the path ``predict``
and ``evaluate`` use; the encoding is timed on its own by handing ``predict_document`` the
runtime's own encoding of the same document.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from receipt_layoutlm.document import ReceiptDocument
from receipt_layoutlm.prediction import ReceiptPrediction, predict_document
from receipt_ocr.engines import OcrEngine, OcrResult
from receipt_ocr.model import LoadedModel
from receipt_ocr.ocr_document import document_from_ocr

if TYPE_CHECKING:
    from PIL.Image import Image


@dataclass
class LabelledImage:
    """Everything the worker writes about one image."""

    image: Image
    """The upright image that was read."""
    ocr: OcrResult
    """What the engine read."""
    document: ReceiptDocument
    """The OCR words as the encoding spec's input."""
    prediction: ReceiptPrediction
    """Per-word labels (reading order) and fields; empty when the image holds no text."""
    model_version: str
    """Version of the model that labelled it."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per stage: ``ocr_s``, ``encode_s``, ``model_s``."""


def label_image(image: Image, engine: OcrEngine, model: LoadedModel, *, key: str) -> LabelledImage:
    """OCR ``image`` with ``engine`` and label its words with ``model``."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    ocr = engine.recognize(image)
    timings["ocr_s"] = time.perf_counter() - started
    doc = document_from_ocr(ocr, key=key)
    if not doc.words:
        timings["encode_s"] = timings["model_s"] = 0.0
        prediction = ReceiptPrediction(words=[], predictions=[], fields={})
    else:
        started = time.perf_counter()
        encoded = model.runtime.encode(doc)
        timings["encode_s"] = time.perf_counter() - started
        started = time.perf_counter()
        prediction = predict_document(model.runtime, doc, encoded=encoded)
        timings["model_s"] = time.perf_counter() - started
    return LabelledImage(image, ocr, doc, prediction, model.version, timings)
