"""Image bytes for the input-hygiene tests: every mode and every kind of broken file."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def encode(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def dark_block(mode: str = "RGB", size: tuple[int, int] = (200, 100)) -> Image.Image:
    """White image with a black block in its left quarter (where 'the text' is)."""
    image = Image.new("RGB", size, "white")
    image.paste((0, 0, 0), (10, 10, size[0] // 4, size[1] - 10))
    return image.convert(mode)


def sixteen_bit() -> bytes:
    """16-bit grayscale PNG using only the low 12 bits (a typical scanner range)."""
    values = np.full((100, 200), 4000, dtype=np.uint16)
    values[10:90, 10:50] = 100
    image = Image.fromarray(values)
    assert image.mode == "I;16"
    return encode(image)


def transparent_rgba() -> bytes:
    """Dark text on a fully transparent background (black where transparent, in RGB)."""
    image = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    image.paste((0, 0, 0, 255), (10, 10, 50, 90))
    return encode(image)


def palette_with_transparency() -> bytes:
    """Palette image whose background (white) index is transparent."""
    image = dark_block("RGB").convert("P")
    return encode(image, transparency=image.getpixel((image.width - 1, image.height - 1)))


def exif_rotated() -> bytes:
    """A 200x100 JPEG whose EXIF says 'rotate 90° clockwise to display' (orientation 6)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(dark_block("RGB"), "JPEG", exif=exif)


def truncated_jpeg() -> bytes:
    data = encode(Image.effect_noise((400, 400), 60).convert("RGB"), "JPEG", quality=90)
    return data[: len(data) // 2]


def decompression_bomb() -> bytes:
    """A ~10 KB PNG that declares 12000 x 12000 = 144 Mpx."""
    return encode(Image.new("1", (12000, 12000), 1), optimize=True)


def blank() -> bytes:
    return encode(Image.new("RGB", (600, 900), "white"), "JPEG")
