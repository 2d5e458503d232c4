"""A deterministic engine for queue-flow tests (``--stub-ocr``): the same short receipt for
every image, laid out within the image's size, without reading any pixel.

``$RECEIPT_OCR_STUB_DELAY`` (seconds) makes each call take that long, to stand in for a real
engine's time in queue tests (a worker killed mid-job) and benchmarks.
"""

from __future__ import annotations

import os
import time

from PIL import Image

from receipt_ocr.engines._base import OcrEngine, OcrLine, OcrResult, OcrWord

STUB_LINES: tuple[str, ...] = (
    "STUB MART SDN BHD",
    "12 JALAN CONTOH 50000 KUALA LUMPUR",
    "DATE 25/12/2018 TIME 18:42",
    "MILO 2 7.90",
    "ROTI 1 2.50",
    "TOTAL RM 10.40",
    "THANK YOU",
)
"""The text every image 'contains'."""


class StubEngine(OcrEngine):
    name = "stub"

    def __init__(
        self, lines: tuple[str, ...] = STUB_LINES, delay_seconds: float | None = None
    ) -> None:
        self.lines = lines
        if delay_seconds is None:
            delay_seconds = float(os.environ.get("RECEIPT_OCR_STUB_DELAY") or 0)
        self.delay_seconds = delay_seconds

    def recognize(self, image: Image.Image) -> OcrResult:
        if self.delay_seconds > 0:
            time.sleep(self.delay_seconds)
        width, height = image.size
        row = height / (len(self.lines) + 2)
        char = width / max(len(line) + 4 for line in self.lines)
        lines = []
        for n, text in enumerate(self.lines, 1):
            top, x = row * n, 2 * char
            words = []
            for position, word in enumerate(text.split(), 1):
                right = x + char * len(word)
                confidence = 0.9 + 0.01 * (position % 10)
                words.append(OcrWord(word, (x, top, right, top + 0.8 * row), confidence))
                x = right + char
            lines.append(OcrLine(tuple(words)))
        return OcrResult(width=width, height=height, lines=tuple(lines), engine=self.name)
