"""End to end on real photos: a tiny model trained in the test, promoted → ``receipt-ocr submit``
→ the worker (Tesseract, the model cache) → records, results JSON, annotated PNG, results
messages; and ``--process-local-image`` on the same photo gives the same words and labels."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from receipt_ocr.cli import main

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed"),
]

PHOTOS = ("X00016469612", "X51005441407", "X51006466065")


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_submit_worker_records_results(sample_images: Path, tiny_bundle, tmp_path: Path,
                                       capsys) -> None:
    from receipt_cloud.settings import resolve_settings

    data = tmp_path / "data"
    env = ["--data-dir", str(data), "--bundles-uri", str(tiny_bundle.objects_root)]
    photos = [sample_images / "img" / f"{stem}.jpg" for stem in PHOTOS]
    assert main(["submit", *map(str, photos), *env]) == 0
    submitted = _lines(capsys.readouterr().out)
    assert len(submitted) == 3 and all(s["created"] for s in submitted)

    cache = tmp_path / "cache"
    # The seed's --continuous: until the queue is empty, then exit.
    assert main([*env, "--continuous", "--layoutlm-cache-path", str(cache)]) == 0
    stats = _lines(capsys.readouterr().out)[-1]
    assert stats["succeeded"] == 3 and stats["failed"] == 0

    settings = resolve_settings("local", data_dir=data)
    store, objects = settings.open_store(), settings.open_objects("raw")
    results_queue = settings.open_queue("ocr_results")
    messages = {}
    for _ in range(3):
        for message in results_queue.receive(max_messages=10):
            messages[message.json()["job_id"]] = message.json()
    assert len(messages) == 3
    version = "layoutlm-ocr-tiny/export-1"
    for sub, photo in zip(submitted, photos, strict=True):
        job = store.get_ocr_job(sub["image_id"], sub["job_id"])
        assert job.status.value == "COMPLETED" and job.failure_reason is None
        message = messages[sub["job_id"]]
        assert set(message) == {"image_id", "job_id", "s3_key", "s3_bucket", "receipt_count"}
        assert message["receipt_count"] == 1 and message["image_id"] == sub["image_id"]
        assert message["s3_key"] == f"ocr_results/{sub['image_id']}/{sub['job_id']}.json"
        decision = store.get_routing_decision(sub["image_id"], sub["job_id"])
        assert decision.status.value == "COMPLETED" and decision.s3_key == message["s3_key"]

        details = store.get_receipt_details(sub["image_id"], 1)
        with Image.open(photo) as original:
            size = original.size
        assert (details.receipt.width, details.receipt.height) == size
        assert len(details.words) >= 40 and details.lines
        for word in details.words:
            box = word.bounding_box
            assert word.origin == "top-left" and not word.normalized
            assert box.x >= 0 and box.x + box.width <= size[0]
            assert box.y >= 0 and box.y + box.height <= size[1]
        assert details.labels, "the model proposed no label at all"
        for label in details.labels:
            assert label.validation_status.value == "PENDING"
            assert label.label_proposed_by == version
            assert 0 < label.confidence <= 1

        results = json.loads(objects.get_bytes(message["s3_key"]))
        assert results["model"] == {"version": version, "runtime": "onnx-int8"}
        assert len(results["words"]) == len(details.words)
        assert {"text", "label", "tag", "confidence", "box", "line_id", "word_id"} <= set(
            results["words"][0]
        )
        labelled = {(w["line_id"], w["word_id"]): w["label"] for w in results["words"]}
        assert {(lab.line_id, lab.word_id): lab.label for lab in details.labels} == {
            k: v for k, v in labelled.items() if v
        }
        assert isinstance(results["fields"], dict)
        png = objects.get_bytes(f"receipts/{sub['image_id']}/{sub['job_id']}.png")
        with Image.open(io.BytesIO(png)) as annotated:
            assert annotated.format == "PNG"
            assert annotated.width > size[0] and annotated.height >= size[1]  # legend strip

    # The same photo through --process-local-image: same words and labels, no store touched.
    out, elsewhere = tmp_path / "out", tmp_path / "untouched"
    code = main(["--process-local-image", str(photos[0]), "--output-dir", str(out),
                 "--layoutlm-model", str(tiny_bundle.bundle_dir), "--data-dir", str(elsewhere)])
    assert code == 0
    printed = _lines(capsys.readouterr().out)[-1]
    assert printed["json"] == str(out / f"{PHOTOS[0]}.json")
    local = json.loads((out / f"{PHOTOS[0]}.json").read_text())
    assert (out / f"{PHOTOS[0]}.png").stat().st_size > 0
    queued = json.loads(objects.get_bytes(messages[submitted[0]["job_id"]]["s3_key"]))
    assert [(w["text"], w["label"]) for w in local["words"]] == [
        (w["text"], w["label"]) for w in queued["words"]
    ]
    assert not elsewhere.exists()
