"""Bad input through the worker, one table row each: the OCRJob ends FAILED with a readable
one-line reason (or COMPLETED where the input is fine, e.g. a photo with no text), nothing is
half-written, and the worker carries on with the next message."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import image_factory as f
import pytest
from ocr_support import drain

from receipt_cloud.settings import resolve_settings
from receipt_dynamo import EntityNotFoundError, OCRJob
from receipt_ocr.options import OcrWorkerOptions, ocr_loop
from receipt_ocr.worker import run_ocr_worker

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed"),
]

MISSING = object()
# name, bytes (MISSING: no object at the key), final status, reason (regex) or word count check
CASES: list[tuple[str, Callable[[], bytes] | object, str, str | None]] = [
    ("zero_bytes", lambda: b"", "FAILED", r"image raw/zero_bytes\.jpg is empty \(0 bytes\)"),
    ("not_an_image", lambda: b"<html>not a photo</html>", "FAILED",
     r"image raw/not_an_image\.jpg is not an image Pillow can read"),
    ("truncated_jpeg", f.truncated_jpeg, "FAILED",
     r"image raw/truncated_jpeg\.jpg is truncated or corrupt \(JPEG, 400x400\)"),
    ("decompression_bomb", f.decompression_bomb, "FAILED",
     r"image raw/decompression_bomb\.jpg is 12000x12000 = 144,000,000 pixels, over the limit"),
    ("object_missing", MISSING, "FAILED", r"object not found: .*raw/object_missing\.jpg"),
    ("no_text", f.blank, "COMPLETED", None),
    ("sixteen_bit", f.sixteen_bit, "COMPLETED", None),
    ("rgba", f.transparent_rgba, "COMPLETED", None),
    ("palette", f.palette_with_transparency, "COMPLETED", None),
    ("exif_rotated", f.exif_rotated, "COMPLETED", None),
]
BAD_MESSAGES = ["not json", json.dumps({"image_id": "x"}),
                json.dumps({"image_id": str(uuid.uuid4()), "job_id": str(uuid.uuid4())})]


def test_each_bad_input_fails_its_job_and_the_worker_continues(tiny_bundle, tmp_path: Path):
    settings = resolve_settings("local", data_dir=tmp_path / "data")
    store, objects = settings.open_store(), settings.open_objects("raw")
    queue = settings.open_queue("ocr_jobs")
    jobs = {}
    for name, make, _, _ in CASES:
        key = f"raw/{name}.jpg"
        if make is not MISSING:
            objects.put_bytes(key, make())
        job = OCRJob(image_id=str(uuid.uuid4()), job_id=str(uuid.uuid4()),
                     s3_bucket=str(objects.root), s3_key=key)
        store.add_ocr_job(job)
        queue.send({"image_id": job.image_id, "job_id": job.job_id})
        jobs[name] = job
    for body in BAD_MESSAGES:
        queue.send(body)

    stats = run_ocr_worker(settings, ocr_loop(max_receives=2, mode="drain"), OcrWorkerOptions(
        engine="tesseract", model_dir=str(tiny_bundle.bundle_dir)))
    failing = sum(1 for c in CASES if c[2] == "FAILED") + len(BAD_MESSAGES)
    assert (stats.succeeded, stats.failed, stats.released) == (len(CASES) - failing + len(
        BAD_MESSAGES), failing, 0)

    import re

    results = {m["job_id"]: m for m in drain(settings.open_queue("ocr_results"))}
    for name, _, status, reason in CASES:
        job = store.get_ocr_job(jobs[name].image_id, jobs[name].job_id)
        assert job.status.value == status, (name, job.failure_reason)
        decision = store.get_routing_decision(job.image_id, job.job_id)
        assert decision.status.value == status, name
        if status == "FAILED":
            assert re.search(reason, job.failure_reason or ""), (name, job.failure_reason)
            assert "\n" not in job.failure_reason
            assert job.job_id not in results
            with pytest.raises(EntityNotFoundError):  # nothing half-written
                store.get_receipt_details(job.image_id, 1)
            assert not list(objects.list(f"ocr_results/{job.image_id}/"))
        else:
            assert job.failure_reason is None
            assert results[job.job_id]["receipt_count"] in (0, 1)
            body = json.loads(objects.get_bytes(results[job.job_id]["s3_key"]))
            if name == "no_text":
                assert body["words"] == [] and body["fields"] == {}
                assert results[job.job_id]["receipt_count"] == 0
            if name == "exif_rotated":
                assert (body["image"]["width"], body["image"]["height"]) == (100, 200)


def test_a_job_that_keeps_failing_goes_to_the_dead_letter_queue(tiny_bundle, tmp_path: Path):
    settings = resolve_settings("local", data_dir=tmp_path / "data")
    store, queue = settings.open_store(), settings.open_queue("ocr_jobs")
    objects = settings.open_objects("raw")
    objects.put_bytes("raw/x.jpg", f.blank())
    # A file where the results folder should be: every results write fails (not bad input).
    (objects.root / "ocr_results").write_text("in the way")
    job = OCRJob(image_id=str(uuid.uuid4()), job_id=str(uuid.uuid4()),
                 s3_bucket=str(objects.root), s3_key="raw/x.jpg")
    store.add_ocr_job(job)
    queue.send({"image_id": job.image_id, "job_id": job.job_id})
    stats = run_ocr_worker(settings, ocr_loop(max_receives=2), OcrWorkerOptions(
        engine="stub", model_dir=str(tiny_bundle.bundle_dir)))
    assert stats.released == 2 and stats.succeeded == 0
    failed = store.get_ocr_job(job.image_id, job.job_id)
    assert failed.status.value == "FAILED"
    assert failed.failure_reason.startswith("gave up after 2 attempts (unexpected error)")
    dead = drain(queue.dead_letter_queue())
    assert dead == [{"image_id": job.image_id, "job_id": job.job_id}]
