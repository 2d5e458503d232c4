"""``receipt-ocr --process-local-image`` with an ONNX bundle: the image is checked before any
engine or model loads, and the run imports neither torch nor transformers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from receipt_ocr.cli import main

_RUN = """
import json, sys
from receipt_ocr.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "heavy": sorted(
    m for m in ("torch", "transformers", "coremltools") if m in sys.modules)}))
"""


def test_a_missing_image_is_reported_before_the_model_is_looked_at(tmp_path: Path,
                                                                   capsys) -> None:
    code = main(["--process-local-image", str(tmp_path / "gone.jpg"), "--output-dir",
                 str(tmp_path / "out"), "--layoutlm-model", str(tmp_path / "no-model"),
                 "--stub-ocr"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == [f"error: cannot read {tmp_path / 'gone.jpg'}: No such file or directory; "
                   "nothing was written"]
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_an_onnx_bundle_runs_without_torch(tiny_bundle, sample_images: Path,
                                           tmp_path: Path) -> None:
    photo = sorted((sample_images / "img").glob("*.jpg"))[0]
    out = subprocess.run(
        [sys.executable, "-c", _RUN, "--process-local-image", str(photo), "--output-dir",
         str(tmp_path), "--layoutlm-model", str(tiny_bundle.bundle_dir), "--stub-ocr"],
        capture_output=True, text=True, check=True,
    )
    lines = out.stdout.strip().splitlines()
    assert json.loads(lines[-1]) == {"code": 0, "heavy": []}
    assert json.loads(lines[0])["words"] > 0
    assert (tmp_path / f"{photo.stem}.json").is_file()
