"""The two ways of calling Tesseract: the TSV both return, the name check, and real Tesseract
through each (same words on a SROIE photo, a timeout that ends as OcrTimeoutError)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
from PIL import Image

from receipt_ocr.engines._tesseract_bindings import (
    BINDING_NAMES,
    OcrTimeoutError,
    open_binding,
    parse_tsv,
)
from receipt_ocr.engines.tesseract import TesseractConfig, TesseractEngine

HAS_TESSERACT = shutil.which("tesseract") is not None
HAS_TESSEROCR = importlib.util.find_spec("tesserocr") is not None
needs_both = pytest.mark.skipif(
    not (HAS_TESSERACT and HAS_TESSEROCR),
    reason="needs the tesseract program and the tesserocr package (make .venv/.installed)",
)


def test_parse_tsv_reads_columns_and_empty_text() -> None:
    text = (
        "1\t1\t0\t0\t0\t0\t0\t0\t600\t900\t-1\t\n"
        "5\t1\t1\t1\t2\t1\t40\t60\t120\t22\t91.5\tTOTAL\n"
        "5\t1\t1\t1\t2\t2\t200\t61\t50\t21\t88\t9.00\n"
    )
    columns = parse_tsv(text)
    assert columns["text"] == ["", "TOTAL", "9.00"]
    assert columns["conf"] == [-1.0, 91.5, 88.0]
    assert columns["line_num"] == [0, 2, 2]
    assert columns["left"][1:] == [40, 200]


def test_unknown_binding_names_the_choices() -> None:
    assert BINDING_NAMES == ("auto", "tesserocr", "pytesseract")
    with pytest.raises(ValueError, match=r"unknown Tesseract binding 'leptonica'.*pytesseract"):
        open_binding("leptonica")


@needs_both
@pytest.mark.slow
def test_both_bindings_read_the_same_words(sample_images: Path) -> None:
    """tesserocr built against the system library reads what the program reads."""
    path = sorted((sample_images / "img").glob("*.jpg"))[0]
    with Image.open(path) as image:
        image = image.convert("RGB")
    results = {
        name: TesseractEngine(TesseractConfig(binding=name)).recognize(image)  # type: ignore[arg-type]
        for name in ("tesserocr", "pytesseract")
    }
    via_api, via_program = results["tesserocr"], results["pytesseract"]
    if TesseractEngine(TesseractConfig(binding="tesserocr")).version() != (
        TesseractEngine(TesseractConfig(binding="pytesseract")).version()
    ):
        pytest.skip("tesserocr bundles another Tesseract than the program (a PyPI wheel)")
    assert [w.text for w in via_api.words] == [w.text for w in via_program.words]
    for a, b in zip(via_api.words, via_program.words, strict=True):
        assert a.box == pytest.approx(b.box)
        assert a.confidence == pytest.approx(b.confidence, abs=0.01)  # the program rounds


@pytest.mark.slow
@pytest.mark.skipif(not HAS_TESSERACT, reason="tesseract is not installed")
@pytest.mark.parametrize("binding", ["tesserocr", "pytesseract"])
def test_a_timeout_is_an_ocr_timeout_and_the_engine_recovers(
    binding: str, sample_images: Path
) -> None:
    if binding == "tesserocr" and not HAS_TESSEROCR:
        pytest.skip("tesserocr is not installed")
    path = sorted((sample_images / "img").glob("*.jpg"))[0]
    with Image.open(path) as image:
        image = image.convert("RGB")
    hurried = TesseractEngine(TesseractConfig(binding=binding, timeout_seconds=0.01))  # type: ignore[arg-type]
    with pytest.raises(OcrTimeoutError, match=r"gave up on the image after 0.01 s"):
        hurried.recognize(image)
    engine = TesseractEngine(TesseractConfig(binding=binding))  # type: ignore[arg-type]
    assert len(engine.recognize(image).words) > 50
    assert f"binding={binding}" in engine.describe()
