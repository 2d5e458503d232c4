"""Corpus rows (group ``security``): files and artifacts handed to the system that try to make it
read what it must not, adopt what is broken, or crash.

- ``submit`` reads only regular files, up to a size cap, never shows their bytes, refuses what is
  no raster image before uploading anything, and says in one line when S3 cannot be reached;
- a raw photo replaced after submit fails its OCR job;
- ``report`` lists every bad input it did not write as a problem instead of crashing;
- a checkpoint file that is a symlink out of the checkpoint is refused;
- the export worker verifies a published bundle (and its zip) before adopting it, and sweeps
  what killed publishes and exports left;
- promote refuses a manifest that lies about labels, settings or provenance.

Every row also checks that nothing was written outside the stores (the data directory) beyond
what the command is meant to write.
"""

from __future__ import annotations

import io
import json
import os
import socket
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bad_input_harness import Case, Workspace
from cases_checkpoints import tiny_checkpoint
from cases_exports import WORKER, stats
from PIL import Image

G = "security"
EXPORT_ID = "5a1c0d2e-3b4f-4a6b-8c7d-9e0f1a2b3c4d"
OUTSIDE = "outside_before"


# -- "nothing outside the stores" -------------------------------------------------------------


def _outside(ws: Workspace) -> set[str]:
    """Every path under the case's root that is not in the data directory (the stores)."""
    return {p.relative_to(ws.root).as_posix() for p in ws.root.rglob("*")
            if not p.is_relative_to(ws.data_dir)}


def snapshot(setup: Callable[[Workspace], Any]) -> Callable[[Workspace], None]:
    def run(ws: Workspace) -> None:
        setup(ws)
        ws.state[OUTSIDE] = _outside(ws)

    return run


def outside_unchanged(ws: Workspace, *allowed: str) -> None:
    added = _outside(ws) - ws.state.get(OUTSIDE, set()) - set(allowed)
    assert not added, f"written outside the stores: {sorted(added)}"


def store_unchanged(ws: Workspace, before: Any) -> None:
    assert ws.items() == before, "the store changed although the input was refused"
    outside_unchanged(ws)


def case(name: str, command: Any, message: str, *, exit_code: int = 2,
         setup: Callable[[Workspace], Any] = lambda ws: None,
         check: Callable[[Workspace, Any], None] = store_unchanged,
         needs: tuple[str, ...] = ()) -> Case:
    return Case(name=name, group=G, setup=snapshot(setup), command=command,
                exit_code=exit_code, message=message, check=check, needs=needs)


# -- submit -------------------------------------------------------------------------------------


def _settings(ws: Workspace, **overrides: Any) -> Any:
    from receipt_cloud.settings import resolve_settings

    return resolve_settings("local", data_dir=ws.data_dir, environ={}, overrides=overrides)


def jpeg(colour: str = "white") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 200), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def submit(path: str, **overrides: Any) -> Callable[[Workspace], Any]:
    def command(ws: Workspace) -> Any:
        from receipt_cloud.ocr_submit import submit_settings

        return submit_settings([path.format(root=ws.root)], _settings(ws, **overrides))

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

    [submission] = submit_settings([ws.write("photo.jpg", jpeg())], _settings(ws))
    raw = _settings(ws).open_objects("raw")
    raw.put_bytes(submission.s3_key, jpeg("black"))  # swapped behind the record's back
    ws.state["submission"] = submission


def run_submitted_job(ws: Workspace) -> Any:
    from receipt_ocr.engines import get_engine
    from receipt_ocr.job import OcrJobServices, process_ocr_job
    from receipt_ocr.model_cache import FixedModel

    settings = _settings(ws)
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

        settings = _settings(ws)
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


# -- symlinks in checkpoints --------------------------------------------------------------------


def linked_tokenizer_config(ws: Workspace) -> None:
    directory = tiny_checkpoint(ws)
    secret = ws.write("secret.json", json.dumps({"aws_secret_access_key": "not-for-a-bundle"}))
    (directory / "tokenizer_config.json").unlink()
    (directory / "tokenizer_config.json").symlink_to(secret)


def linked_run_best(ws: Workspace) -> None:
    run = ws.path("runs/layoutlm-a")
    ws.write("runs/layoutlm-a/checkpoint-5/model.safetensors", b"weights")
    ws.write("runs/layoutlm-a/checkpoint-5/config.json", "{}")
    ws.write("runs/layoutlm-a/best/label_map.json", '{"labels": ["O"]}')
    secret = ws.write("secret.json", '{"token": "not-for-a-bundle"}')
    (run / "best" / "tokenizer_config.json").symlink_to(secret)


def complete_linked(ws: Workspace) -> Any:
    from receipt_layoutlm.export_worker.source import complete_checkpoint

    work = ws.path("work")
    work.mkdir(exist_ok=True)
    return complete_checkpoint(str(ws.path("runs/layoutlm-a/checkpoint-5")), work)


def nothing_copied(ws: Workspace, before: Any) -> None:
    assert ws.items() == before
    copied = [p for p in ws.path("work").rglob("*") if p.is_file()]
    assert copied == [], f"copied out of a linked checkpoint: {copied}"
    outside_unchanged(ws, "work")


def nothing_exported(ws: Workspace, before: Any) -> None:
    assert not ws.path("out").exists(), "the refused export left a bundle behind"
    store_unchanged(ws, before)


# -- verify-then-adopt --------------------------------------------------------------------------


def _bundle_dir(ws: Workspace) -> Path:
    return ws.data_dir / "objects" / "bundles" / "layoutlm-a" / EXPORT_ID


def published(damage: Callable[[Path], None]) -> Callable[[Workspace], None]:
    """A bundle export EXPORT_ID published earlier (then damaged), its zip, a queued message for
    the same export whose checkpoint is gone, and the worker's scratch root in the case dir."""

    def setup(ws: Workspace) -> None:
        from receipt_layoutlm.export.manifest import write_manifest
        from receipt_layoutlm.export.publish import zip_dir

        target = _bundle_dir(ws)
        target.mkdir(parents=True)
        (target / "vocab.txt").write_text("[PAD]\n[UNK]\n")
        (target / "label_map.json").write_text('{"labels": ["O"]}')
        write_manifest(target, {"export_id": EXPORT_ID, "parity": {"passed": True},
                                "training_job": {"job_name": "layoutlm-a"}})
        zip_dir(target, target.parent / f"{EXPORT_ID}.zip")
        damage(target)
        work = ws.path("work")
        work.mkdir()
        os.environ["RECEIPTS_EXPORT_WORK_DIR"] = str(work)
        ws.cleanups.append(lambda: os.environ.pop("RECEIPTS_EXPORT_WORK_DIR", None))
        settings = _settings(ws)
        settings.open_queue("coreml_export_jobs").send({
            "export_id": EXPORT_ID, "job_id": "layoutlm-a", "quantize": "float16",
            "model_s3_uri": settings.open_objects("runs").uri("runs/layoutlm-a/best"),
            "output_s3_prefix": settings.open_objects("bundles").uri(
                f"bundles/layoutlm-a/{EXPORT_ID}")})

    return setup


def truncate_zip(target: Path) -> None:
    path = target.parent / f"{EXPORT_ID}.zip"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def corrupt_vocab(target: Path) -> None:
    (target / "vocab.txt").write_text("[PAD]\n[EVIL]\n")


def killed_publish_and_export(target: Path) -> None:
    corrupt_vocab(target)
    partial = target.parent / f".{EXPORT_ID}.partial-deadbeef"
    partial.mkdir()
    (partial / "model.onnx").write_bytes(b"half a model")
    (target.parent / f".{EXPORT_ID}.zip.partial-cafe0123").write_bytes(b"PK half")


def dead_pid() -> int:
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid += 1


def with_dead_scratch(setup: Callable[[Workspace], None]) -> Callable[[Workspace], None]:
    def run(ws: Workspace) -> None:
        setup(ws)
        scratch = ws.path(f"work/{dead_pid()}-{EXPORT_ID}/bundle")
        scratch.mkdir(parents=True)
        (scratch / "model.onnx").write_bytes(b"x" * 1024)

    return run


def _export(ws: Workspace) -> Any:
    return _settings(ws).open_store().get_export_job(EXPORT_ID)


def zip_rebuilt(ws: Workspace, _before: Any) -> None:
    from receipt_layoutlm.export.manifest import verify_bundle, verify_zip

    export = _export(ws)
    assert export.status.value == "SUCCEEDED", export
    target = _bundle_dir(ws)
    assert verify_bundle(target).ok
    manifest = json.loads((target / "manifest.json").read_text())
    assert verify_zip(target.parent / f"{EXPORT_ID}.zip", manifest) == []
    assert zipfile.is_zipfile(target.parent / f"{EXPORT_ID}.zip")
    outside_unchanged(ws, "work")
    assert list(ws.path("work").iterdir()) == [], "the worker left scratch files"


def not_adopted(ws: Workspace, _before: Any) -> None:
    export = _export(ws)
    assert export.status.value == "FAILED" and "does not exist" in export.error_message
    assert not _bundle_dir(ws).exists(), "the bundle that did not verify is still published"
    assert not (_bundle_dir(ws).parent / f"{EXPORT_ID}.zip").exists()
    assert [p.name for p in _bundle_dir(ws).parent.iterdir()] == []
    outside_unchanged(ws, "work")
    assert list(ws.path("work").iterdir()) == [], "scratch of a killed export is still there"


# -- manifests that lie -------------------------------------------------------------------------


def stored_bundle(*, job: str = "layoutlm-good", folder: str = "e1",
                  labels: list[str] | None = None,
                  config_labels: list[str] | None = None, manifest: dict[str, Any] | None = None,
                  config_export: dict[str, Any] | None = None) -> Callable[[Workspace], None]:
    """A bundle at ``bundles/<job>/e1`` of the data dir whose files agree with each other and
    whose manifest lists them honestly, but says ``manifest``."""

    def setup(ws: Workspace) -> None:
        from receipt_layoutlm.checkpoint import label_map
        from receipt_layoutlm.export.manifest import write_manifest

        true_labels = ["O", "B-GRAND_TOTAL", "I-GRAND_TOTAL"]
        target = ws.data_dir / "objects" / "bundles" / job / folder
        target.mkdir(parents=True)
        (target / "label_map.json").write_text(json.dumps(label_map(true_labels)))
        id2label = dict(enumerate(config_labels or true_labels))
        (target / "config.json").write_text(json.dumps({
            "id2label": {str(k): v for k, v in id2label.items()},
            "export": {"quantize": "float16", "seq_length": 512, **(config_export or {})}}))
        fields = {"export_id": folder, "parity": {"passed": True},
                  "labels": labels or true_labels,
                  "quantize": "float16", "seq_length": 512,
                  "training_job": {"job_name": "layoutlm-good", "job_id": "layoutlm-good"},
                  "source_checkpoint": "file:///srv/objects/runs/layoutlm-good/best"}
        write_manifest(target, {**fields, **(manifest or {})})

    return setup


def with_records(setup: Callable[[Workspace], None], *, job_labels: list[str] | None = None,
                 export_quantize: str | None = None) -> Callable[[Workspace], None]:
    """``setup`` plus this stack's records of the bundle: its training Job (with the tag list it
    recorded) and/or its export."""

    def run(ws: Workspace) -> None:
        import uuid

        from receipt_dynamo import CoreMLExportJob, Job

        setup(ws)
        store = _settings(ws).open_store()
        if job_labels is not None:
            store.add_job(Job(job_id=str(uuid.uuid4()), name="layoutlm-good",
                              job_config={"labels": job_labels}))
        if export_quantize is not None:
            store.add_export_job(CoreMLExportJob(
                export_id=EXPORT_ID, job_id="layoutlm-good", quantize=export_quantize,
                model_s3_uri="file:///srv/objects/runs/layoutlm-good/best",
                output_s3_prefix=f"file:///srv/objects/bundles/layoutlm-good/{EXPORT_ID}"))

    return run


def nothing_promoted(ws: Workspace, before: Any) -> None:
    assert not (ws.data_dir / "objects" / "bundles" / "active.json").exists()
    store_unchanged(ws, before)


def promote_case(name: str, setup: Callable[[Workspace], None], message: str,
                 job: str = "layoutlm-good") -> Case:
    return case(name, ["promote", f"{{data}}/objects/bundles/{job}/e1"],
                rf"error: bundle \S+ does not match its manifest: {message}; re-download or "
                r"re-export it", setup=setup, check=nothing_promoted)


# -- what a new user hit (group cli): errors name commands; nothing to train on --------------


def other_job(ws: Workspace) -> None:
    import uuid

    from receipt_dynamo import Job

    _settings(ws).open_store().add_job(Job(job_id=str(uuid.uuid4()), name="layoutlm-other"))


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
         message=r"error: \S+/huge\.jpg is over the submit limit of 52,428,800 bytes "
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
    case("export_checkpoint_tokenizer_config_links_outside",
         ["export-coreml", "--checkpoint-dir", "{root}/ckpt", "--output-dir", "{root}/out",
          "--formats", "onnx", "--seq-length", "16"],
         r"error: checkpoint \S+ckpt: tokenizer_config\.json is a symlink to a file outside the "
         r"checkpoint; refused \(copy the real file in instead\)",
         setup=linked_tokenizer_config, check=nothing_exported),
    case("export_worker_run_best_links_outside", complete_linked,
         r"error: run best/ \S+best: tokenizer_config\.json is a symlink to a file outside the "
         r"run best/; refused .*", setup=linked_run_best, check=nothing_copied),
    case("export_worker_truncated_zip_not_adopted", WORKER, stats(succeeded=1, failed=0),
         exit_code=0, setup=published(truncate_zip), check=zip_rebuilt),
    case("export_worker_corrupt_bundle_not_adopted", WORKER, stats(failed=1, succeeded=0),
         exit_code=0, setup=published(corrupt_vocab), check=not_adopted),
    case("export_worker_sweeps_partials_and_scratch", WORKER, stats(failed=1, succeeded=0),
         exit_code=0, setup=with_dead_scratch(published(killed_publish_and_export)),
         check=not_adopted),
    promote_case("promote_manifest_labels_lie",
                 stored_bundle(labels=["O", "B-MERCHANT_NAME", "I-MERCHANT_NAME"]),
                 r"manifest labels disagree with label_map\.json; manifest labels disagree with "
                 r"config\.json id2label"),
    promote_case("promote_config_labels_disagree",
                 stored_bundle(config_labels=["O", "B-TAX", "I-TAX"]),
                 r"manifest labels disagree with config\.json id2label"),
    promote_case("promote_manifest_quantize_lie", stored_bundle(config_export={"quantize": "int8"}),
                 r"manifest quantize 'float16' disagrees with config\.json"),
    promote_case("promote_manifest_other_job", stored_bundle(job="layoutlm-evil"),
                 r"manifest training job \['layoutlm-good'\] is not the bundle's job folder "
                 r"'layoutlm-evil'", job="layoutlm-evil"),
    promote_case("promote_manifest_checkpoint_of_other_run",
                 stored_bundle(manifest={"source_checkpoint": "s3://b/runs/layoutlm-evil/best"}),
                 r"manifest source_checkpoint is in run 'layoutlm-evil', not the training job "
                 r"\['layoutlm-good'\]"),
    case("promote_manifest_labels_not_the_jobs",
         ["promote", "{data}/objects/bundles/layoutlm-good/e1"],
         r"error: bundle \S+: its manifest contradicts the records: manifest labels are not the "
         r"ones training Job 'layoutlm-good' recorded; re-export it",
         setup=with_records(stored_bundle(), job_labels=["O", "B-TAX", "I-TAX"]),
         check=nothing_promoted),
    case("promote_manifest_quantize_not_the_exports",
         ["promote", f"{{data}}/objects/bundles/layoutlm-good/{EXPORT_ID}"],
         rf"error: bundle \S+: its manifest contradicts the records: export {EXPORT_ID} was "
         r"recorded as int8, the manifest says 'float16'; re-export it",
         setup=with_records(stored_bundle(folder=EXPORT_ID), export_quantize="int8"),
         check=nothing_promoted),
    *CLI_CASES,
]
