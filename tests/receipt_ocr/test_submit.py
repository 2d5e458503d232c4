"""``receipt-ocr submit``: upload, Image + OCRJob records, the OCR job message; a file that is
not an image is one error line (the library side is tests/receipt_cloud/test_ocr_submit.py)."""

from __future__ import annotations

import json
from pathlib import Path

import image_factory as f
from ocr_support import drain

from receipt_cloud.settings import resolve_settings
from receipt_ocr.cli import main


def test_cli_submit_creates_image_job_and_message(tmp_path: Path, capsys) -> None:
    photo = tmp_path / "receipt photo.PNG"
    photo.write_bytes(f.exif_rotated())
    data = tmp_path / "data"
    assert main(["submit", str(photo), "--data-dir", str(data)]) == 0
    printed = json.loads(capsys.readouterr().out.strip())
    settings = resolve_settings("local", data_dir=data)
    store = settings.open_store()
    image = store.get_image(printed["image_id"])
    assert (image.width, image.height) == (100, 200)  # as displayed (EXIF orientation)
    assert image.raw_s3_key == printed["s3_key"] == f"raw/{printed['image_id']}.png"
    job = store.get_ocr_job(printed["image_id"], printed["job_id"])
    assert job.status.value == "PENDING" and job.s3_bucket == printed["s3_bucket"]
    assert settings.open_objects("raw").get_bytes(job.s3_key) == photo.read_bytes()
    assert drain(settings.open_queue("ocr_jobs")) == [
        {"image_id": printed["image_id"], "job_id": printed["job_id"]}
    ]


def test_cli_submit_error_is_one_line(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert main(["submit", str(empty), "--data-dir", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "empty.jpg is empty (0 bytes)" in err
    assert "\n" not in err and "Traceback" not in err
