"""``export-worker`` flags (the seed's command line), ``exports list|show``, bad messages through
the CLI, and the seed-compatible ``coreml/`` mirror. No model is exported here."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from receipt_cloud.exports import ExportRequest, claim_export, create_pending_export, finish_export
from receipt_cloud.objects import LocalObjectStore
from receipt_cloud.settings import resolve_settings, settings_from_args
from receipt_layoutlm.bundles.seed_mirror import mirror_bundle_dir
from receipt_layoutlm.cli import build_parser, main


@pytest.fixture
def home(tmp_path: Path) -> list[str]:
    return ["--data-dir", str(tmp_path / "home")]


def _settings(tmp_path: Path):
    return resolve_settings("local", data_dir=tmp_path / "home", environ={})


def test_the_seed_command_line_names_the_queues() -> None:
    args = build_parser().parse_args(
        ["export-worker", "--once", "--job-queue-url", "https://sqs.us-east-1.amazonaws.com/1/jobs",
         "--results-queue-url", "https://sqs.us-east-1.amazonaws.com/1/results"]
    )  # fmt: skip
    settings = settings_from_args(args, environ={"RECEIPTS_HOME": "/tmp/x"})
    assert args.mode == "once" and args.max_receives == 3
    assert settings.coreml_export_job_queue_url == "https://sqs.us-east-1.amazonaws.com/1/jobs"
    assert settings.coreml_export_results_queue_url.endswith("/1/results")


def test_worker_export_flags_fill_an_export_options_template() -> None:
    from receipt_cloud.dataclass_flags import flag_values
    from receipt_layoutlm.cli.worker_commands import EXPORT_FLAGS, ROLLOUT_FLAGS
    from receipt_layoutlm.export import ExportOptions
    from receipt_layoutlm.export_worker import ExportWorkerOptions

    flags = (*EXPORT_FLAGS, *ROLLOUT_FLAGS)
    args = build_parser().parse_args(["export-worker"])
    left_off = ExportWorkerOptions.of(**flag_values(args, flags))
    assert left_off == ExportWorkerOptions() and left_off.template == ExportOptions("", "")
    args = build_parser().parse_args(
        ["export-worker", "--formats", "onnx", "--seq-length", "128", "--model-name", "Receipts",
         "--rollout", "never"]
    )  # fmt: skip
    given = ExportWorkerOptions.of(**flag_values(args, flags))
    assert given.rollout == "never"
    assert given.template == ExportOptions("", "", formats=("onnx",), seq_length=128,
                                           model_name="Receipts")  # fmt: skip


def test_queue_urls_also_come_from_the_long_flags_and_variables() -> None:
    args = build_parser().parse_args(
        ["export-worker", "--serve", "--coreml-export-job-queue-url", "local:///q.db#a"]
    )
    environ = {"COREML_EXPORT_RESULTS_QUEUE_URL": "local:///q.db#r", "RECEIPTS_HOME": "/tmp/x"}
    settings = settings_from_args(args, environ=environ)
    assert settings.coreml_export_job_queue_url == "local:///q.db#a"
    assert settings.coreml_export_results_queue_url == "local:///q.db#r"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--max-receives", "0"], "max_receives"),
        (["--visibility-timeout", "50000"], "visibility_timeout"),
        (["--visibility-timeout", "30", "--heartbeat-interval", "40"], "heartbeat_interval"),
    ],
)
def test_bad_worker_flags_are_one_line_errors(flags, message, home, capsys) -> None:
    assert main(["export-worker", "--once", *flags, *home]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_an_empty_queue_ends_once_at_once(home, capsys) -> None:
    assert main(["export-worker", "--once", "--wait-seconds", "0.2", *home]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["received"] == 0 and stats["stopped_by"] is None


def test_unparseable_and_incomplete_messages_through_the_cli(tmp_path, home, capsys) -> None:
    settings = _settings(tmp_path)
    jobs = settings.open_queue("coreml_export_jobs")
    jobs.send("not json at all")
    export_id = str(uuid.uuid4())
    jobs.send({"export_id": export_id, "job_id": "layoutlm-a", "quantize": "int8"})
    argv = ["export-worker", "--drain", "--max-receives", "1", "--wait-seconds", "0.2"]
    assert main([*argv, *home]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["failed"], stats["released"]) == (1, 1)
    [dead] = jobs.dead_letter_queue().receive(wait_seconds=1)  # moved by the next receive
    assert dead.body == "not json at all"
    record = settings.open_store().get_export_job(export_id)
    assert record.status.value == "FAILED" and "model_s3_uri is missing" in record.error_message
    [result] = [m.json() for m in settings.open_queue("coreml_export_results").receive()]
    assert result["status"] == "FAILED" and result["export_id"] == export_id


def _export(store, job: str, status: str | None = None, **fields) -> str:
    request = ExportRequest(
        export_id=str(uuid.uuid4()), job_ref=job, checkpoint_uri="file:///r/best",
        quantize="int8", bundle_uri="file:///b",
    )  # fmt: skip
    create_pending_export(store, request)
    if status:
        claim_export(store, request, stale_after=60)
        finish_export(store, request.export_id, status=status, **fields)
    return request.export_id


def test_exports_list_and_show(tmp_path, home, capsys) -> None:
    store = _settings(tmp_path).open_store()
    ok = _export(store, "layoutlm-a", "SUCCEEDED", bundle_s3_uri="file:///b/x", model_size_bytes=7)
    bad = _export(store, "layoutlm-a", "FAILED", error_message="parity gate refused\ntable")
    other = _export(store, "layoutlm-b")
    assert main(["exports", "list", *home]) == 0
    table = capsys.readouterr().out
    assert all(i in table for i in (ok, bad, other)) and "parity gate refused" in table
    assert "table" not in table  # only the first line of an error
    assert (
        main(["exports", "list", "--job", "layoutlm-a", "--status", "failed", "--json", *home]) == 0
    )
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line)["export_id"] == bad
    assert main(["exports", "show", ok, "--json", *home]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["bundle_s3_uri"] == "file:///b/x" and shown["model_size_bytes"] == 7
    assert main(["exports", "show", str(uuid.uuid4()), *home]) == 2
    assert "not found" in capsys.readouterr().err


class RecordingStore(LocalObjectStore):
    """A real local store that remembers the order of its writes and deletes."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.log: list[str] = []

    def put_file(self, key, path):
        self.log.append(f"put {key}")
        return super().put_file(key, path)

    def delete(self, key):
        self.log.append(f"delete {key}")
        return super().delete(key)


def _bundle(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_seed_mirror_replaces_coreml_with_manifest_last(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path / "bundles")
    first = _bundle(tmp_path / "one", {
        "LayoutLM.mlpackage/Manifest.json": "1", "vocab.txt": "a", "model.onnx": "x",
        "manifest.json": "m1",
    })  # fmt: skip
    second = _bundle(tmp_path / "two", {
        "LayoutLM.mlpackage/Manifest.json": "2", "vocab.txt": "b", "label_map.json": "{}",
        "manifest.json": "m2",
    })  # fmt: skip
    store.put_bytes("coreml/layoutlm-a/vocab.txt", b"a seed-style export under coreml/<job>/")
    mirror_bundle_dir(store, first)
    assert store.log[-1] == "put coreml/manifest.json"
    store.log.clear()
    mirror_bundle_dir(store, second)
    assert store.log[0] == "delete coreml/manifest.json"  # in flux from the first change
    assert "delete coreml/model.onnx" in store.log  # not in the new bundle
    assert store.log[-1] == "put coreml/manifest.json"
    assert sorted(store.list("coreml/")) == [
        "coreml/LayoutLM.mlpackage/Manifest.json", "coreml/label_map.json",
        "coreml/layoutlm-a/vocab.txt", "coreml/manifest.json", "coreml/vocab.txt",
    ]  # fmt: skip
    assert store.get_bytes("coreml/vocab.txt") == b"b"


def test_a_duplicate_of_an_export_running_on_a_live_worker_is_left_alone(tmp_path, home, capsys):
    settings = _settings(tmp_path)
    store = settings.open_store()
    export_id = str(uuid.uuid4())
    out = f"{settings.bundles_uri}/bundles/layoutlm-a/{export_id}"
    request = ExportRequest(
        export_id=export_id, job_ref="layoutlm-a",
        checkpoint_uri=f"{settings.runs_uri}/runs/layoutlm-a/best", quantize="float16",
        bundle_uri=out,
    )  # fmt: skip
    _, running = claim_export(store, request, stale_after=60)  # "another worker" holds it
    jobs = settings.open_queue("coreml_export_jobs")
    jobs.send(request.to_message())
    argv = ["export-worker", "--once", "--visibility-timeout", "30", "--wait-seconds", "0.5"]
    assert main([*argv, *home]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["released"], stats["failed"], stats["succeeded"]) == (1, 0, 0)
    assert store.get_export_job(request.export_id) == running  # untouched
    assert jobs.receive(wait_seconds=0.5) == []  # deferred for a visibility timeout
    bundles = settings.open_objects("bundles")
    assert not bundles.exists(f"bundles/layoutlm-a/{export_id}/manifest.json")
