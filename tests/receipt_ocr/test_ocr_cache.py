"""The caching OCR engine: a repeat read comes from disk, a changed image or setting does not."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image, ImageDraw

from receipt_ocr.engines import get_engine
from receipt_ocr.ocr_cache import CachingEngine, ocr_result_from_dict, ocr_result_to_dict

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None,
                                reason="tesseract is not installed")


def _receipt(text: str) -> Image.Image:
    image = Image.new("RGB", (420, 90), "white")
    ImageDraw.Draw(image).text((12, 30), text, fill="black", font_size=28)
    return image


def test_a_repeat_read_comes_from_the_cache(tmp_path):
    engine = CachingEngine(get_engine("tesseract", language="eng"), tmp_path / "cache")
    first = engine.recognize(_receipt("TOTAL 12.50"))
    again = engine.recognize(_receipt("TOTAL 12.50"))
    assert (engine.hits, engine.misses) == (1, 1)
    assert again == first
    assert "12.50" in " ".join(w.text for w in first.words)
    assert engine.describe() == engine.engine.describe()
    engine.recognize(_receipt("TOTAL 99.99"))  # other pixels: a new entry
    assert engine.misses == 2
    assert len(list((tmp_path / "cache").glob("*.json"))) == 2
    assert not list((tmp_path / "cache").glob("*.tmp"))


def test_another_engine_setting_does_not_read_the_entry(tmp_path):
    image = _receipt("CASH 5.00")
    CachingEngine(get_engine("tesseract", language="eng"), tmp_path).recognize(image)
    other = CachingEngine(get_engine("tesseract", language="eng", psm=4), tmp_path)
    other.recognize(image)
    assert (other.hits, other.misses) == (0, 1)


def test_result_round_trips_through_json(tmp_path):
    result = get_engine("stub").recognize(_receipt("x"))
    assert ocr_result_from_dict(ocr_result_to_dict(result)) == result
