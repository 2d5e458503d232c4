"""The results JSON of one labelled image (``ocr_results/<image_id>/<job_id>.json``)."""

from __future__ import annotations

from typing import Any

from receipt_dynamo import utc_now
from receipt_ocr.labelling import LabelledImage

RESULTS_FORMAT = 1
"""Version of this JSON layout."""


def results_dict(
    labelled: LabelledImage,
    *,
    engine: str,
    runtime: str,
    image_id: str | None = None,
    job_id: str | None = None,
    receipt_id: int | None = None,
    source: dict[str, str | None] | None = None,
) -> dict[str, Any]:
    """JSON-ready results: every word (reading order) with its pixel box (top-left origin), OCR
    confidence, label, BIO tag and label confidence; the extracted fields; provenance."""
    predicted = labelled.prediction.to_dict()
    words = []
    for word, entry in zip(labelled.prediction.words, predicted["words"], strict=True):
        xs = [x for x, _ in word.corners]
        ys = [y for _, y in word.corners]
        words.append(
            {
                **entry,
                "box": {
                    "x": round(min(xs), 2),
                    "y": round(min(ys), 2),
                    "width": round(max(xs) - min(xs), 2),
                    "height": round(max(ys) - min(ys), 2),
                },
                "ocr_confidence": round(word.confidence, 4),
            }
        )
    return {
        "results_format": RESULTS_FORMAT,
        "image_id": image_id,
        "job_id": job_id,
        "receipt_id": receipt_id,
        "created_at": utc_now(),
        "image": {"width": labelled.image.width, "height": labelled.image.height, **(source or {})},
        "ocr": {"engine": engine, "lines": len(labelled.ocr.lines), "words": len(words)},
        "model": {"version": labelled.model_version, "runtime": runtime},
        "coordinates": {"origin": "top-left", "units": "pixels"},
        "words": words,
        "fields": predicted["fields"],
        "timings": {k: round(v, 4) for k, v in labelled.timings.items()},
    }
