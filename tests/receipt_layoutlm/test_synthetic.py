"""Synthetic receipts: boxes exact on the rotated photo, the JSONL reads back, Tesseract reads
the text, seeds reproduce, and the CLI's errors."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw


@pytest.mark.parametrize("angle", [-2.0, 0.0, 1.3, 7.0])
def test_rotated_points_follow_pillows_rotation(angle: float) -> None:
    from receipt_layoutlm.synthetic.render import rotate_points

    image = Image.new("L", (301, 157), 0)
    box = (40, 30, 180, 70)
    ImageDraw.Draw(image).rectangle(box, fill=255)
    rotated = image.rotate(angle, expand=True)
    ys, xs = np.nonzero(np.asarray(rotated) > 127)
    corners = rotate_points([(40, 30), (181, 30), (181, 71), (40, 71)], image.size,
                            rotated.size, angle)
    cx, cy = np.mean([c[0] for c in corners]), np.mean([c[1] for c in corners])
    # pixel centres sit at +0.5
    assert abs(xs.mean() + 0.5 - cx) < 0.6 and abs(ys.mean() + 0.5 - cy) < 0.6
    assert xs.min() >= min(c[0] for c in corners) - 1.5
    assert xs.max() + 1 <= max(c[0] for c in corners) + 1.5
    assert ys.min() >= min(c[1] for c in corners) - 1.5
    assert ys.max() + 1 <= max(c[1] for c in corners) + 1.5


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from receipt_layoutlm.synthetic import SynthConfig, write_synthetic

    return write_synthetic(SynthConfig(count=4, seed=7, max_rotation=2.0),
                           tmp_path_factory.mktemp("synth"))


def test_jsonl_reads_back_with_core_labels_and_images(written: Path) -> None:
    from receipt_dynamo import CORE_LABELS
    from receipt_layoutlm.importers.jsonl import parse_jsonl

    parsed = parse_jsonl(written)
    assert parsed.problems == [] and len(parsed.documents) == 4
    for doc in parsed.documents:
        assert doc.key.startswith("synthetic:")
        labels = {w.label for w in doc.words if w.label}
        assert labels <= set(CORE_LABELS)
        assert {"MERCHANT_NAME", "ADDRESS_LINE", "PHONE_NUMBER", "DATE", "TIME", "PRODUCT_NAME",
                "LINE_TOTAL", "SUBTOTAL", "TAX", "GRAND_TOTAL", "PAYMENT_METHOD"} <= labels
        assert set(doc.fields) == {"company", "address", "date", "total"}
        totals = [w.text for w in doc.words if w.label == "GRAND_TOTAL"]
        assert totals == [doc.fields["total"]]
        with Image.open(doc.image_path) as image:
            assert image.size == (doc.width, doc.height)
        for word in doc.words:
            assert all(0 <= x <= doc.width and 0 <= y <= doc.height for x, y in word.corners)


def test_every_box_holds_its_ink(written: Path) -> None:
    """Inside a word's box the photo is darker than the paper around it: boxes sit on the text
    after rotation (a box off by a line height would sit on blank paper half the time)."""
    from receipt_layoutlm.importers.jsonl import parse_jsonl

    for doc in parse_jsonl(written).documents:
        pixels = np.asarray(Image.open(doc.image_path).convert("L"), dtype=np.float32)
        paper = np.median(pixels)
        for word in doc.words:
            mask = Image.new("L", (int(doc.width), int(doc.height)), 0)
            ImageDraw.Draw(mask).polygon([tuple(c) for c in word.corners], fill=1)
            inside = pixels[np.asarray(mask, dtype=bool)]
            assert inside.size and inside.mean() < paper - 20, (doc.key, word.text)


@pytest.mark.skipif(shutil.which("tesseract") is None,
                    reason="tesseract is not installed (make system-deps installs it)")
def test_tesseract_reads_the_printed_words(written: Path) -> None:
    from receipt_layoutlm.importers.jsonl import parse_jsonl

    doc = parse_jsonl(written).documents[0]
    text = subprocess.run(["tesseract", doc.image_path, "stdout", "--psm", "6"],
                          capture_output=True, text=True, check=True, timeout=60).stdout
    read = set(text.split())
    found = [w.text for w in doc.words if w.text in read]
    assert len(found) / len(doc.words) >= 0.8, (len(found), len(doc.words), text)


def test_a_seed_reproduces_and_receipts_do_not_depend_on_the_count(tmp_path: Path) -> None:
    from receipt_layoutlm.synthetic import SynthConfig, write_synthetic

    a = write_synthetic(SynthConfig(count=3, seed=1), tmp_path / "a").read_text().splitlines()
    b = write_synthetic(SynthConfig(count=2, seed=1), tmp_path / "b").read_text().splitlines()
    c = write_synthetic(SynthConfig(count=2, seed=2), tmp_path / "c").read_text().splitlines()

    def words(line: str) -> list:
        return json.loads(line)["words"]

    assert [words(x) for x in a[:2]] == [words(x) for x in b]
    assert words(c[0]) != words(a[0])
    assert (tmp_path / "a/images/synthetic-0001.png").read_bytes() == (
        tmp_path / "b/images/synthetic-0001.png").read_bytes()


def test_cli_writes_the_dataset(tmp_path: Path, capsys) -> None:
    from receipt_layoutlm.cli import main

    assert main(["synth", "--count", "2", "--out", str(tmp_path / "s")]) == 0
    assert "wrote 2 synthetic receipts" in capsys.readouterr().out
    assert len((tmp_path / "s/receipts.jsonl").read_text().splitlines()) == 2
    assert len(list((tmp_path / "s/images").glob("*.png"))) == 2


# Bad values a user can pass: one readable line on stderr, exit 2, nothing written.
BAD_ARGS = [
    (["--count", "0"], "count must be at least 1"),
    (["--count", "1", "--min-width", "700", "--max-width", "600"], "min_width <= max_width"),
    (["--count", "1", "--max-rotation", "45"], "max_rotation must be within 0–20"),
    (["--count", "1", "--font", "missing.ttf"], "missing.ttf is not a file"),
]


@pytest.mark.parametrize(("args", "message"), BAD_ARGS, ids=[m for _, m in BAD_ARGS])
def test_cli_refuses_bad_values(args: list[str], message: str, tmp_path: Path, capsys) -> None:
    from receipt_layoutlm.cli import main

    out = tmp_path / "out"
    assert main(["synth", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: synth: ") and message in err and err.count("\n") == 1
    assert not out.exists()
