"""``layoutlm-cli report`` on a small real run made here: synthetic receipts → a tiny model
trained for 2 epochs → evaluate → a tiny float16 export through the parity gate → promote →
results JSON for two photos → the HTML report, checked as data, as HTML and in headless Chromium.

The labelling worker (``receipt-ocr``) is not part of this package's tests: the two results
JSON files are written here from the promoted bundle's ONNX predictions, in the shape
``reporting.photos`` documents. ``tests/scripts/test_demo.py`` runs the real worker.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import uuid
from pathlib import Path

import pytest
from chromium_probe import chromium_binary, probe, screenshot

pytestmark = pytest.mark.slow

JOB = "layoutlm-report"


def _cli(*argv: str) -> str:
    from receipt_layoutlm.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    assert code == 0, f"layoutlm-cli {' '.join(argv)} exited {code}: {out.getvalue()[-800:]}"
    return out.getvalue()


def _write_results(data_dir: Path, bundle: str, docs: list) -> None:
    """What ``receipt-ocr`` leaves in the raw store per photo (its results format 1):
    ``ocr_results/<image_id>/<job_id>.json`` with pixel boxes {x, y, width, height}, top-left."""
    from receipt_cloud.settings import resolve_settings
    from receipt_layoutlm.prediction import predict_document
    from receipt_layoutlm.runtime import load_runtime

    raw = resolve_settings("local", data_dir=data_dir).open_objects("raw")
    runtime = load_runtime("onnx", bundle)
    for doc in docs:
        image_id, job_id = str(uuid.uuid4()), str(uuid.uuid4())
        raw.put_file(f"raw/{image_id}.png", doc.image_path)
        prediction = predict_document(runtime, doc)
        payload = prediction.to_dict()
        for item, word in zip(payload["words"], prediction.words, strict=True):
            xs, ys = [x for x, _ in word.corners], [y for _, y in word.corners]
            item["box"] = {"x": min(xs), "y": min(ys), "width": max(xs) - min(xs),
                           "height": max(ys) - min(ys)}
        payload.update(
            results_format=1, image_id=image_id, job_id=job_id,
            image={"width": doc.width, "height": doc.height, "s3_key": f"raw/{image_id}.png"},
            model={"version": "layoutlm-report:test", "runtime": "onnx"},
            coordinates={"origin": "top-left", "units": "pixels"},
        )
        raw.put_bytes(f"ocr_results/{image_id}/{job_id}.json", json.dumps(payload).encode())


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from receipt_layoutlm.importers.jsonl import parse_jsonl

    root = tmp_path_factory.mktemp("report-run")
    data = root / "data"
    env = ("--data-dir", str(data))
    _cli("synth", "--count", "16", "--out", str(root / "synth"))
    dataset = root / "synth" / "receipts.jsonl"
    _cli("import", "jsonl", str(dataset), *env)
    _cli("train", "--job-name", JOB, "--dataset", str(dataset), "--model-size", "tiny",
         "--epochs", "2", "--batch-size", "4", "--learning-rate", "1e-3",
         "--max-seq-length", "128", "--stride", "32", "--no-auto-export", *env)
    best = data / "objects" / "runs" / JOB / "best"
    _cli("evaluate", "--model", str(best), "--dataset", str(dataset), "--split-side", "dev",
         "--output-dir", str(data / "evaluation" / JOB), *env)
    exported = json.loads(_cli(
        "export-coreml", "--checkpoint-dir", str(best), "--seq-length", "128",
        "--parity-data", str(dataset), "--parity-receipts", "3", "--weight-threshold", "256",
        # an untrained tiny model has near-tied logits; int8 flips some of them
        "--min-agreement-int8", "0.5", "--json", *env))
    _cli("promote", exported["bundle_uri"], *env)
    _write_results(data, exported["bundle_uri"], parse_jsonl(dataset).documents[:2])
    return data


@pytest.fixture(scope="module")
def report(small_run: Path) -> Path:
    out = small_run.parent / "report.html"
    printed = _cli("report", "--job", JOB, "--output", str(out), "--data-dir", str(small_run))
    assert printed.strip() == str(out.resolve())
    return out


def test_report_data_holds_every_part_of_the_run(small_run: Path) -> None:
    from receipt_cloud.settings import resolve_settings
    from receipt_dynamo import JobStatus
    from receipt_layoutlm.reporting import collect_report

    data = collect_report(JOB, resolve_settings("local", data_dir=small_run))
    assert data.job["status"] == JobStatus.SUCCEEDED.value and data.job["best_epoch"] in (1, 2)
    assert [r["epoch"] for r in data.epochs] == [1, 2]
    assert all({"loss", "eval_f1", "learning_rate"} <= set(r) for r in data.epochs)
    assert data.confusion is not None and data.confusion[0][0] == "O"
    assert data.evaluation_dir == str(small_run / "evaluation" / JOB)
    assert set(data.task3_per_key) == {"company", "date", "address", "total"}
    assert data.mismatches is not None  # a 2-epoch tiny model gets fields wrong
    assert all(set(m) == {"receipt", "key", "predicted", "expected"} for m in data.mismatches)
    [bundle] = data.bundles
    assert bundle.active and bundle.parity_passed and bundle.quantize == "float16"
    assert {r["runtime"] for r in bundle.parity} >= {"onnx", "onnx-int8", "coreml-mil"}
    assert bundle.sizes["onnx_bytes"] > 0 and bundle.total_bytes > bundle.sizes["onnx_bytes"]
    assert data.photos_total == 2 and len(data.photos) == 2
    photo = data.photos[0]
    assert photo.note == "" and photo.image_mime == "image/jpeg"
    assert photo.model == "layoutlm-report:test onnx"
    assert photo.labels and all(count > 0 for _, count in photo.labels)
    assert data.problems == []


def test_report_html_is_self_contained(report: Path) -> None:
    from receipt_layoutlm.reporting import SECTIONS

    text = report.read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f'<section id="{section}">' in text, section
    sources = re.findall(r'\b(?:src|href)\s*=\s*"([^"]*)"', text)
    assert len(sources) == 4  # curves, confusion, two photos
    assert all(s.startswith("data:image/") for s in sources), [s[:40] for s in sources]
    assert not re.search(r"url\(|@import|https?://", text.replace("file://", ""))
    assert "not evaluated" not in text and "no labelled photos yet" not in text


def test_report_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    from receipt_layoutlm.reporting import SECTIONS

    binary = chromium_binary()
    if binary is None:
        pytest.skip("chromium is not installed (make system-deps installs Debian's chromium)")
    shot = screenshot(binary, report, tmp_path / "report.png", tmp_path)
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (1280, 4000)
        # a rendered page, not a blank one: many distinct colours (plots, photos, text)
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 500
    seen = probe(binary, report, tmp_path)
    assert seen["title"] == f"Report: {JOB}"
    assert seen["sections"] == list(SECTIONS)
    assert len(seen["images"]) == 4
    for image in seen["images"]:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
        assert image["scheme"] == "data", image
    assert seen["requests"] == []  # Resource Timing: the page fetched nothing


def test_report_of_a_job_with_nothing_yet_says_so_in_every_section(tmp_path: Path) -> None:
    from receipt_cloud.settings import resolve_settings
    from receipt_dynamo.entities import Job
    from receipt_layoutlm.reporting import SECTIONS, collect_report, render_html

    settings = resolve_settings("local", data_dir=tmp_path)
    settings.open_store().add_job(Job(job_id=str(uuid.uuid4()), name="layoutlm-empty"))
    text = render_html(collect_report("layoutlm-empty", settings))
    for section in SECTIONS:
        assert f'<section id="{section}">' in text, section
    for message in ("no epochs recorded yet", "no confusion matrix recorded", "not evaluated",
                    "no bundles exported from this job yet", "no labelled photos yet"):
        assert message in text, message
    assert "<img" not in text


def test_unreadable_results_json_is_reported_and_the_rest_renders(tmp_path: Path) -> None:
    from PIL import Image

    from receipt_cloud.settings import resolve_settings
    from receipt_dynamo.entities import Job
    from receipt_layoutlm.reporting import collect_report, render_html

    settings = resolve_settings("local", data_dir=tmp_path)
    settings.open_store().add_job(Job(job_id=str(uuid.uuid4()), name="layoutlm-x"))
    raw = settings.open_objects("raw")
    raw.put_bytes("ocr_results/broken.json", b'{"words": [')
    annotated = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(annotated, format="PNG")
    raw.put_bytes("receipts/img-1/job-1.png", annotated.getvalue())
    raw.put_bytes("ocr_results/img-1/job-1.json", json.dumps({
        "image": {"s3_key": "raw/gone.png"}, "words": [], "fields": {}}).encode())
    raw.put_bytes("ocr_results/no-photo.json", json.dumps({
        "words": [{"text": "TOTAL", "box": [10, 10, 60, 30]},
                  {"text": "9.00", "box": [70, 10, 110, 30], "label": "GRAND_TOTAL"}],
        "fields": {"total": {"value": "9.00", "confidence": 0.9}}}).encode())
    data = collect_report("layoutlm-x", settings)
    assert len(data.problems) == 1 and "broken.json" in data.problems[0]
    worker_png, photo = data.photos  # key order: ocr_results/img-1/… before ocr_results/no-…
    assert worker_png.note == "the worker's annotated image receipts/img-1/job-1.png"
    assert photo.note.startswith("original photo not found")
    assert photo.fields == [("total", "9.00", 0.9)] and photo.labels == [("GRAND_TOTAL", 1)]
    assert "broken.json" in render_html(data)


def test_report_of_an_unknown_job_is_one_error_line(tmp_path: Path, capsys) -> None:
    from receipt_layoutlm.cli import main

    code = main(["report", "--job", "layoutlm-nope", "--data-dir", str(tmp_path),
                 "--output", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "layoutlm-nope" in err
    assert not (tmp_path / "r.html").exists()


@pytest.mark.aws
def test_labelled_photos_are_read_from_s3(aws_env: str, unique_name: str) -> None:
    """The raw store of a deployed stack: results JSON and photo in S3 (moto, over HTTP)."""
    import boto3
    from PIL import Image as PILImage

    from receipt_cloud.objects import open_object_store
    from receipt_layoutlm.reporting.model import ReportData
    from receipt_layoutlm.reporting.photos import read_labelled_photos

    boto3.client("s3").create_bucket(Bucket=unique_name)
    raw = open_object_store(f"s3://{unique_name}")
    photo = io.BytesIO()
    PILImage.new("RGB", (200, 100), "white").save(photo, format="PNG")
    raw.put_bytes("uploads/a.png", photo.getvalue())
    raw.put_bytes("ocr_results/a.json", json.dumps({
        "receipts": [{"s3_key": "uploads/a.png", "normalized": True, "origin": "bottom-left",
                      "words": [{"text": "9.00", "label": "GRAND_TOTAL",
                                 "bounding_box": {"x": 0.5, "y": 0.1, "width": 0.2,
                                                  "height": 0.2}}],
                      "fields": {"total": "9.00"}}]}).encode())
    data = ReportData(job_name="j", job={})
    read_labelled_photos(data, raw, limit=5)
    [found] = data.photos
    assert found.note == "" and found.fields == [("total", "9.00", None)]
    with PILImage.open(io.BytesIO(found.image_bytes)) as image:
        assert image.size == (200, 100)
        # the box (x 100–140, y 100·(1-0.3)…100·(1-0.1) = 70–90 from the top) is tinted
        r, g, b = image.convert("RGB").getpixel((120, 80))
        assert (r, g, b) != (255, 255, 255)
        assert image.convert("RGB").getpixel((120, 20)) == (255, 255, 255)
