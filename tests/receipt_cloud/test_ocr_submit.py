"""Submitting images (torch-free): ``submit_image`` and the upload Lambda (an S3 object-created
event, on a moto server) create the same Image + OCRJob + message, once; files that are not
images register nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from receipt_cloud.handlers.upload import handler
from receipt_cloud.ocr_submit import InvalidImageUploadError, submit_image
from receipt_cloud.settings import resolve_settings


def blank() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (600, 900), "white").save(buffer, format="JPEG")
    return buffer.getvalue()


def drain(queue) -> list[dict]:
    """Every message body (at most 10 are expected here), deleted."""
    batch = queue.receive(max_messages=10)
    for message in batch:
        queue.delete(message)
    return [m.json() for m in batch]


def _event(bucket: str, *keys: str) -> dict:
    return {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                         "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}
                        for key in keys]}


@pytest.mark.parametrize(("name", "data", "message"), [
    ("empty.jpg", b"", r"empty\.jpg is empty \(0 bytes\); nothing was registered"),
    ("notes.jpg", b"TOTAL 9.00\n", r"notes\.jpg is not a readable image"),
])
def test_submit_refuses_files_that_are_not_images(tmp_path: Path, name, data, message) -> None:
    settings = resolve_settings("local", data_dir=tmp_path / "data")
    objects = settings.open_objects("raw")
    with pytest.raises(InvalidImageUploadError, match=message):
        submit_image(data, filename=name, store=settings.open_store(), objects=objects,
                     queue=settings.open_queue("ocr_jobs"))
    assert list(objects.list("raw/")) == []
    assert settings.open_store().list_ocr_jobs() == []
    assert drain(settings.open_queue("ocr_jobs")) == []


@pytest.mark.aws
@pytest.mark.slow  # a whole moto stack; the local upload path stays in test-fast
def test_upload_lambda_registers_s3_objects_once(aws_env: str, unique_name: str) -> None:
    import boto3

    from receipt_cloud.queues import create_queue_with_dlq
    from receipt_dynamo import create_table

    create_table(boto3.client("dynamodb"), unique_name)
    s3 = boto3.client("s3")
    bucket = f"{unique_name}-raw"
    s3.create_bucket(Bucket=bucket)
    jobs = create_queue_with_dlq(f"{unique_name}-ocr-jobs", 3)
    environ = {"RECEIPTS_ENV": "aws", "DYNAMO_TABLE_NAME": unique_name,
               "RAW_BUCKET_NAME": bucket, "RUNS_BUCKET_NAME": bucket,
               "BUNDLES_BUCKET_NAME": bucket, "OCR_JOB_QUEUE_URL": jobs.url,
               "OCR_RESULTS_QUEUE_URL": jobs.url, "COREML_EXPORT_JOB_QUEUE_URL": jobs.url,
               "COREML_EXPORT_RESULTS_QUEUE_URL": jobs.url, "AWS_REGION": "us-east-1",
               "AWS_ENDPOINT_URL": aws_env}
    settings = resolve_settings("aws", environ=environ)
    s3.put_object(Bucket=bucket, Key="uploads/my receipt.jpg", Body=blank())
    s3.put_object(Bucket=bucket, Key="uploads/notes.txt", Body=b"not an image")
    event = _event(bucket, "uploads/my+receipt.jpg", "uploads/notes.txt",
                   "ocr_results/x/y.json")

    first = handler(event, None, settings=settings)
    assert [r["created"] for r in first["registered"]] == [True]
    assert {s["s3_key"] for s in first["skipped"]} == {"uploads/notes.txt",
                                                        "ocr_results/x/y.json"}
    registered = first["registered"][0]
    assert registered["s3_key"] == "uploads/my receipt.jpg"
    store = settings.open_store()
    job = store.get_ocr_job(registered["image_id"], registered["job_id"])
    assert (job.s3_bucket, job.s3_key) == (bucket, "uploads/my receipt.jpg")
    assert store.get_image(registered["image_id"]).width == 600

    again = handler(event, None, settings=settings)  # S3 delivers an event twice
    assert [r["created"] for r in again["registered"]] == [False]
    assert drain(jobs) == [{"image_id": registered["image_id"],
                                "job_id": registered["job_id"]}]

    # submit into the watched bucket, then the event it fires: registered once.
    sub = submit_image(blank(), filename="b.jpg", store=store,
                       objects=settings.open_objects("raw"), queue=jobs)
    echoed = handler(_event(bucket, sub.s3_key), None, settings=settings)
    assert echoed["registered"][0]["job_id"] == sub.job_id
    assert echoed["registered"][0]["created"] is False
    assert len(drain(jobs)) == 1


def test_submit_keeps_the_original_file_name_and_the_photo_sha256(tmp_path: Path) -> None:
    import hashlib

    from receipt_cloud.ocr_submit import submit_settings

    settings = resolve_settings("local", data_dir=tmp_path / "data")
    photo = tmp_path / "IMG_2041 (Tesco).jpg"
    photo.write_bytes(blank())
    [submission] = submit_settings([photo], settings)
    store = settings.open_store()
    assert store.get_image(submission.image_id).original_filename == "IMG_2041 (Tesco).jpg"
    job = store.get_ocr_job(submission.image_id, submission.job_id)
    assert job.sha256 == hashlib.sha256(blank()).hexdigest()
    assert submission.s3_key.startswith("raw/") and "Tesco" not in submission.s3_key


def test_original_file_name_is_shown_on_the_report_card(tmp_path: Path) -> None:
    import json
    import uuid

    from receipt_dynamo import Job
    from receipt_layoutlm.reporting import collect_report, render_html

    settings = resolve_settings("local", data_dir=tmp_path / "data")
    settings.open_store().add_job(Job(job_id=str(uuid.uuid4()), name="layoutlm-x"))
    settings.open_objects("raw").put_bytes("ocr_results/i/j.json", json.dumps({
        "image": {"s3_key": "raw/gone.jpg", "original_filename": "<b>till.jpg</b>"},
        "words": [{"text": "9.00", "box": [1, 1, 20, 8], "label": "GRAND_TOTAL"}],
    }).encode())
    data = collect_report("layoutlm-x", settings)
    [photo] = data.photos
    assert (photo.name, photo.results_key) == ("<b>till.jpg</b>", "ocr_results/i/j.json")
    page = render_html(data)
    assert "<h3>&lt;b&gt;till.jpg&lt;/b&gt;</h3>" in page and "<b>till" not in page
