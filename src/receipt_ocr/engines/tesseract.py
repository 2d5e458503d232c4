"""Tesseract 5 through ``pytesseract``, one thread per process.

Tesseract's OpenMP threads make one image take ~5x longer on a busy 2-core machine (2.6 s vs
0.53 s measured on the SROIE samples), so the engine sets ``OMP_THREAD_LIMIT`` (default 1) and
throughput comes from running several worker processes instead.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field

from PIL import Image

from receipt_ocr.engines._base import OcrEngine, OcrLine, OcrResult, OcrWord, clamp_confidence
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


class TesseractEngine(OcrEngine):
    name = "tesseract"

    def __init__(self, config: TesseractConfig | None = None, **options: object) -> None:
        self.config = config or TesseractConfig(**options)  # type: ignore[arg-type]
        try:
            import pytesseract
        except ImportError:
            raise EngineUnavailableError(
                "the tesseract engine needs pytesseract: pip install 'receipt-labeler[ocr]'"
            ) from None
        if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
            raise EngineUnavailableError(
                "the tesseract binary is not on PATH; install it (Debian: apt-get install "
                "tesseract-ocr, macOS: brew install tesseract) or choose --ocr-engine vision"
            )
        self._pytesseract = pytesseract
        os.environ["OMP_THREAD_LIMIT"] = str(self.config.threads)
        self.language = self._installed_languages(self.config.language)

    def _installed_languages(self, wanted: str) -> str:
        options = {"config": f'--tessdata-dir "{self.config.tessdata_dir}"'} if (
            self.config.tessdata_dir) else {}
        installed = set(self._pytesseract.get_languages(**options))
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
            f"scale={p.scale} deskew={p.deskew}"
        )

    def _config_string(self) -> str:
        c = self.config
        parts = [f"--psm {c.psm}", f"-c thresholding_method={c.thresholding}"]
        if c.dpi:
            parts.append(f"--dpi {c.dpi}")
        if c.tessdata_dir:
            parts.insert(0, f'--tessdata-dir "{c.tessdata_dir}"')
        return " ".join(parts)

    def recognize(self, image: Image.Image) -> OcrResult:
        prepared, scale, angle = prepare(image, self.config.preprocessing)
        c = self.config
        data = self._pytesseract.image_to_data(
            prepared,
            lang=self.language,
            config=self._config_string(),
            output_type=self._pytesseract.Output.DICT,
            timeout=c.timeout_seconds,
        )
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
    """The installed Tesseract's version string (for benchmark output)."""
    import pytesseract

    return str(pytesseract.get_tesseract_version())


__all__ = ["DEFAULT_PREPROCESSING", "TesseractConfig", "TesseractEngine", "tesseract_version"]


