"""Input hygiene (``receipt_ocr.images.load_image``), one table row per kind of input."""

from __future__ import annotations

import re
from collections.abc import Callable

import image_factory as f
import numpy as np
import pytest
from PIL import Image

from receipt_ocr.errors import ImageInputError
from receipt_ocr.images import load_image


def _dark_left(image: Image.Image) -> None:
    """The content survived: dark on the block (left), light elsewhere (right)."""
    gray = np.asarray(image.convert("L"), dtype=np.float64)
    h, w = gray.shape
    assert gray[h // 2, w // 8] < 60, "the dark block turned light"
    assert gray[h // 2, w - 10] > 200, "the light background turned dark"


GOOD: list[tuple[str, Callable[[], bytes], str, tuple[int, int]]] = [
    ("rgb_png", lambda: f.encode(f.dark_block("RGB")), "RGB", (200, 100)),
    ("grayscale", lambda: f.encode(f.dark_block("L")), "L", (200, 100)),
    ("one_bit", lambda: f.encode(f.dark_block("1")), "L", (200, 100)),
    ("cmyk_jpeg", lambda: f.encode(f.dark_block("CMYK"), "JPEG"), "RGB", (200, 100)),
    ("palette", lambda: f.encode(f.dark_block("P")), "RGB", (200, 100)),
    ("palette_transparent", f.palette_with_transparency, "RGB", (200, 100)),
    ("rgba_transparent_background", f.transparent_rgba, "RGB", (200, 100)),
    ("la", lambda: f.encode(f.dark_block("LA")), "RGB", (200, 100)),
    ("sixteen_bit", f.sixteen_bit, "L", (200, 100)),
]


@pytest.mark.parametrize(("name", "make", "mode", "size"), GOOD, ids=[g[0] for g in GOOD])
def test_image_modes_become_8_bit_with_content_kept(name, make, mode, size) -> None:
    image = load_image(make())
    assert image.mode == mode
    assert image.size == size
    _dark_left(image)


def test_exif_orientation_is_applied() -> None:
    image = load_image(f.exif_rotated())
    assert image.size == (100, 200)  # displayed upright: portrait
    gray = np.asarray(image.convert("L"), dtype=np.float64)
    # The block on the left of the stored image is at the top once rotated clockwise.
    assert gray[20, 50] < 80 and gray[190, 50] > 200


BAD: list[tuple[str, Callable[[], bytes], str]] = [
    ("zero_bytes", lambda: b"", r"receipt\.jpg is empty \(0 bytes\)"),
    ("not_an_image", lambda: b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n",
     r"receipt\.jpg is not an image Pillow can read \(\d+ bytes; its contents are not shown\)"),
    ("text_file", lambda: b"TOTAL 9.00\n", r"receipt\.jpg is not an image"),
    ("truncated_jpeg", f.truncated_jpeg, r"receipt\.jpg is truncated or corrupt \(JPEG, 400x400\)"),
    ("decompression_bomb", f.decompression_bomb,
     r"receipt\.jpg is 12000x12000 = 144,000,000 pixels, over the limit of 60,000,000"),
]


@pytest.mark.parametrize(("name", "make", "message"), BAD, ids=[b[0] for b in BAD])
def test_unusable_input_is_one_readable_error(name, make, message) -> None:
    with pytest.raises(ImageInputError) as caught:
        load_image(make(), name="receipt.jpg")
    text = str(caught.value)
    assert "\n" not in text
    assert re.search(message, text), text


def test_pixel_limit_is_configurable() -> None:
    data = f.encode(f.dark_block("RGB"))
    with pytest.raises(ImageInputError, match="over the limit of 10,000"):
        load_image(data, max_pixels=10_000)
    assert load_image(data, max_pixels=20_000).size == (200, 100)
