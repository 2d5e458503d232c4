"""Reading an uploaded image safely: one readable :class:`ImageInputError` for anything unusable.

Handles what phones and scanners send: EXIF orientation (applied, so boxes match what a person
sees), grayscale, 1-bit, palette, RGBA/LA (composited on white: transparent areas would otherwise
turn black and hide dark print), CMYK, and 16-bit or float images (stretched to 8 bits by their
own range). A pixel limit, checked from the header before anything is decoded, refuses
decompression bombs.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from receipt_ocr.errors import ImageInputError

DEFAULT_MAX_PIXELS = 60_000_000
"""Largest image accepted (60 Mpx: above any phone camera, far below a decompression bomb)."""


def load_image(
    data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, name: str = "image"
) -> Image.Image:
    """The decoded, upright image as ``RGB`` or ``L``; :class:`ImageInputError` when unusable."""
    if not data:
        raise ImageInputError(f"{name} is empty (0 bytes); upload the image file again")
    try:
        with warnings.catch_warnings():
            # Our own limit below gives the clearer message; Pillow's hard limit still applies.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageInputError(
            f"{name} is not an image Pillow can read ({len(data)} bytes; its contents are not "
            "shown); send a JPEG, PNG, TIFF, WebP or similar photo"
        ) from None
    except Image.DecompressionBombError as exc:
        raise ImageInputError(f"{name} is too large to decode safely: {exc}") from None
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageInputError(f"{name} has no pixels ({width}x{height})")
    if width * height > max_pixels:
        raise ImageInputError(
            f"{name} is {width}x{height} = {width * height:,} pixels, over the limit of "
            f"{max_pixels:,} (a decompression bomb or an oversized scan); resize it first"
        )
    try:
        image.load()
        upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageInputError(
            f"{name} is truncated or corrupt ({image.format or 'unknown format'}, "
            f"{width}x{height}): {exc}; upload the complete file again"
        ) from None
    return to_ocr_mode(upright if upright is not None else image)


def to_ocr_mode(image: Image.Image) -> Image.Image:
    """``image`` as 8-bit ``RGB`` or ``L`` (see the module docstring for each mode)."""
    mode = image.mode
    if mode in ("RGB", "L"):
        return image
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode == "1":
        return image.convert("L")
    if mode.startswith(("I", "F")):
        return _stretch_to_gray(image)
    return image.convert("RGB")  # CMYK, YCbCr, LAB, HSV


def _stretch_to_gray(image: Image.Image) -> Image.Image:
    values = np.asarray(image, dtype=np.float64)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    if high <= low:
        return Image.new("L", image.size, 255 if high > 0 else 0)
    if low >= 0 and high <= 255:
        low, high = 0.0, 255.0  # already 8-bit values in a wide container: keep them
    scaled = (np.nan_to_num(values, nan=low) - low) * (255.0 / (high - low))
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8), mode="L")
