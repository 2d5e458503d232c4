"""Corpus rows (group ``security``, and ``cli`` for what a new user hit): what a user hands
``submit`` and ``report``.

- ``submit`` reads only regular files, up to a size cap, never shows their bytes, refuses what is
  no raster image before uploading anything, and says in one line when S3 cannot be reached;
- a raw photo replaced after submit fails its OCR job;
- ``report`` lists every bad input it did not write as a problem instead of crashing;
- errors name CLI commands; ``train`` with nothing to train on creates nothing.
"""

from __future__ import annotations

import io
import json
import os
import socket
from collections.abc import Callable
from typing import Any

from bad_input_harness import Case, Workspace
from PIL import Image
from security_checks import case, outside_unchanged, store_unchanged

EXPORT_ID = "5a1c0d2e-3b4f-4a6b-8c7d-9e0f1a2b3c4d"


# -- submit -------------------------------------------------------------------------------------


def jpeg(colour: str = "white") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 200), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def submit(path: str, **overrides: Any) -> Callable[[Workspace], Any]:
    def command(ws: Workspace) -> Any:
        from receipt_cloud.ocr_submit import submit_settings

        return submit_settings([path.format(root=ws.root)], ws.settings(**overrides))

    return command


def no_raw_object(ws: Workspace, before: Any) -> None:
    store_unchanged(ws, before)
    raw = ws.data_dir / "objects" / "raw"
    assert not raw.exists() or not any(raw.iterdir()), "a raw object was uploaded"


def fifo(ws: Workspace) -> None:
    os.mkfifo(ws.path("pipe.jpg"))


def unix_socket(ws: Workspace) -> None:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(ws.path("s.jpg")))
    ws.cleanups.append(sock.close)


def sparse(ws: Workspace) -> None:
    with ws.path("huge.jpg").open("wb") as fh:
        fh.write(jpeg())
        fh.truncate(60 * 1024 * 1024)


SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="400" '
       b'height="600"><text x="10" y="20">TOTAL 9.00</text></svg>')


def replaced_after_submit(ws: Workspace) -> None:
    from receipt_cloud.ocr_submit import submit_settings

    [submission] = submit_settings([ws.write("photo.jpg", jpeg())], ws.settings())
    raw = ws.settings().open_objects("raw")
    raw.put_bytes(submission.s3_key, jpeg("black"))  # swapped behind the record's back
    ws.state["submission"] = submission


def run_submitted_job(ws: Workspace) -> Any:
    from receipt_ocr.engines import get_engine
    from receipt_ocr.job import OcrJobServices, process_ocr_job
    from receipt_ocr.model_cache import FixedModel

    settings = ws.settings()
    services = OcrJobServices(store=ws.open_store(), results_queue=settings.open_queue(
        "ocr_results"), engine=get_engine("stub"), models=FixedModel(ws.root / "no-model"))
    return process_ocr_job(ws.state["submission"].message(), services)


def job_failed_replaced(ws: Workspace, _before: Any) -> None:
    submission = ws.state["submission"]
    store = ws.open_store()
    try:
        job = store.get_ocr_job(submission.image_id, submission.job_id)
        assert job.status.value == "FAILED" and "changed after it was submitted" in (
            job.failure_reason or "")
        assert store.list_receipts() == []
    finally:
        store.close()
    outside_unchanged(ws)


# -- report -------------------------------------------------------------------------------------

REPORT = ["report", "--job", "layoutlm-x", "--output", "{root}/r.html",
          "--evaluation-dir", "{root}/eval"]


def report_inputs(*, results: Any = None, evaluation: Any = None, manifest: Any = None,
                  training: Any = None, raw_json: str | None = None) -> Callable[[Workspace], None]:
    """A Job ``layoutlm-x`` and the given hostile files where ``report`` reads them."""

    def setup(ws: Workspace) -> None:
        import uuid

        from receipt_dynamo import Job

        settings = ws.settings()
        store = settings.open_store()
        store.add_job(Job(job_id=str(uuid.uuid4()), name="layoutlm-x"))
        objects = settings.open_objects("raw")
        if results is not None or raw_json is not None:
            body = raw_json if raw_json is not None else json.dumps(results)
            objects.put_bytes("ocr_results/i/j.json", body.encode())
        if manifest is not None:
            objects.put_bytes(f"bundles/layoutlm-x/{EXPORT_ID}/manifest.json",
                              json.dumps(manifest).encode())
        if training is not None:
            objects.put_bytes("runs/layoutlm-x/report.json", json.dumps(training).encode())
        ws.write("eval/report.json", json.dumps(evaluation if evaluation is not None else {
            "metrics": {"receipts": 1}}))

    return setup


def report_written(ws: Workspace, before: Any) -> None:
    assert ws.items() == before
    page = ws.path("r.html").read_text(encoding="utf-8")
    assert '<section id="problems">' in page
    assert "not a" in page or "outside the image" in page, "the problem is not on the page"
    outside_unchanged(ws, "r.html")


def report_case(name: str, message: str, **inputs: Any) -> Case:
    return case(name, REPORT, rf"problem: \S+: {message}", exit_code=0,
                setup=report_inputs(**inputs), check=report_written)


def word(box: Any, **extra: Any) -> dict[str, Any]:
    return {"text": "TOTAL", "label": "GRAND_TOTAL", "box": box, **extra}


# -- what a new user hit (group cli): errors name commands; nothing to train on --------------


def other_job(ws: Workspace) -> None:
    import uuid

    from receipt_dynamo import Job

    ws.settings().open_store().add_job(Job(job_id=str(uuid.uuid4()), name="layoutlm-other"))


def no_data_dir(ws: Workspace, before: Any) -> None:
    assert not ws.data_dir.exists(), "a refused train created the data directory"
    outside_unchanged(ws)


def no_run(ws: Workspace, before: Any) -> None:
    store_unchanged(ws, before)  # no FAILED Job
    assert not (ws.data_dir / "training").exists(), "a refused train made a run folder"


CLI_CASES = [
    Case(name="jobs_show_unknown_names_the_list_command", group="cli",
         command=["jobs", "show", "nope"], exit_code=2,
         message=r"error: no Job named 'nope'; list them with `layoutlm-cli jobs list`"),
    case("train_with_no_store_creates_nothing", ["train", "--job-name", "layoutlm-x"],
         r"error: nothing to train on: \S+data holds no receipts yet; import a dataset first "
         r"\(`layoutlm-cli import \.\.\.`\) or pass --dataset FILE\.jsonl", check=no_data_dir),
    case("train_with_no_valid_labels_records_no_job", ["train", "--job-name", "layoutlm-x"],
         r"error: the store has no receipt with labels of status VALID; import a dataset .*",
         setup=other_job, check=no_run),
]

CASES = [
    case("submit_dev_zero", submit("/dev/zero"),
         r"error: /dev/zero is a character device, not a regular file; nothing was registered"),
    case("submit_fifo", submit("{root}/pipe.jpg"), setup=fifo,
         message=r"error: \S+/pipe\.jpg is a FIFO, not a regular file; nothing was registered"),
    case("submit_directory", submit("{root}/photos.jpg"),
         setup=lambda ws: ws.path("photos.jpg").mkdir(),
         message=r"error: \S+/photos\.jpg is a directory, not a regular file; nothing was "
                 r"registered"),
    case("submit_socket", submit("{root}/s.jpg"), setup=unix_socket,
         message=r"error: \S+/s\.jpg is a socket, not a regular file; nothing was registered"),
    case("submit_proc_environ_not_echoed", submit("/proc/self/environ"),
         r"error: /proc/self/environ is not a readable image \(\d+ bytes; no JPEG, PNG, TIFF, "
         r"WebP, GIF, BMP or HEIC header; its contents are not shown\); nothing was registered"),
    case("submit_over_size_cap", submit("{root}/huge.jpg"), setup=sparse,
         message=r"error: \S+/huge\.jpg is over the size limit of 52,428,800 bytes "
                 r"\(62,914,560 bytes\); nothing was registered"),
    case("submit_svg_named_jpg", submit("{root}/receipt.jpg"),
         setup=lambda ws: ws.write("receipt.jpg", SVG), check=no_raw_object,
         message=r"error: \S+/receipt\.jpg is not a readable image \(\d+ bytes; no JPEG, .*; its "
                 r"contents are not shown\); nothing was registered"),
    case("submit_truncated_png_named_jpg", submit("{root}/receipt.jpg"),
         setup=lambda ws: ws.write("receipt.jpg", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40),
         check=no_raw_object,
         message=r"error: \S+/receipt\.jpg is not (a readable|a decodable PNG) image .*; "
                 r"nothing was registered"),
    case("submit_s3_endpoint_unreachable",
         submit("{root}/photo.jpg", raw_uri="s3://receipts-raw", endpoint_url="http://127.0.0.1:9",
                region="us-east-1"),
         setup=lambda ws: ws.write("photo.jpg", jpeg()), needs=("aws_env",),
         message=r"error: cannot reach AWS: Could not connect to the endpoint URL: .*; check "
                 r"--endpoint-url / AWS_ENDPOINT_URL, the region and the network"),
    case("ocr_job_raw_object_replaced_after_submit", run_submitted_job,
         setup=replaced_after_submit, check=job_failed_replaced,
         message=r"error: image raw/\S+\.jpg changed after it was submitted \(sha256 [0-9a-f]{12}…"
                 r", submitted [0-9a-f]{12}…\); submit the photo again"),
    report_case("report_results_box_far_outside",
                r"not a results JSON: words\.0\.box\.x: Input should be less than or equal to .*",
                results={"words": [word([2e5, 10, 2e5 + 50, 30])]}),
    report_case("report_results_box_overflow",
                r"not a results JSON: words\.0\.box\.x: .*",
                results={"words": [word({"x": 1e308, "y": 0, "width": 1e308, "height": 5})]}),
    report_case("report_results_words_not_a_list",
                r"not a results JSON: words: Input should be a valid list; fields: .*",
                results={"words": "abc", "fields": "abc"}),
    report_case("report_results_nan_corner",
                r"not a results JSON: words\.0\.corners\.0\.x: Input should be a finite number.*",
                raw_json='{"words": [{"text": "x", "corners": [[NaN, 1], [2, 1], [2, 2], '
                         '[1, 2]]}]}'),
    report_case("report_results_box_outside_image_clamped",
                r"1 word box\(es\) outside the image, drawn clamped to its edges",
                results={"words": [word([-50, 10, 9e4, 30])]}),
    report_case("report_evaluation_without_metrics",
                r"not an evaluation report: metrics: Field required", evaluation={"m": 1}),
    report_case("report_evaluation_wrong_types",
                r"not an evaluation report: metrics\.entity\.per_label\.TOTAL: Input should be "
                r"a valid dictionary.*",
                evaluation={"metrics": {"entity": {"per_label": {"TOTAL": 3}}}}),
    report_case("report_evaluation_nan_f1",
                r"not an evaluation report: metrics\.entity\.f1: Input should be a finite number",
                raw_json=None, evaluation={"metrics": {"entity": {"f1": float("nan")}}}),
    report_case("report_evaluation_mismatch_missing_key",
                r"not an evaluation report: metrics\.sroie_task3\.mismatches\.0\.key: Field "
                r"required",
                evaluation={"metrics": {"sroie_task3": {"mismatches": [{"receipt": "a"}]}}}),
    report_case("report_manifest_size_not_a_number",
                r"not a bundle manifest: total_size_bytes: Input should be a valid integer.*",
                manifest={"export_id": "e", "total_size_bytes": "abc"}),
    report_case("report_training_confusion_not_square",
                r"not a training report: confusion_matrix\.matrix: Value error, must be 2x2, .*",
                training={"confusion_matrix": {"labels": ["A", "B"], "matrix": [[1]]}}),
    *CLI_CASES,
]
