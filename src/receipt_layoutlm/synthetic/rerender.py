"""Re-print a labelled receipt from its own boxes and transcript, as a degraded scan or photo.

The ``synth`` renderer invents receipts and records where it drew each word; this one goes the
other way: it takes a real receipt's transcript lines and draws each one into the box the
annotation gives it (the text fitted to the box's height and stretched to its width), then
degrades the page the way scanners and phone cameras do — a slight rotation, blur, uneven
contrast, pixel noise, low resolution and JPEG compression. Running the worker's OCR engine on
the result gives what the worker reads (debris, split amounts, misread characters), for training
receipts whose key values are known.

Deterministic: the same receipt, seed and fonts give the same pixels (the OCR cache relies on it).
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from receipt_layoutlm.document import ReceiptDocument


@dataclass(frozen=True)
class Degradation:
    """How far each degradation may go; every receipt draws its own amounts up to these."""

    max_rotation: float = 1.5
    """Largest rotation in degrees (either way): a page laid slightly askew."""
    max_blur: float = 1.0
    """Largest Gaussian blur radius in pixels (focus, motion, thermal print spread)."""
    max_noise: float = 14.0
    """Largest standard deviation of the pixel noise (0–255 scale)."""
    min_contrast: float = 0.55
    """Lowest contrast factor (faded thermal paper)."""
    min_scale: float = 0.6
    """Lowest down-sampling factor before scaling back (a low-resolution scan)."""
    jpeg_quality: tuple[int, int] = (25, 80)
    """Range of the JPEG quality the page is compressed at."""


def _line_boxes(doc: ReceiptDocument) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Each transcript line's text (words left to right) and its box (left, top, right, bottom)."""
    lines: dict[int, list] = {}
    for position, word in enumerate(doc.words):
        line = word.line_id if word.line_id is not None else -position - 1
        lines.setdefault(line, []).append(word)
    out = []
    for words in lines.values():
        xs = [x for w in words for x, _ in w.corners]
        ys = [y for w in words for _, y in w.corners]
        ordered = sorted(words, key=lambda w: min(x for x, _ in w.corners))
        text = " ".join(w.text for w in ordered if w.text.strip())
        if text:
            out.append((text, (min(xs), min(ys), max(xs), max(ys))))
    return out


def _draw_line(page: Image.Image, text: str, box: tuple[float, float, float, float],
               font_path: Path, ink: int) -> None:
    left, top, right, bottom = box
    width, height = round(right - left), round(bottom - top)
    if width < 4 or height < 4:
        return
    font = ImageFont.truetype(str(font_path), max(8, round(height * 0.9)))
    x0, y0, x1, y1 = font.getbbox(text)
    if x1 <= x0 or y1 <= y0:
        return
    glyphs = Image.new("L", (x1 - x0, y1 - y0), 0)
    ImageDraw.Draw(glyphs).text((-x0, -y0), text, font=font, fill=255)
    # Annotated boxes hold the line with a little air above and below its ink.
    ink_height = max(3, round(height * 0.78))
    mask = glyphs.resize((width, ink_height), Image.Resampling.LANCZOS)
    page.paste(ink, (round(left), round(top + (height - ink_height) / 2)), mask)


def _degrade(page: Image.Image, rng: random.Random, seed: int, d: Degradation) -> Image.Image:
    paper = page.getpixel((0, 0))
    page = page.rotate(rng.uniform(-d.max_rotation, d.max_rotation),
                       resample=Image.Resampling.BICUBIC, fillcolor=paper)
    page = ImageEnhance.Contrast(page).enhance(rng.uniform(d.min_contrast, 1.0))
    blur = rng.uniform(0.0, d.max_blur)
    if blur > 0.15:
        page = page.filter(ImageFilter.GaussianBlur(blur))
    scale = rng.uniform(d.min_scale, 1.0)
    if scale < 0.95:
        small = (max(1, round(page.width * scale)), max(1, round(page.height * scale)))
        page = page.resize(small, Image.Resampling.BILINEAR).resize(
            page.size, Image.Resampling.BILINEAR)
    noise = rng.uniform(0.0, d.max_noise)
    if noise > 0.5:
        pixels = np.asarray(page, dtype=np.float32)
        pixels += np.random.default_rng(seed).normal(0.0, noise, pixels.shape)
        page = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    page.save(buffer, "JPEG", quality=rng.randint(*d.jpeg_quality))
    buffer.seek(0)
    with Image.open(buffer) as compressed:
        return compressed.convert("L")


def rerender(doc: ReceiptDocument, fonts: Sequence[Path], *, seed: int = 0,
             degradation: Degradation | None = None) -> Image.Image:
    """``doc`` re-printed from its transcript lines at their boxes and degraded (grayscale, the
    receipt's own pixel size). Needs pixel coordinates (``doc.normalized`` false)."""
    if doc.normalized:
        raise ValueError(f"{doc.key}: re-rendering needs pixel coordinates, not normalised ones")
    if not fonts:
        raise ValueError("re-rendering needs at least one TrueType font (synthetic.fonts)")
    rng = random.Random(f"{seed}:{doc.key}")
    size = (max(8, round(doc.width)), max(8, round(doc.height)))
    page = Image.new("L", size, rng.randint(215, 255))
    font = fonts[rng.randrange(len(fonts))]
    ink = rng.randint(0, 80)
    for text, box in _line_boxes(doc):
        _draw_line(page, text, box, font, ink)
    return _degrade(page, rng, seed, degradation or Degradation())
