"""Print a :class:`ReceiptContent` onto an image and record each word's exact corners.

Each word is drawn on its own, so its box is Pillow's ink box of exactly that text. The image is
then rotated by a small angle (``expand=True``) and the corners go through the same rotation, so
the boxes stay exact on the rotated photo. Noise and blur change pixels, never geometry.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from receipt_layoutlm.document import DocWord, Point
from receipt_layoutlm.synthetic.content import ReceiptContent, Word

Corners = tuple[Point, Point, Point, Point]


@dataclass(frozen=True)
class RenderStyle:
    """How one receipt looks; drawn per receipt by :func:`draw_style`."""

    font: Path
    """TrueType font file."""
    font_size: int
    """Font size in pixels."""
    width: int
    """Paper width in pixels before rotation."""
    margin: int
    """Left/right/top margin in pixels."""
    angle: float
    """Rotation in degrees, counter-clockwise."""
    noise: float
    """Standard deviation of the Gaussian pixel noise (0–255 scale)."""
    blur: float
    """Gaussian blur radius in pixels (0 = none)."""


def draw_style(rng: random.Random, fonts: list[Path], *, min_width: int, max_width: int,
               max_rotation: float, max_noise: float) -> RenderStyle:
    return RenderStyle(
        font=rng.choice(fonts),
        font_size=rng.randint(15, 22),
        width=rng.randint(min_width, max_width),
        margin=rng.randint(14, 32),
        angle=rng.uniform(-max_rotation, max_rotation),
        noise=rng.uniform(0.0, max_noise),
        blur=rng.choice((0.0, 0.0, 0.4, 0.7)),
    )


def rotate_points(points: list[Point], size: tuple[int, int], new_size: tuple[int, int],
                  angle: float) -> list[Point]:
    """Where points of an image of ``size`` land after ``Image.rotate(angle, expand=True)``
    made it ``new_size``: Pillow rotates about the old centre, counter-clockwise on screen
    (y points down), and puts the old centre at the centre of the enlarged canvas."""
    theta = math.radians(angle)
    cos, sin = math.cos(theta), math.sin(theta)
    cx, cy = size[0] / 2, size[1] / 2
    ncx, ncy = new_size[0] / 2, new_size[1] / 2
    return [(ncx + (x - cx) * cos + (y - cy) * sin, ncy - (x - cx) * sin + (y - cy) * cos)
            for x, y in points]


def _place_row(left: list[Word], right: list[Word], centered: bool, font: ImageFont.FreeTypeFont,
               style: RenderStyle) -> list[list[tuple[float, Word]]]:
    """x positions of the row's words; a right part that would touch the left part wraps to a
    printed row of its own (as narrow receipt printers do)."""
    space = font.getlength(" ")

    def widths(words: list[Word]) -> float:
        return sum(font.getlength(t) for t, _ in words) + space * max(0, len(words) - 1)

    def run(words: list[Word], x: float) -> list[tuple[float, Word]]:
        out = []
        for word in words:
            out.append((x, word))
            x += font.getlength(word[0]) + space
        return out

    start = (style.width - widths(left)) / 2 if centered else style.margin
    placed = run(left, max(style.margin, start))
    if not right:
        return [placed]
    right_x = style.width - style.margin - widths(right)
    left_end = max(style.margin, start) + widths(left)
    if left and right_x < left_end + 2 * space:
        return [placed, run(right, right_x)]
    return [placed + run(right, right_x)]


def render_receipt(content: ReceiptContent, style: RenderStyle, seed: int
                   ) -> tuple[Image.Image, list[DocWord]]:
    """The receipt photo (RGB) and its words with exact corners, line and word ids, labels."""
    font = ImageFont.truetype(str(style.font), style.font_size)
    line_height = round(style.font_size * 1.45)
    printed = [line for row in content.rows
               for line in _place_row(row.left, row.right, row.centered, font, style)]
    height = 2 * style.margin + line_height * len(printed)
    rng = random.Random(seed)
    paper = tuple(rng.randint(236, 255) for _ in range(3))
    ink = rng.randint(0, 70)
    image = Image.new("RGB", (style.width, height), paper)
    draw = ImageDraw.Draw(image)
    boxes: list[tuple[str, str | None, int, int, tuple[float, float, float, float]]] = []
    for line_id, line in enumerate(printed, start=1):
        y = style.margin + (line_id - 1) * line_height
        for word_id, (x, (text, label)) in enumerate(line, start=1):
            draw.text((x, y), text, font=font, fill=(ink, ink, ink))
            boxes.append((text, label, line_id, word_id,
                          draw.textbbox((x, y), text, font=font)))
    if style.blur:
        image = image.filter(ImageFilter.GaussianBlur(style.blur))
    size = image.size
    table = tuple(rng.randint(60, 140) for _ in range(3))
    image = image.rotate(style.angle, resample=Image.Resampling.BICUBIC, expand=True,
                         fillcolor=table)
    if style.noise:
        pixels = np.asarray(image, dtype=np.float32)
        pixels += np.random.default_rng(seed).normal(0.0, style.noise, pixels.shape)
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    words = []
    for text, label, line_id, word_id, (x0, y0, x1, y1) in boxes:
        corners = rotate_points([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], size, image.size,
                                style.angle)
        words.append(DocWord(text=text, corners=tuple(corners), line_id=line_id,  # type: ignore[arg-type]
                             word_id=word_id, label=label))
    return image, words
