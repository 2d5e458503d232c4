"""Submitting images: ``receipt-ocr submit`` and the upload Lambda (S3 object-created event on a
moto server) create the same Image + OCRJob + message, once; bad files register nothing."""

from __future__ import annotations

import json
from pathlib import Path

import image_factory as f
import pytest
from conftest import drain

from receipt_cloud.handlers.upload import handler
from receipt_cloud.ocr_submit import InvalidImageUploadError, submit_image
from receipt_cloud.settings import resolve_settings
from receipt_ocr.cli import main


def _event(bucket: str, *keys: str) -> dict:
    return {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                         "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}
                        for key in keys]}


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


def test_cli_submit_error_is_one_line(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert main(["submit", str(empty), "--data-dir", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "empty.jpg is empty (0 bytes)" in err
    assert "\n" not in err and "Traceback" not in err


@pytest.mark.aws
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
    s3.put_object(Bucket=bucket, Key="uploads/my receipt.jpg", Body=f.blank())
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
    sub = submit_image(f.blank(), filename="b.jpg", store=store,
                       objects=settings.open_objects("raw"), queue=jobs)
    echoed = handler(_event(bucket, sub.s3_key), None, settings=settings)
    assert echoed["registered"][0]["job_id"] == sub.job_id
    assert echoed["registered"][0]["created"] is False
    assert len(drain(jobs)) == 1
