"""Image preparation before OCR: grayscale, scaling, deskew (binarisation is Tesseract's own:
its Otsu read the SROIE photos better than Sauvola or adaptive Otsu, see docs/ocr.md).

The choices and their defaults were measured on the SROIE sample photos with
``benchmarks/ocr_bench.py`` (exact-token recall against the transcripts); see docs/ocr.md.
Boxes are always reported in the *input* image's pixels: the scale is undone by the engine and
a deskew angle is undone by rotating boxes back (:func:`unrotate_box`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Preprocessing:
    """How an image is prepared for the OCR engine."""

    scale: float = 1.0
    """Resize factor (Lanczos) before recognition. 1.5 read the SROIE photos best (native 0.762,
    1.5x 0.776, 2x 0.756 token recall with Tesseract ``eng``; docs/ocr.md)."""
    deskew: bool = False
    """Estimate the text skew (projection profiles, ±``max_skew_degrees``) and rotate it away.
    Off by default: scanned and photographed receipts are rarely skewed enough to gain
    (with the default engine settings 0.801 vs 0.804 on the SROIE photos) and it costs a search
    per image."""
    max_skew_degrees: float = 5.0
    """Largest skew the deskew search considers."""

    def __post_init__(self) -> None:
        if not 0.25 <= self.scale <= 4.0:
            raise ValueError(f"scale must be within 0.25..4, got {self.scale}")


def to_gray(image: Image.Image) -> Image.Image:
    return image if image.mode == "L" else image.convert("L")


def estimate_skew(gray: Image.Image, max_degrees: float = 5.0, step: float = 0.25) -> float:
    """The rotation (degrees, counter-clockwise) that makes text rows horizontal.

    Projection-profile search on a small binarised copy: the angle whose row sums vary the
    most lines the text up with the rows.
    """
    small = gray.copy()
    small.thumbnail((600, 600))
    dark = np.asarray(small, dtype=np.float32) <= _otsu(np.asarray(small))
    if dark.sum() < 50:
        return 0.0
    ink = Image.fromarray((dark * 255).astype(np.uint8))
    best, best_score = 0.0, -1.0
    for angle in np.arange(-max_degrees, max_degrees + 1e-9, step):
        rows = np.asarray(ink.rotate(float(angle), resample=Image.Resampling.NEAREST)).sum(axis=1)
        score = float(np.var(rows.astype(np.float64)))
        if score > best_score + 1e-9:
            best, best_score = float(angle), score
    return best


def _otsu(values: np.ndarray) -> float:
    hist = np.bincount(values.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    weights = np.cumsum(hist)
    means = np.cumsum(hist * np.arange(256))
    between = (means[-1] * weights - means * total) ** 2 / np.maximum(
        weights * (total - weights), 1e-9
    )
    return float(np.argmax(between))


def prepare(image: Image.Image, config: Preprocessing) -> tuple[Image.Image, float, float]:
    """``(prepared image, scale, angle)``: deskewed by ``angle`` degrees about the centre (same
    canvas size), upscaled by ``scale``, then grayscale. Scaling the colour image before the
    grayscale conversion read 0.3 points more tokens than the other way round."""
    angle = estimate_skew(to_gray(image), config.max_skew_degrees) if config.deskew else 0.0
    if angle:
        white = 255 if image.mode == "L" else (255, 255, 255)
        image = image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=white)
    scale = config.scale
    if scale != 1.0:
        size = (round(image.width * scale), round(image.height * scale))
        image = image.resize(size, Image.Resampling.LANCZOS)
    return to_gray(image), scale, angle


def unrotate_box(
    box: tuple[float, float, float, float], angle: float, size: tuple[int, int]
) -> tuple[float, float, float, float]:
    """The axis-aligned box, in the unrotated image, around ``box`` of an image rotated by
    ``angle`` degrees (PIL's ``rotate``: counter-clockwise about the centre), clipped to it."""
    if not angle:
        return box
    width, height = size
    cx, cy = width / 2, height / 2
    # PIL rotates counter-clockwise on screen (y down); undo it with the opposite rotation.
    theta = math.radians(angle)
    cos, sin = math.cos(theta), math.sin(theta)
    left, top, right, bottom = box
    xs, ys = [], []
    for x, y in ((left, top), (right, top), (right, bottom), (left, bottom)):
        dx, dy = x - cx, y - cy
        xs.append(cx + dx * cos - dy * sin)
        ys.append(cy + dx * sin + dy * cos)
    return (
        max(0.0, min(xs)),
        max(0.0, min(ys)),
        min(float(width), max(xs)),
        min(float(height), max(ys)),
    )
