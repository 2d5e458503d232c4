"""OCR engines: the registry, the stub, Apple Vision's coordinate conversion, and real Tesseract
on the SROIE sample photos (token recall against their transcripts, boxes inside the image)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from PIL import Image

from receipt_ocr.engines import ENGINE_NAMES, OcrResult, get_engine
from receipt_ocr.engines.vision import vision_line
from receipt_ocr.errors import EngineUnavailableError, UnknownEngineError
from receipt_ocr.preprocess import estimate_skew, unrotate_box
from receipt_ocr.recall import sroie_transcript, token_recall


def test_registry_names_and_unknown_engine() -> None:
    assert set(ENGINE_NAMES) == {"tesseract", "vision", "stub"}
    with pytest.raises(UnknownEngineError, match=r"unknown OCR engine 'easyocr'.*stub"):
        get_engine("easyocr")


def test_stub_is_deterministic_and_inside_the_image() -> None:
    engine = get_engine("stub")
    image = Image.new("RGB", (400, 900), "white")
    first, second = engine.recognize(image), engine.recognize(image)
    assert first == second
    assert first.lines[0].text == "STUB MART SDN BHD"
    _assert_boxes_inside(first)
    tops = [line.box[1] for line in first.lines]
    assert tops == sorted(tops)  # reading order: top to bottom


def test_vision_line_converts_bottom_left_normalised_boxes() -> None:
    # A line in the top tenth of a 1000x2000 image, as Vision reports it (y from the bottom).
    line = vision_line("TOTAL 9.00", 0.8, (0.1, 0.85, 0.5, 0.05), (1000, 2000))
    assert line is not None
    assert [w.text for w in line.words] == ["TOTAL", "9.00"]
    left, top, right, bottom = line.box
    assert (left, right) == pytest.approx((100, 600))
    assert (top, bottom) == pytest.approx((200, 300))  # (1 - 0.85 - 0.05) * 2000 = 200
    first, second = line.words
    assert first.box[2] < second.box[0]  # words left to right, not overlapping
    assert all(w.confidence == pytest.approx(0.8) for w in line.words)
    assert vision_line("   ", 0.9, (0, 0, 1, 1), (10, 10)) is None


@pytest.mark.skipif(sys.platform == "darwin", reason="checks the non-macOS refusal")
def test_vision_engine_refuses_off_macos() -> None:
    with pytest.raises(EngineUnavailableError, match="macOS"):
        get_engine("vision")


@pytest.mark.skipif(sys.platform != "darwin", reason="Apple Vision exists only on macOS")
def test_vision_engine_reads_text_on_macos(sample_images: Path) -> None:
    pytest.importorskip("ocrmac", reason="ocrmac is not installed")
    path = sorted((sample_images / "img").glob("*.jpg"))[0]
    with Image.open(path) as image:
        result = get_engine("vision").recognize(image.convert("RGB"))
    assert result.words
    _assert_boxes_inside(result)


def test_unrotate_box_inverts_a_pil_rotation() -> None:
    image = Image.new("L", (300, 200), 255)
    image.paste(0, (140, 90, 160, 110))  # a dark square around the centre-right
    image.paste(0, (240, 20, 260, 40))
    rotated = image.rotate(10, resample=Image.Resampling.NEAREST, fillcolor=255)
    found = Image.eval(rotated, lambda v: 255 - v).getbbox()  # the squares, rotated
    box = unrotate_box(tuple(float(v) for v in found), 10, image.size)
    assert box[0] <= 140 + 2 and box[2] >= 260 - 2 and box[1] <= 20 + 2 and box[3] >= 110 - 2


def test_estimate_skew_finds_a_rotation_of_text_rows() -> None:
    image = Image.new("L", (600, 600), 255)
    for row in range(60, 560, 40):
        image.paste(0, (60, row, 540, row + 12))
    assert estimate_skew(image) == pytest.approx(0.0, abs=0.3)
    assert estimate_skew(image.rotate(3, fillcolor=255)) == pytest.approx(-3.0, abs=0.5)


def _assert_boxes_inside(result: OcrResult) -> None:
    for word in result.words:
        left, top, right, bottom = word.box
        assert 0 <= left <= right <= result.width, word
        assert 0 <= top <= bottom <= result.height, word
        assert 0 < word.confidence <= 1
        assert word.text and " " not in word.text


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")
def test_tesseract_reads_the_sroie_samples(sample_images: Path) -> None:
    """The acceptance bar: >= 80% of the transcripts' tokens, single-threaded Tesseract."""
    engine = get_engine("tesseract")
    matched = total = 0
    images = sorted((sample_images / "img").glob("*.jpg"))
    assert len(images) == 30
    for path in images:
        with Image.open(path) as image:
            result = engine.recognize(image.convert("RGB"))
            assert (result.width, result.height) == image.size
        _assert_boxes_inside(result)
        m, t = token_recall(sroie_transcript(sample_images / "box" / f"{path.stem}.txt"),
                            (w.text for w in result.words))
        matched, total = matched + m, total + t
    assert matched / total >= 0.80, f"token recall {matched / total:.3f} ({matched}/{total})"


def test_token_recall_counts_repeats_and_folds_case() -> None:
    assert token_recall(["TOTAL 9.00", "TOTAL"], ["total 9.00"]) == (2, 3)
    assert token_recall(["A B"], []) == (0, 2)
