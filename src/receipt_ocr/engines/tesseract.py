"""Tesseract 5, one thread per process, through tesserocr (the C API) or pytesseract.

Tesseract's OpenMP threads make one image take ~5x longer on a busy 2-core machine (2.6 s vs
0.53 s measured on the SROIE samples), so the engine sets ``OMP_THREAD_LIMIT`` (default 1) and
throughput comes from running several worker processes instead. How Tesseract is called is
``TesseractConfig.binding`` (``_tesseract_bindings``): tesserocr keeps the language models
loaded between images, which pytesseract's program-per-image cannot.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Literal

from PIL import Image

from receipt_ocr.engines._base import OcrEngine, OcrLine, OcrResult, OcrWord, clamp_confidence
from receipt_ocr.engines._tesseract_bindings import Call, open_binding
from receipt_ocr.errors import EngineUnavailableError
from receipt_ocr.preprocess import Preprocessing, prepare, unrotate_box

logger = logging.getLogger(__name__)

DEFAULT_PREPROCESSING = Preprocessing(scale=1.5, deskew=False)
"""Measured best on the SROIE sample photos (benchmarks/ocr_bench.py, docs/ocr.md)."""
DEFAULT_LANGUAGE = "eng+msa"
"""English plus Malay: the Malay model reads the Malaysian receipts' addresses and names
(JALAN, TAMAN, SDN BHD...) far better (token recall 0.776 → 0.804 on the SROIE photos). Falls
back to the installed subset with a warning (Debian: tesseract-ocr-msa)."""


@dataclass(frozen=True)
class TesseractConfig:
    """Tesseract options."""

    psm: int = 6
    """Page segmentation mode: 6 = one uniform block of text (best measured on receipts)."""
    language: str = DEFAULT_LANGUAGE
    """Traineddata language(s) joined by ``+``; missing ones are dropped with a warning."""
    thresholding: int = 0
    """Tesseract's ``thresholding_method``: 0 Otsu, 1 Leptonica adaptive Otsu, 2 Sauvola."""
    dpi: int | None = None
    """Resolution to tell Tesseract (photos carry none; it then guesses from the text size)."""
    tessdata_dir: str | None = None
    """Directory of ``<language>.traineddata`` files (None: Tesseract's own)."""
    threads: int = 1
    """``OMP_THREAD_LIMIT`` for the tesseract process."""
    preprocessing: Preprocessing = field(default_factory=lambda: DEFAULT_PREPROCESSING)
    """Scaling and deskew before recognition."""
    timeout_seconds: float = 120.0
    """Give up on one image after this long (a pathological image must not wedge a worker)."""
    invert_retry: bool = False
    """Tesseract's ``tessedit_do_invert``: re-read every low-confidence line as white-on-black
    text. Off: in paired runs it cost 1–5 % of the OCR time and read no more tokens on the
    SROIE photos (0.804 on, 0.805 off; docs/ocr.md)."""
    binding: Literal["auto", "tesserocr", "pytesseract"] = "auto"
    """How Tesseract is called: ``tesserocr`` (C API; models stay loaded between images),
    ``pytesseract`` (starts the ``tesseract`` program per image), ``auto``: tesserocr when it is
    installed, else pytesseract."""


class TesseractEngine(OcrEngine):
    name = "tesseract"

    def __init__(self, config: TesseractConfig | None = None, **options: object) -> None:
        self.config = config or TesseractConfig(**options)  # type: ignore[arg-type]
        # Before the binding loads libtesseract: OpenMP reads the limit when it starts.
        os.environ["OMP_THREAD_LIMIT"] = str(self.config.threads)
        self._binding = open_binding(self.config.binding)
        self.language = self._installed_languages(self.config.language)
        c = self.config
        self._call = Call(
            language=self.language, psm=c.psm, thresholding=c.thresholding, dpi=c.dpi,
            tessdata_dir=c.tessdata_dir, timeout_seconds=c.timeout_seconds,
            invert_retry=c.invert_retry,
        )

    def _installed_languages(self, wanted: str) -> str:
        installed = self._binding.languages(self.config.tessdata_dir)
        chosen = [lang for lang in wanted.split("+") if lang in installed]
        if not chosen:
            raise EngineUnavailableError(
                f"Tesseract has none of the languages {wanted!r} installed (it has "
                f"{', '.join(sorted(installed)) or 'none'}); install tesseract-ocr-eng"
            )
        missing = [lang for lang in wanted.split("+") if lang not in installed]
        if missing:
            logger.warning(
                "Tesseract language data %s not installed; reading with %s only (lower "
                "recall; Debian: apt-get install %s)", "+".join(missing), "+".join(chosen),
                " ".join(f"tesseract-ocr-{lang}" for lang in missing),
            )
        return "+".join(chosen)

    def describe(self) -> str:
        c = self.config
        p = c.preprocessing
        return (
            f"tesseract psm={c.psm} lang={self.language} thresholding={c.thresholding} "
            f"scale={p.scale} deskew={p.deskew} invert_retry={c.invert_retry} "
            f"binding={self._binding.name}"
        )

    def version(self) -> str:
        """The Tesseract this engine calls (the library tesserocr bundles, or the program)."""
        return self._binding.version()

    def recognize(self, image: Image.Image) -> OcrResult:
        prepared, scale, angle = prepare(image, self.config.preprocessing)
        data = self._binding.data(prepared, self._call)
        lines: dict[tuple[int, int, int, int], list[OcrWord]] = {}
        for i, text in enumerate(data["text"]):
            text = (text or "").strip()
            conf = float(data["conf"][i])
            if not text or conf < 0:
                continue
            left, top = data["left"][i] / scale, data["top"][i] / scale
            right = left + data["width"][i] / scale
            bottom = top + data["height"][i] / scale
            box = unrotate_box((left, top, right, bottom), angle, image.size)
            box = _clip(box, image.size)
            key = tuple(data[k][i] for k in ("page_num", "block_num", "par_num", "line_num"))
            lines.setdefault(key, []).append(OcrWord(text, box, clamp_confidence(conf / 100)))
        ordered = tuple(
            OcrLine(tuple(sorted(words, key=lambda w: w.box[0])))
            for _, words in sorted(lines.items())
        )
        return OcrResult(width=image.width, height=image.height, lines=ordered, engine=self.name)


def _clip(box: tuple[float, float, float, float], size: tuple[int, int]) -> tuple[float, ...]:
    width, height = size
    left, top, right, bottom = box
    left, right = max(0.0, min(left, width)), max(0.0, min(right, width))
    top, bottom = max(0.0, min(top, height)), max(0.0, min(bottom, height))
    return (left, top, max(left, right), max(top, bottom))


def tesseract_version() -> str:
    """The default engine's Tesseract version string (for benchmark output)."""
    return TesseractEngine().version()


__all__ = ["DEFAULT_PREPROCESSING", "TesseractConfig", "TesseractEngine", "tesseract_version"]
