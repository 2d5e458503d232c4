"""Apple Vision through ``ocrmac`` (macOS only; imported when the engine is built).

Vision reports each text observation (a line) with a box normalised to the image and a
bottom-left origin; :func:`vision_line` converts it to top-left pixels and splits the line into
words, giving each word a share of the line's width proportional to its characters (Vision's
line-level API has no per-word boxes).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from PIL import Image

from receipt_ocr.engines._base import OcrEngine, OcrLine, OcrResult, OcrWord, clamp_confidence
from receipt_ocr.errors import EngineUnavailableError


def vision_line(
    text: str, confidence: float, bbox: Sequence[float], size: tuple[int, int]
) -> OcrLine | None:
    """One Vision observation ``(text, confidence, (x, y, w, h))`` — normalised, bottom-left
    origin — as a line of top-left pixel words, or None when it holds no text."""
    pieces = text.split()
    if not pieces:
        return None
    width, height = size
    x, y, w, h = (float(v) for v in bbox)
    left, right = x * width, (x + w) * width
    top, bottom = (1.0 - y - h) * height, (1.0 - y) * height
    top, bottom = max(0.0, top), min(float(height), bottom)
    left, right = max(0.0, left), min(float(width), right)
    # Character counts, spaces included, share out the line's width.
    total = sum(len(p) for p in pieces) + len(pieces) - 1
    per_char = (right - left) / max(total, 1)
    words, cursor = [], left
    for piece in pieces:
        end = min(right, cursor + per_char * len(piece))
        words.append(OcrWord(piece, (cursor, top, end, bottom), clamp_confidence(confidence)))
        cursor = end + per_char
    return OcrLine(tuple(words))


class VisionEngine(OcrEngine):
    name = "vision"

    def __init__(
        self, *, recognition_level: str = "accurate", languages: Sequence[str] = ()
    ) -> None:
        if sys.platform != "darwin":
            raise EngineUnavailableError(
                f"the vision engine needs Apple Vision (macOS); this is {sys.platform}: use "
                "--ocr-engine tesseract"
            )
        try:
            from ocrmac import ocrmac
        except ImportError:
            raise EngineUnavailableError(
                "the vision engine needs ocrmac: pip install ocrmac"
            ) from None
        self._ocrmac = ocrmac
        self.recognition_level = recognition_level
        self.languages = list(languages)

    def recognize(self, image: Image.Image) -> OcrResult:
        options = {"recognition_level": self.recognition_level}
        if self.languages:
            options["language_preference"] = self.languages
        observations = self._ocrmac.OCR(image, **options).recognize()
        lines = [vision_line(t, c, b, image.size) for t, c, b in observations]
        found = [line for line in lines if line is not None]
        # Vision returns observations top to bottom already; sort to be sure (top edge, left).
        found.sort(key=lambda line: (round(line.box[1]), line.box[0]))
        return OcrResult(
            width=image.width, height=image.height, lines=tuple(found), engine=self.name
        )
