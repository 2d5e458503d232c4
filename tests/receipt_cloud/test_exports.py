"""Export records, messages and the two export Lambdas, on the local backends and on moto (HTTP).

Torch-free: nothing here exports a model (tests/receipt_layoutlm/test_export_worker.py does).
"""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from pathlib import Path

import boto3
import pytest

from receipt_cloud.exports import (
    BadExportMessageError,
    ExportRequest,
    ExportStateError,
    apply_export_result,
    claim_export,
    create_pending_export,
    finish_export,
    list_exports,
    parse_result,
    release_export,
    result_of,
    touch_export,
)
from receipt_cloud.handlers import auto_export, export_results
from receipt_cloud.settings import resolve_settings
from receipt_dynamo import EntityNotFoundError, ExportStatus, Job, JobStatus


# The aws environment is a moto stack per test: slow (make test); local keeps every rule in
# test-fast.
@pytest.fixture(params=["local", pytest.param("aws", marks=[pytest.mark.aws, pytest.mark.slow])])
def settings(request: pytest.FixtureRequest, tmp_path: Path):
    """A whole environment: local (SQLite, directory, SQLite queues) or AWS on the moto server."""
    if request.param == "local":
        return resolve_settings("local", data_dir=tmp_path / "home", environ={})
    return request.getfixturevalue("aws_stack")


def _job(store, name: str = "layoutlm-a", **results) -> Job:
    job = Job(
        job_id=str(uuid.uuid4()),
        name=name,
        status=JobStatus.SUCCEEDED,
        results=results,
        tags={},
    )
    store.add_job(job)
    return job


def _request(job: str = "layoutlm-a", **changes) -> ExportRequest:
    fields = {
        "export_id": str(uuid.uuid4()),
        "job_id": job,
        "model_s3_uri": "s3://runs/runs/layoutlm-a/best",
        "quantize": "float16",
        "output_s3_prefix": "s3://bundles/bundles/layoutlm-a/x",
    }
    return ExportRequest.parse(fields | changes)


# -- messages ---------------------------------------------------------------------------------

GOOD = {
    "export_id": "6b52c290-afa4-4b28-9132-92ecaa2b573e",
    "job_id": "layoutlm-a",
    "model_s3_uri": "s3://b/runs/layoutlm-a/checkpoint-500/",
    "quantize": "int8",
    "output_s3_prefix": "s3://b/bundles/layoutlm-a/6b52c290",
}


@pytest.mark.parametrize(
    ("body", "reason", "has_export_id"),
    [
        ("{not json", "not valid JSON", False),
        ("[1, 2]", "must be a JSON object", False),
        (json.dumps(GOOD | {"export_id": "42"}), "not a UUID", False),
        (json.dumps({k: v for k, v in GOOD.items() if k != "model_s3_uri"}), "model_s3_uri", True),
        (json.dumps(GOOD | {"quantize": "int2"}), "quantize 'int2'", True),
        (json.dumps(GOOD | {"job_id": ""}), "job_id is missing", True),
        (json.dumps(GOOD | {"job_id": "a#b"}), "job_id 'a#b' is not a Job name or id", True),
        (json.dumps(GOOD | {"job_id": "../x"}), "job_id '../x' is not a Job name or id", True),
        (json.dumps(GOOD | {"job_id": "a\n"}), "is not a Job name or id", True),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply", False),
        (json.dumps(GOOD | {"output_s3_prefix": 7}), "output_s3_prefix", True),
    ],
)
def test_bad_export_messages_are_refused_with_the_reason(body, reason, has_export_id) -> None:
    with pytest.raises(BadExportMessageError, match=reason) as excinfo:
        ExportRequest.parse(body)
    assert (excinfo.value.export_id == GOOD["export_id"]) is has_export_id


def test_a_good_message_round_trips() -> None:
    request = ExportRequest.parse(json.dumps(GOOD))
    assert request.to_message() == GOOD | {"model_s3_uri": GOOD["model_s3_uri"]}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": "RUNNING"}, "status"),
        ({"export_id": None}, "export_id"),
        ({"model_size_bytes": -1}, "model_size_bytes"),
        ({"export_duration_seconds": float("nan")}, "export_duration_seconds"),
    ],
)
def test_bad_result_messages_are_refused(change, reason) -> None:
    body = {"export_id": GOOD["export_id"], "job_id": "j", "status": "SUCCEEDED"} | change
    with pytest.raises(BadExportMessageError, match=reason):
        parse_result(body)


# -- records ----------------------------------------------------------------------------------


def test_claim_moves_pending_to_running_once(settings) -> None:
    store = settings.open_store()
    request = _request()
    create_pending_export(store, request)
    outcome, running = claim_export(store, request, stale_after=60)
    assert outcome == "claimed" and running.status == ExportStatus.RUNNING
    assert claim_export(store, request, stale_after=60)[0] == "busy"  # a live worker has it
    assert claim_export(store, request, stale_after=0)[0] == "claimed"  # its worker died
    done = finish_export(store, request.export_id, status="SUCCEEDED", bundle_s3_uri="s3://b/x")
    assert claim_export(store, request, stale_after=60) == ("finished", done)


def test_concurrent_claims_have_exactly_one_winner(settings) -> None:
    store = settings.open_store()
    request = _request()
    create_pending_export(store, request)
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def claim() -> None:
        barrier.wait()
        outcomes.append(claim_export(settings.open_store(), request, stale_after=60)[0])

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["busy", "busy", "busy", "claimed"]


def test_a_message_without_a_record_creates_it_running(settings) -> None:
    store = settings.open_store()
    request = _request()
    outcome, export = claim_export(store, request, stale_after=60)
    assert outcome == "claimed" and export.job_id == "layoutlm-a"
    assert store.get_export_job(request.export_id).status == ExportStatus.RUNNING


def test_release_and_touch_need_the_claim(settings) -> None:
    from receipt_cloud.exports import LostClaimError

    store = settings.open_store()
    request = _request()
    _, running = claim_export(store, request, stale_after=60)
    touched = touch_export(store, running)
    assert touched.updated_at > running.updated_at
    assert release_export(store, running).status == ExportStatus.PENDING
    with pytest.raises(LostClaimError):
        touch_export(store, running)


def test_a_succeeded_export_is_never_turned_failed(settings) -> None:
    store = settings.open_store()
    request = _request()
    claim_export(store, request, stale_after=60)
    finish_export(store, request.export_id, status="SUCCEEDED", bundle_s3_uri="s3://b/x")
    again = finish_export(store, request.export_id, status="FAILED", error_message="late")
    assert again.status == ExportStatus.SUCCEEDED and again.error_message is None


def _finished(store, status: str):
    request = _request()
    claim_export(store, request, stale_after=60)
    fields = {"bundle_s3_uri": request.bundle_uri, "model_size_bytes": 7}
    if status == "FAILED":
        fields = {"error_message": "parity refused"}
    return finish_export(store, request.export_id, status=status, **fields)


@pytest.mark.parametrize(
    ("finished", "late"),
    [
        ("SUCCEEDED", {"bundle_s3_uri": "s3://evil/bundle", "model_size_bytes": 1}),
        ("SUCCEEDED", {"model_size_bytes": 8}),
        ("SUCCEEDED", {"status": "FAILED", "error_message": "late failure"}),
        ("FAILED", {"status": "SUCCEEDED", "error_message": None}),
        ("FAILED", {"error_message": "another reason"}),
    ],
)
def test_a_finished_export_never_changes(settings, finished, late) -> None:
    store = settings.open_store()
    _job(store)
    export = _finished(store, finished)
    with pytest.raises(ExportStateError, match="a finished export's record never changes"):
        apply_export_result(store, result_of(export) | late)
    assert store.get_export_job(export.export_id) == export
    apply_export_result(store, result_of(export))  # the same result again is fine
    assert store.get_export_job(export.export_id) == export


def test_results_follow_the_state_machine(settings) -> None:
    store = settings.open_store()
    _job(store)
    pending = create_pending_export(store, _request())
    forged = result_of(pending) | {"status": "SUCCEEDED",
                                   "bundle_s3_uri": pending.output_s3_prefix}
    with pytest.raises(ExportStateError, match="is PENDING: it cannot become SUCCEEDED"):
        apply_export_result(store, forged)
    assert store.get_export_job(pending.export_id) == pending
    request = _request()
    _, running = claim_export(store, request, stale_after=60)
    elsewhere = result_of(running) | {"status": "SUCCEEDED", "bundle_s3_uri": "s3://evil/x"}
    with pytest.raises(ExportStateError, match="must name the record's own bundle"):
        apply_export_result(store, elsewhere)
    assert store.get_export_job(running.export_id) == running
    # A result that finishes a RUNNING export (a worker that only reports) is applied once.
    own = {"status": "SUCCEEDED", "bundle_s3_uri": request.bundle_uri}
    done = apply_export_result(store, result_of(running) | own)
    assert done.status == ExportStatus.SUCCEEDED
    assert done.bundle_s3_uri == request.bundle_uri


def test_concurrent_results_finish_an_export_once(settings) -> None:
    store = settings.open_store()
    _job(store)
    request = _request()
    _, running = claim_export(store, request, stale_after=60)
    results = [
        result_of(running) | {"status": "SUCCEEDED", "bundle_s3_uri": request.bundle_uri},
        result_of(running) | {"status": "FAILED", "error_message": "a forged failure"},
    ] * 3
    outcomes: list[str] = []

    def apply(result: dict) -> None:
        try:
            apply_export_result(settings.open_store(), result)
            outcomes.append(result["status"])
        except ExportStateError:
            outcomes.append("refused")

    threads = [threading.Thread(target=apply, args=(r,)) for r in results]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = store.get_export_job(request.export_id).status.value
    # The first result to land wins; the same result again agrees, the other is refused.
    assert sorted(outcomes) == sorted([final] * 3 + ["refused"] * 3), outcomes


def test_results_lambda_refuses_a_late_result_for_a_finished_export(settings) -> None:
    store = settings.open_store()
    _job(store)
    export = _finished(store, "SUCCEEDED")
    late = result_of(export) | {"bundle_s3_uri": "s3://evil/bundle", "model_size_bytes": 1}
    event = {"Records": [{"messageId": "m-late", "body": json.dumps(late)},
                         {"messageId": "m-same", "body": json.dumps(result_of(export))}]}
    out = export_results.handler(event, None, settings=settings)
    assert out == {"batchItemFailures": [{"itemIdentifier": "m-late"}]}
    assert store.get_export_job(export.export_id) == export


def test_results_stamp_the_job_and_list_by_name_or_id(settings) -> None:
    store = settings.open_store()
    job = _job(store, best_checkpoint_s3_path="s3://r/best")
    first, second = _request(), _request(job=job.job_id)  # one names the job by id
    for request in (first, second):
        claim_export(store, request, stale_after=60)
    finished = finish_export(
        store, first.export_id, status="SUCCEEDED", bundle_s3_uri="s3://b/1", model_size_bytes=9
    )
    apply_export_result(store, result_of(finished))
    apply_export_result(store, result_of(finished))  # idempotent
    failed = finish_export(store, second.export_id, status="FAILED", error_message="boom")
    apply_export_result(store, result_of(failed))
    results = store.get_job(job.job_id).results
    assert results["best_checkpoint_s3_path"] == "s3://r/best"  # kept
    assert results["exports"][first.export_id]["status"] == "SUCCEEDED"
    assert results["exports"][second.export_id]["error_message"] == "boom"
    assert results["latest_export"]["export_id"] == first.export_id
    for ref in (job.name, job.job_id):
        assert {e.export_id for e in list_exports(store, job=ref)} == {
            first.export_id,
            second.export_id,
        }
    assert [e.export_id for e in list_exports(store, status="failed")] == [second.export_id]


def test_concurrent_stamps_on_one_job_lose_nothing(settings) -> None:
    store = settings.open_store()
    job = _job(store)
    exports = []
    for _ in range(6):
        request = _request()
        claim_export(store, request, stale_after=60)
        exports.append(finish_export(store, request.export_id, status="SUCCEEDED"))
    threads = [
        threading.Thread(target=apply_export_result, args=(settings.open_store(), result_of(e)))
        for e in exports
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(store.get_job(job.job_id).results["exports"]) == {e.export_id for e in exports}


# -- the auto-export Lambda -------------------------------------------------------------------


def _event(name: str, status: str = "Completed", arn: str | None = None) -> dict:
    detail = {"TrainingJobName": name, "TrainingJobStatus": status}
    if arn:
        detail["TrainingJobArn"] = arn
    return {"detail-type": "SageMaker Training Job State Change", "detail": detail}


def test_completed_job_gets_a_pending_export_and_a_message(settings) -> None:
    store = settings.open_store()
    job = _job(store, "layoutlm-done", best_checkpoint_s3_path="s3://r/runs/layoutlm-done/best")
    store.update_job(dataclasses.replace(job, tags={"coreml-quantize": "int8"}))
    out = auto_export.handler(_event("layoutlm-done"), None, settings=settings)
    message = out["queued"]
    [received] = settings.open_queue("coreml_export_jobs").receive(wait_seconds=2)
    assert received.json() == message
    assert message["job_id"] == "layoutlm-done" and message["quantize"] == "int8"
    assert message["model_s3_uri"] == "s3://r/runs/layoutlm-done/best"
    assert message["output_s3_prefix"] == (
        f"{settings.bundles_uri}/bundles/layoutlm-done/{message['export_id']}"
    )
    record = store.get_export_job(message["export_id"])
    assert record.status == ExportStatus.PENDING and record.quantize.value == "int8"


@pytest.mark.parametrize(
    ("event", "skipped"),
    [
        (_event("layoutlm-x", "Failed"), "is Failed"),
        (_event("layoutlm-x", "InProgress"), "is InProgress"),
        (_event("other-job"), "does not start with 'layoutlm-'"),
    ],
)
def test_events_that_are_not_for_auto_export_are_skipped(settings, event, skipped) -> None:
    assert skipped in auto_export.handler(event, None, settings=settings)["skipped"]
    assert settings.open_queue("coreml_export_jobs").receive() == []


def test_unknown_job_and_job_without_checkpoint_raise(settings) -> None:
    with pytest.raises(auto_export.AutoExportError, match="no Job named 'layoutlm-ghost'"):
        auto_export.handler(_event("layoutlm-ghost"), None, settings=settings)
    _job(settings.open_store(), "layoutlm-nockpt")
    with pytest.raises(auto_export.AutoExportError, match="no best_checkpoint_s3_path"):
        auto_export.handler(_event("layoutlm-nockpt"), None, settings=settings)
    assert settings.open_queue("coreml_export_jobs").receive() == []
    assert list_exports(settings.open_store()) == []


@pytest.mark.aws
def test_skip_tag_is_read_with_list_tags(aws_env, tmp_path: Path) -> None:
    sagemaker = boto3.client("sagemaker")
    arns = {}
    for name, tags in [("layoutlm-skip", {"skip-coreml-export": "true"}), ("layoutlm-go", {})]:
        arns[name] = sagemaker.create_training_job(
            TrainingJobName=name,
            AlgorithmSpecification={"TrainingImage": "img", "TrainingInputMode": "File"},
            RoleArn="arn:aws:iam::123456789012:role/training",
            OutputDataConfig={"S3OutputPath": "s3://b/out"},
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
            StoppingCondition={"MaxRuntimeInSeconds": 60},
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )["TrainingJobArn"]
    settings = resolve_settings(
        "local",
        data_dir=tmp_path,
        environ={},
        overrides={"region": "us-east-1", "endpoint_url": aws_env},
    )
    _job(settings.open_store(), "layoutlm-go", best_checkpoint_s3_path="file:///x/best")
    skipped = auto_export.handler(
        _event("layoutlm-skip", arn=arns["layoutlm-skip"]), None, settings=settings
    )
    assert "skip-coreml-export: true" in skipped["skipped"]
    queued = auto_export.handler(
        _event("layoutlm-go", arn=arns["layoutlm-go"]), None, settings=settings
    )
    assert queued["queued"]["job_id"] == "layoutlm-go"


def test_local_train_contract(settings) -> None:
    _job(settings.open_store(), "layoutlm-hook", best_checkpoint_s3_path="s3://r/best")
    message = auto_export.start_export_for_job(job_name="layoutlm-hook", settings=settings)
    assert message["quantize"] == "float16"
    with pytest.raises(auto_export.AutoExportError, match="quantize 'int3'"):
        auto_export.start_export_for_job(
            job_name="layoutlm-hook", settings=settings, quantize="int3"
        )


# -- the export results Lambda ----------------------------------------------------------------


def test_results_batch_reports_exactly_the_bad_records(settings) -> None:
    store = settings.open_store()
    job = _job(store)
    good = _request()
    claim_export(store, good, stale_after=60)
    result = result_of(
        finish_export(store, good.export_id, status="SUCCEEDED", bundle_s3_uri="s3://b")
    )
    orphan = result | {"export_id": str(uuid.uuid4())}  # no such export record
    event = {
        "Records": [
            {"messageId": "m-good", "body": json.dumps(result)},
            {"messageId": "m-json", "body": "{oops"},
            {"messageId": "m-orphan", "body": json.dumps(orphan)},
        ]
    }
    out = export_results.handler(event, None, settings=settings)
    assert out == {
        "batchItemFailures": [{"itemIdentifier": "m-json"}, {"itemIdentifier": "m-orphan"}]
    }
    assert store.get_job(job.job_id).results["exports"][good.export_id]["status"] == "SUCCEEDED"
    with pytest.raises(EntityNotFoundError):
        store.get_export_job(orphan["export_id"])


def test_lambda_handlers_read_their_settings_from_the_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RECEIPTS_ENV", "local")
    monkeypatch.setenv("RECEIPTS_HOME", str(tmp_path / "lambda-home"))
    settings = resolve_settings("local", data_dir=tmp_path / "lambda-home", environ={})
    _job(settings.open_store(), "layoutlm-env", best_checkpoint_s3_path="s3://r/best")
    queued = auto_export.handler(_event("layoutlm-env"), None)["queued"]
    [message] = settings.open_queue("coreml_export_jobs").receive(wait_seconds=1)
    assert message.json() == queued
    assert export_results.handler({"Records": []}, None) == {"batchItemFailures": []}
