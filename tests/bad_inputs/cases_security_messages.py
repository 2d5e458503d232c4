"""Corpus rows, group ``security``: messages and payloads that try to steer a write or a read
outside the stores, rewrite a finished export, or flood a log.

Export worker rows run ``layoutlm-cli export-worker`` on one message; their ``message`` is the
worker's log line for it (captured with the output, every line checked for a traceback and for
its length), and their check asserts where things stand afterwards: the export FAILED with the
reason (or untouched), nothing under the escaped path, no bundle anywhere, the message deleted.
"""

from __future__ import annotations

import io
import json
import logging
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bad_input_harness import Case, Workspace
from cases_exports import WORKER, in_stores
from cases_lambdas import start
from cases_ocr import _jpeg

G = "security"
EXPORT_ID = "0d6f1c8a-7d3e-4c1b-9a53-2f7e8b6a4c10"
OTHER_ID = "9b1e4a77-31c2-4f0e-8d5a-6c3b2a1f0e99"
HUGE = "j" * 250_000
MESSAGE = {
    "export_id": EXPORT_ID,
    "job_id": "layoutlm-a",
    "model_s3_uri": "{objects}/runs/layoutlm-a/best",
    "quantize": "float16",
    "output_s3_prefix": f"{{objects}}/bundles/layoutlm-a/{EXPORT_ID}",
}
MAX_LINE = 2_000
"""No output or log line of a row may be longer (a 250 KB id is never repeated whole)."""


def _objects(ws: Workspace) -> Path:
    return ws.data_dir / "objects"


def _filled(ws: Workspace, body: dict[str, Any]) -> dict[str, Any]:
    return {k: v.replace("{root}", str(ws.root)) if isinstance(v, str) else v
            for k, v in in_stores(ws, body).items()}


def logged(command: Callable[[Workspace], object]) -> Callable[[Workspace], str]:
    """``command`` with every log line (INFO and up) it writes added to its output, each line
    checked for a traceback and for length."""

    def run(ws: Workspace) -> str:
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.setLevel(logging.INFO)
        root = logging.getLogger()
        old_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            output = command(ws)
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
        text = f"{output if output is not None else ''}\n{stream.getvalue()}"
        assert "Traceback" not in text, f"a traceback was logged:\n{text[:4000]}"
        longest = max((len(line) for line in text.splitlines()), default=0)
        assert longest <= MAX_LINE, f"a {longest}-character line was logged or printed"
        return text.strip()

    return run


def _worker(ws: Workspace) -> str:
    argv = [*WORKER, "--data-dir", str(ws.data_dir)]
    code, out, err = ws.cli(*argv)
    assert code == 0, err
    return out + err


WORKER_LOGGED = logged(_worker)


def queued(body: Any, prepare: Callable[[Workspace], None] = lambda ws: None):
    def setup(ws: Workspace) -> None:
        prepare(ws)
        message = _filled(ws, body) if isinstance(body, dict) else body
        ws.settings().open_queue("coreml_export_jobs").send(message)

    return setup


def _outside(ws: Workspace) -> Path:
    return ws.root / "outside"


def _make_outside(ws: Workspace) -> None:
    _outside(ws).mkdir(parents=True, exist_ok=True)
    (_outside(ws) / "keep.txt").write_text("not yours")


def _link_into_bundles(ws: Workspace) -> None:
    _make_outside(ws)
    (_objects(ws) / "bundles").mkdir(parents=True, exist_ok=True)
    os.symlink(_outside(ws), _objects(ws) / "bundles" / "link")


def _best_checkpoint(ws: Workspace) -> None:
    best = _objects(ws) / "runs" / "layoutlm-a" / "best"
    best.mkdir(parents=True, exist_ok=True)
    (best / "config.json").write_text("{}")


def _best_above_the_store(ws: Workspace) -> None:
    """A weights-only checkpoint at the store's top, and a ``best/`` (label map and all) in the
    directory above the store, where walking up from the checkpoint would find it."""
    _make_outside(ws)
    step = _objects(ws) / "checkpoint-7"
    step.mkdir(parents=True)
    (step / "config.json").write_text("{}")
    planted = ws.data_dir / "best"
    planted.mkdir(parents=True)
    (planted / "label_map.json").write_text('{"labels": ["O"]}')


def _nothing_written_outside(ws: Workspace) -> None:
    outside = _outside(ws)
    if outside.exists():
        assert sorted(p.name for p in outside.iterdir()) == ["keep.txt"]
    bundles = _objects(ws) / "bundles"
    manifests = [p for p in bundles.rglob("manifest.json")] if bundles.is_dir() else []
    assert manifests == [], manifests
    leaked = [p for p in ws.root.rglob("*") if p.name.startswith(("escaped", EXPORT_ID))]
    assert leaked == [], leaked
    best = _objects(ws) / "runs" / "layoutlm-a" / "best"
    if best.exists():
        assert sorted(p.name for p in best.iterdir()) == ["config.json"]


def failed(reason: str, job_id: str = "layoutlm-a") -> Callable[[Workspace, Any], None]:
    """The export is FAILED with ``reason`` in its record (stored job_id ``job_id``), its
    result was sent, the message deleted, and nothing was written outside the stores."""

    def check(ws: Workspace, _before: Any) -> None:
        settings = ws.settings()
        export = settings.open_store().get_export_job(EXPORT_ID)
        assert export.status.value == "FAILED", export
        assert reason in export.error_message, export.error_message
        assert export.job_id == job_id
        [result] = settings.open_queue("coreml_export_results").receive(wait_seconds=0.2)
        assert result.json()["status"] == "FAILED"
        assert settings.open_queue("coreml_export_jobs").purge() == 0
        _nothing_written_outside(ws)

    return check


def untouched(ws: Workspace, before: Any) -> None:
    """The store is as it was, the message deleted, nothing written outside the stores."""
    assert ws.items() == before
    assert ws.settings().open_queue("coreml_export_jobs").purge() == 0
    _nothing_written_outside(ws)


REFUSED_LINE = rf"ERROR receipt_cloud\.worker: message \S+: failed permanently: export {EXPORT_ID}"


def export_case(name: str, changes: dict[str, Any], reason: str, message: str, *,
                prepare: Callable[[Workspace], None] = _make_outside,
                job_id: str = "layoutlm-a") -> Case:
    return Case(name=f"export_message_{name}", group=G, setup=queued(MESSAGE | changes, prepare),
                command=WORKER_LOGGED, exit_code=0,
                message=REFUSED_LINE + " FAILED: bad export message: " + message,
                check=failed(reason, job_id))  # fmt: skip


def _pending_record(ws: Workspace) -> None:
    """auto-export's PENDING export for the run's best checkpoint."""
    from receipt_cloud.exports import ExportRequest, create_pending_export

    _make_outside(ws)
    body = _filled(ws, MESSAGE)
    create_pending_export(ws.settings().open_store(), ExportRequest.parse(body))


def _finished_record(status: str) -> Callable[[Workspace], None]:
    def setup(ws: Workspace) -> None:
        from receipt_cloud.exports import ExportRequest, claim_export, finish_export
        from receipt_dynamo import Job, JobStatus

        store = ws.settings().open_store()
        store.add_job(Job(job_id=str(uuid.uuid4()), name="layoutlm-a",
                          status=JobStatus.SUCCEEDED, results={}))
        request = ExportRequest.parse(_filled(ws, MESSAGE))
        claim_export(store, request, stale_after=60)
        fields = ({"bundle_s3_uri": request.bundle_uri, "model_size_bytes": 1000}
                  if status == "SUCCEEDED" else {"error_message": "parity refused"})
        finish_export(store, EXPORT_ID, status=status, **fields)

    return setup


def result(changes: dict[str, Any]) -> Callable[[Workspace], str]:
    """The export results Lambda on one result message for the export (its record's result
    with ``changes``); the output names the records it reports as failed."""

    def command(ws: Workspace) -> str:
        from receipt_cloud.exports import result_of
        from receipt_cloud.handlers import export_results

        settings = ws.settings()
        record = settings.open_store().get_export_job(EXPORT_ID)
        body = result_of(record) | {k: v.replace("{root}", str(ws.root))
                                    if isinstance(v, str) else v for k, v in changes.items()}
        event = {"Records": [{"messageId": "m-forged", "body": json.dumps(body)}]}
        failures = export_results.handler(event, None, settings=settings)["batchItemFailures"]
        return "batchItemFailures: " + ",".join(f["itemIdentifier"] for f in failures)

    return logged(command)


def result_case(name: str, status: str, changes: dict[str, Any], message: str) -> Case:
    return Case(name=f"export_result_{name}", group=G, setup=_finished_record(status),
                command=result(changes), exit_code=0,
                message=r"ERROR receipt_cloud\.handlers\.export_results: result message "
                        rf"m-forged not applied: {message}")  # fmt: skip


def _corrupt_queues(ws: Workspace) -> None:
    ws.data_dir.mkdir(parents=True, exist_ok=True)
    (ws.data_dir / "queues.sqlite3").write_bytes(b"SQLite format 3\x00" + os.urandom(4000))


def _submit_photo(ws: Workspace) -> Any:
    from receipt_cloud.ocr_submit import submit_settings

    return submit_settings([ws.write("photo.jpg", _jpeg())], ws.settings())


def _no_raw_objects(ws: Workspace, before: Any) -> None:
    assert ws.items() == before
    assert not (_objects(ws) / "raw").exists()


def _ocr_job(body: Any) -> Callable[[Workspace], Any]:
    def command(ws: Workspace) -> Any:
        from receipt_ocr.job import parse_job_message

        return parse_job_message(body)

    return command


QUEUE_FILE = r"error: local queue file \S+queues\.sqlite3 is unreadable \(file is not a database\)"
DEEP = "[" * 100_000 + "]" * 100_000
IN_STORE = "it must stay inside file://\\S+/objects"

CASES = [
    # -- class 1: the export message chooses where the worker writes and reads ---------------
    export_case("output_outside_the_stores", {"output_s3_prefix": f"file://{{root}}/outside/{EXPORT_ID}"},
                "output_s3_prefix", rf"output_s3_prefix 'file://\S+/outside/{EXPORT_ID}' is "
                rf"refused: it is outside the store's directory; {IN_STORE}"),
    export_case("output_dot_dot_escape",
                {"output_s3_prefix": f"{{objects}}/bundles/../../escaped/{EXPORT_ID}"},
                "'..' segment", r"output_s3_prefix '\S+/bundles/\.\./\.\./escaped/\S+' is "
                rf"refused: it has a '\.\.' segment; {IN_STORE}"),
    export_case("output_percent_encoded_escape",
                {"output_s3_prefix": f"{{objects}}/bundles/%2e%2e/%2E%2E/escaped/{EXPORT_ID}"},
                "percent-encodes", r"output_s3_prefix '\S+' is refused: it percent-encodes a "
                rf"'\.', '/', '\\' or control character; {IN_STORE}"),
    export_case("output_backslash_escape",
                {"output_s3_prefix": f"{{objects}}/bundles\\..\\..\\escaped\\{EXPORT_ID}"},
                "backslash", rf"output_s3_prefix '\S+' is refused: it contains a backslash; "
                rf"{IN_STORE}"),
    export_case("output_symlink_out_of_the_store",
                {"output_s3_prefix": f"{{objects}}/bundles/link/{EXPORT_ID}"}, "symlink",
                r"output_s3_prefix '\S+/bundles/link/\S+' is refused: it leaves the store's "
                rf"directory through a symlink; {IN_STORE}", prepare=_link_into_bundles),
    export_case("output_over_the_checkpoint",
                {"output_s3_prefix": "{objects}/runs/layoutlm-a/best"}, "not under bundles/",
                r"output_s3_prefix '\S+/runs/layoutlm-a/best' is refused: it is not under "
                r"bundles/ or the seed's coreml/<job>/ in that store",
                prepare=_best_checkpoint),
    export_case("output_into_another_jobs_seed_folder",
                {"output_s3_prefix": "{objects}/coreml/layoutlm-b/"}, "coreml/layoutlm-a/",
                r"output_s3_prefix '\S+/coreml/layoutlm-b/' is refused: under coreml/ only the "
                r"job's own folder coreml/layoutlm-a/ is written"),
    export_case("output_over_the_seed_mirror",
                {"output_s3_prefix": "{objects}/coreml/LayoutLM.mlpackage"}, "coreml/layoutlm-a/",
                r"output_s3_prefix '\S+/coreml/LayoutLM\.mlpackage' is refused: under coreml/ "
                r"only the job's own folder coreml/layoutlm-a/ is written"),
    export_case("output_into_another_export",
                {"output_s3_prefix": f"{{objects}}/bundles/layoutlm-a/{OTHER_ID}"},
                "is not the export id", rf"output_s3_prefix '\S+/{OTHER_ID}' is refused: its "
                rf"last folder is not the export id {EXPORT_ID} \(bundles/<job>/<export_id>\)"),
    export_case("output_foreign_bucket",
                {"output_s3_prefix": f"s3://someone-elses-bucket/bundles/x/{EXPORT_ID}"},
                "scheme is not this store's", r"output_s3_prefix 's3://someone-elses-bucket/\S+'"
                rf" is refused: its scheme is not this store's \(a local path or file:///\); "
                rf"{IN_STORE}"),
    export_case("model_outside_the_stores", {"model_s3_uri": "file:///etc"},
                "model_s3_uri", r"model_s3_uri 'file:///etc' is refused: it is outside the "
                rf"store's directory; {IN_STORE}"),
    export_case("model_foreign_bucket",
                {"model_s3_uri": "s3://someone-elses-bucket/runs/x/best"}, "model_s3_uri",
                r"model_s3_uri 's3://someone-elses-bucket/runs/x/best' is refused: its scheme "
                rf"is not this store's \(a local path or file:///\); {IN_STORE}"),
    export_case("model_relative_path", {"model_s3_uri": "runs/layoutlm-a/best"},
                "relative path", r"model_s3_uri 'runs/layoutlm-a/best' is refused: it is a "
                rf"relative path; send an absolute path or a file:/// URI; {IN_STORE}"),
    Case(name="export_message_run_best_above_the_store", group=G,
         setup=queued(MESSAGE | {"model_s3_uri": "{objects}/checkpoint-7"}, _best_above_the_store),
         command=WORKER_LOGGED, exit_code=0, check=failed("no run best/ was found above it"),
         message=REFUSED_LINE + r" FAILED: checkpoint \S+/objects/checkpoint-7 has no "
                 r"label_map\.json and no run best/ was found above it to take one from; .*"),
    export_case("job_id_path_escape", {"job_id": "../../escaped"}, "is not a Job name or id",
                r"job_id '\.\./\.\./escaped' is not a Job name or id: use 1-63 letters, digits, "
                r"'\.', '_' or '-' \(the CLI's name rule\)", job_id="unknown-job"),
    export_case("job_id_250kb", {"job_id": HUGE}, "(250000 characters)",
                r"job_id 'jjj+\.\.\. \(250000 characters\) is not a Job name or id: .*",
                job_id="unknown-job"),
    Case(name="export_message_export_id_250kb", group=G,
         setup=queued(MESSAGE | {"export_id": HUGE}), command=WORKER_LOGGED, exit_code=0,
         message=r"ERROR receipt_cloud\.worker: message \S+ \(receive 1\): unexpected failure, "
                 r"released for redelivery: bad export message: export_id 'jjj+\.\.\. "
                 r"\(250000 characters\) is not a UUID"),
    Case(name="export_message_forged_for_a_pending_export", group=G,
         setup=queued(MESSAGE | {"model_s3_uri": "{objects}/runs/layoutlm-b/best"},
                      _pending_record),
         command=WORKER_LOGGED, exit_code=0, check=untouched,
         message=REFUSED_LINE + r": message refused, its model_s3_uri differ from the PENDING "
                 r"export's record, which is left as it is"),
    # -- class 4: a late or forged result rewrites a finished export ---------------------------
    result_case("replaces_a_succeeded_bundle", "SUCCEEDED",
                {"bundle_s3_uri": "file://{root}/outside/evil", "model_size_bytes": 1},
                rf"export {EXPORT_ID} is SUCCEEDED already; a SUCCEEDED result that differs "
                r"from its record is refused \(a finished export's record never changes\)"),
    result_case("fails_a_succeeded_export", "SUCCEEDED",
                {"status": "FAILED", "error_message": "late"},
                rf"export {EXPORT_ID} is SUCCEEDED already; a FAILED result .*"),
    result_case("revives_a_failed_export", "FAILED",
                {"status": "SUCCEEDED", "error_message": None,
                 "bundle_s3_uri": "file://{root}/outside/evil"},
                rf"export {EXPORT_ID} is FAILED already; a SUCCEEDED result .*"),
    result_case("job_id_250kb", "SUCCEEDED", {"job_id": HUGE},
                r"bad export result: job_id 'jjj+\.\.\. \(250000 characters\) is not a Job name "
                r"or id: .*"),
    # -- class 10: tracebacks instead of one line ---------------------------------------------
    Case(name="queue_file_corrupt_export_worker", group=G, setup=_corrupt_queues,
         command=["export-worker", "--once"], exit_code=2,
         message=QUEUE_FILE + r"; move it aside .*"),
    Case(name="queue_file_corrupt_submit", group=G, setup=_corrupt_queues,
         command=_submit_photo, exit_code=2, message=QUEUE_FILE + r"; move it aside .*",
         check=_no_raw_objects),
    Case(name="export_message_nested_100000_deep", group=G, setup=queued(DEEP),
         command=WORKER_LOGGED, exit_code=0,
         message=r"ERROR receipt_cloud\.worker: message \S+ \(receive 1\): unexpected failure, "
                 r"released for redelivery: export message is nested too deeply to be one"),
    Case(name="ocr_job_message_nested_100000_deep", group=G, command=_ocr_job(DEEP),
         exit_code=2, message=r"error: OCR job message is nested too deeply to be a JSON object"),
    Case(name="ocr_job_message_job_id_250kb", group=G,
         command=_ocr_job({"image_id": str(uuid.UUID(int=1)), "job_id": HUGE}), exit_code=2,
         message=r"error: OCR job message: job_id 'jjj+\.\.\. \(250000 characters\) is not a "
                 r"UUID"),
    # -- class 11: start_training validation gaps ----------------------------------------------
    Case(name="start_training_model_size_gigantic", group=G,
         command=start({"job_name": "layoutlm-a", "hyperparameters": {"model_size": "gigantic"}}),
         exit_code=2, message=r"error: hyperparameter model_size must be one of base, tiny, got "
                              r"'gigantic'"),
    Case(name="start_training_init_layers_0", group=G,
         command=start({"job_name": "layoutlm-a", "hyperparameters": {"init_layers": 0}}),
         exit_code=2, message=r"error: hyperparameter init_layers must be an integer in "
                              r"\[1, 48\], got 0"),
    Case(name="start_training_init_layers_of_a_tiny_model_from_scratch", group=G,
         command=start({"job_name": "layoutlm-a",
                        "hyperparameters": {"init_layers": 4, "model_size": "tiny"}}),
         exit_code=2, message=r"error: hyperparameter init_layers keeps layers of a warm start: "
                              r"use model_size base \(the default\) or name the checkpoint in "
                              r"init_from"),
    Case(name="start_training_key_lexicon_maybe", group=G,
         command=start({"job_name": "layoutlm-a", "hyperparameters": {"key_lexicon": "maybe"}}),
         exit_code=2, message=r"error: hyperparameter key_lexicon must be one of fit, none, got "
                              r"'maybe'"),
    Case(name="start_training_label_merges_unknown_keys", group=G,
         command=start({"job_name": "layoutlm-a",
                        "hyperparameters": {"label_merges": {"total": 1}}}),
         exit_code=2, message=r"error: hyperparameter label_merges must be an object .*"),
    Case(name="start_training_warmup_ratio_5", group=G,
         command=start({"job_name": "layoutlm-a", "hyperparameters": {"warmup_ratio": 5}}),
         exit_code=2,
         message=r"error: hyperparameter warmup_ratio must be a number in \[0, 1\), got 5"),
    Case(name="start_training_dev_ratio_1", group=G,
         command=start({"job_name": "layoutlm-a", "hyperparameters": {"dev_ratio": 1.0}}),
         exit_code=2,
         message=r"error: hyperparameter dev_ratio must be a number in \[0, 1\), got 1\.0"),
    Case(name="start_training_epochs_1e300", group=G,
         command=start({"job_name": "layoutlm-a", "hyperparameters": {"epochs": 1e300}}),
         exit_code=2, message=r"error: hyperparameter epochs must be an integer in \[1, 1000\], "
                              r"got 1e\+300"),
    Case(name="start_training_name_64_characters", group=G,
         command=start({"job_name": "layoutlm-" + "a" * 55}), exit_code=2,
         message=r"error: job_name 'layoutlm-a{55}' is not allowed: use 1-63 letters, .*"),
    Case(name="start_training_name_ends_in_newline", group=G,
         command=start({"job_name": "layoutlm-a\n"}), exit_code=2,
         message=r"error: job_name 'layoutlm-a\\n' is not allowed: use 1-63 letters, .*"),
    Case(name="start_training_name_250kb", group=G, command=start({"job_name": HUGE}),
         exit_code=2, message=r"error: job_name 'jjj+\.\.\. \(250000 characters\) is not "
                              r"allowed: .*"),
    Case(name="start_training_init_from_dot_dot", group=G,
         command=start({"job_name": "layoutlm-a", "init_from": "s3://runs-corpus/../other/x"}),
         exit_code=2, message=r"error: init_from must be an s3:// prefix inside the runs bucket "
                              r".*\(it has a '\.\.' segment\)"),
]  # fmt: skip
