"""Corpus rows: what a user can hand the labelling side — files given to ``receipt-ocr submit``
(refused before anything is stored) and images or messages the worker receives (the OCRJob ends
FAILED with the one-line reason; nothing else is written)."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable
from typing import Any

from bad_input_harness import Case, Workspace
from PIL import Image

from receipt_cloud.objects.local import LocalObjectStore

G = "ocr"
IMAGE_ID = "6b1d3c2e-1a4f-4e0b-9c7d-2f3e4a5b6c7d"
JOB_ID = "0e9f8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"


def _jpeg(size: tuple[int, int] = (400, 400)) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _bomb() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (12000, 12000), 1).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _engine(name: str, language: str) -> Any:
    from receipt_ocr.engines import build_engine

    return build_engine(name, language)


def _ocr_loop(**changes: Any) -> Any:
    """The loop settings ``receipt-ocr --max-receives/--visibility-timeout`` build (the CLI
    prints this error as its one line, before anything loads)."""
    from receipt_ocr.options import ocr_loop

    return ocr_loop(**changes)


def _settings(ws: Workspace) -> Any:
    from receipt_cloud.settings import resolve_settings

    return resolve_settings("local", data_dir=ws.data_dir)


def submitting(name: str, data: bytes) -> Callable[[Workspace], Any]:
    def command(ws: Workspace) -> Any:
        from receipt_cloud.ocr_submit import submit_settings

        return submit_settings([ws.write(name, data)], _settings(ws))

    return command


def _objects(ws: Workspace) -> LocalObjectStore:
    return LocalObjectStore(ws.root / "objects")


def queued_job(data: bytes | None) -> Callable[[Workspace], None]:
    """An OCRJob whose image (``raw/x.jpg``) holds ``data`` (None: no object at all)."""

    def setup(ws: Workspace) -> None:
        from receipt_dynamo import OCRJob

        if data is not None:
            _objects(ws).put_bytes("raw/x.jpg", data)
        store = ws.open_store()
        store.add_ocr_job(OCRJob(image_id=IMAGE_ID, job_id=JOB_ID,
                                 s3_bucket=str(_objects(ws).root), s3_key="raw/x.jpg"))
        store.close()

    return setup


def working(body: Any) -> Callable[[Workspace], Any]:
    """The worker's per-job function on ``body`` (stub OCR; the model is never reached)."""

    def command(ws: Workspace) -> Any:
        from receipt_ocr.engines import get_engine
        from receipt_ocr.job import OcrJobServices, process_ocr_job
        from receipt_ocr.model_cache import FixedModel

        settings = _settings(ws)
        services = OcrJobServices(
            store=ws.open_store(), results_queue=settings.open_queue("ocr_results"),
            engine=get_engine("stub"), models=FixedModel(ws.root / "no-model"),
        )
        return process_ocr_job(body, services)

    return command


JOB_MESSAGE = {"image_id": IMAGE_ID, "job_id": JOB_ID}


def failed_with(reason_start: str) -> Callable[[Workspace, Any], None]:
    """The OCRJob is FAILED with this reason, its routing decision FAILED, and nothing else
    (no receipt, no results object, no results message) was written."""

    def check(ws: Workspace, _before: Any) -> None:
        store = ws.open_store()
        try:
            job = store.get_ocr_job(IMAGE_ID, JOB_ID)
            assert job.status.value == "FAILED", job
            assert (job.failure_reason or "").startswith(reason_start), job.failure_reason
            assert store.get_routing_decision(IMAGE_ID, JOB_ID).status.value == "FAILED"
            assert store.list_receipts() == []
        finally:
            store.close()
        assert not [k for k in _objects(ws).list("") if not k.startswith("raw/")]
        assert _settings(ws).open_queue("ocr_results").receive(max_messages=1) == []

    return check


def opening_local(name: str, data: bytes | None) -> Callable[[Workspace], Any]:
    """``--process-local-image``'s first step on ``name`` (None: no such file; b"/": a
    directory), which runs before any engine or model is loaded."""

    def command(ws: Workspace) -> Any:
        from receipt_ocr.local_image import open_local_image

        if data == b"/":
            (ws.root / name).mkdir()
        elif data is not None:
            ws.write(name, data)
        return open_local_image(ws.root / name)

    return command


def job_case(name: str, data: bytes | None, message: str, reason: str) -> Case:
    return Case(name=name, group=G, setup=queued_job(data), command=working(JOB_MESSAGE),
                exit_code=2, message=rf"error: {message}", check=failed_with(reason))


CASES = [
    Case(name="submit_empty_file", group=G, command=submitting("empty.jpg", b""), exit_code=2,
         message=r"error: \S*empty\.jpg is empty \(0 bytes\); nothing was registered"),
    Case(name="submit_text_file", group=G, command=submitting("notes.jpg", b"TOTAL 9.00\n"),
         exit_code=2, message=r"error: \S*notes\.jpg is not a readable image \(11 bytes; "
         r"no JPEG, PNG, .*; its contents are not shown\); nothing was registered"),
    Case(name="submit_pdf", group=G, command=submitting("scan.jpg", b"%PDF-1.4\n%\xe2\xe3\n"),
         exit_code=2, message=r"error: \S*scan\.jpg is not a readable image .*"),
    job_case("job_image_empty", b"", r"image raw/x\.jpg is empty \(0 bytes\); upload .*",
             "image raw/x.jpg is empty (0 bytes)"),
    job_case("job_image_not_an_image", b"<html>hello</html>",
             r"image raw/x\.jpg is not an image Pillow can read \(18 bytes; .*",
             "image raw/x.jpg is not an image Pillow can read"),
    job_case("job_image_truncated", _jpeg()[:3000],
             r"image raw/x\.jpg is truncated or corrupt \(JPEG, 400x400\): .*",
             "image raw/x.jpg is truncated or corrupt"),
    job_case("job_image_decompression_bomb", _bomb(),
             r"image raw/x\.jpg is 12000x12000 = 144,000,000 pixels, over the limit of "
             r"60,000,000 .*", "image raw/x.jpg is 12000x12000"),
    job_case("job_image_missing", None, r"object not found: file://\S*/raw/x\.jpg; .*",
             "object not found"),
    Case(name="local_image_missing", group=G, command=opening_local("gone.jpg", None),
         exit_code=2,
         message=r"error: cannot read \S*gone\.jpg: No such file or directory; nothing was "
                 r"written"),
    Case(name="local_image_is_a_directory", group=G, command=opening_local("photos", b"/"),
         exit_code=2,
         message=r"error: \S*photos is a directory, not a regular file; nothing was written"),
    Case(name="local_image_not_an_image", group=G,
         command=opening_local("notes.jpg", b"TOTAL 9.00\n"), exit_code=2,
         message=r"error: \S*notes\.jpg is not an image Pillow can read \(11 bytes; its "
                 r"contents are not shown\); .*"),
    Case(name="local_image_truncated", group=G, command=opening_local("cut.jpg", _jpeg()[:3000]),
         exit_code=2, message=r"error: \S*cut\.jpg is truncated or corrupt \(JPEG, 400x400\): .*"),
    Case(name="job_message_not_json", group=G, command=working("{image_id: 1"), exit_code=2,
         message=r"error: OCR job message is not JSON \(.*\): '\{image_id: 1'"),
    Case(name="job_message_without_ids", group=G, command=working(json.dumps({"job": 1})),
         exit_code=2,
         message=r"error: OCR job message needs string \"image_id\" and \"job_id\", got \['job'\]"),
    Case(name="engine_language_not_installed", group=G,
         command=lambda ws: _engine("tesseract", "klingon"), exit_code=2,
         message=r"error: Tesseract has none of the languages 'klingon' installed \(it has "
         r".*eng.*\); install tesseract-ocr-eng"),
    Case(name="engine_language_for_stub", group=G,
         command=lambda ws: _engine("stub", "eng"), exit_code=2,
         message=r"error: --ocr-language eng applies to the tesseract engine, not 'stub'"),
    Case(name="ocr_worker_max_receives_zero", group=G,
         command=lambda ws: _ocr_loop(max_receives=0), exit_code=2,
         message=r"error: max_receives must be >= 1 or None, got 0"),
    Case(name="ocr_worker_visibility_timeout_zero", group=G,
         command=lambda ws: _ocr_loop(visibility_timeout=0), exit_code=2,
         message=r"error: visibility_timeout must be 1\.\.43200 s, got 0"),
    Case(name="job_unknown", group=G,
         command=working({"image_id": str(uuid.UUID(int=1)), "job_id": str(uuid.UUID(int=2))}),
         exit_code=2, message=r"error: no OCRJob 00000000-0000-0000-0000-000000000002 for "
         r"image 00000000-0000-0000-0000-000000000001: .*"),
]
