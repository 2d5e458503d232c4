"""Corpus rows: poison export messages and bad export events. The worker records a FAILED
export with the reason when the message names a usable ``export_id``, leaves it to the
dead-letter queue otherwise, never crashes, and prints its stats as one JSON line; the
Lambdas refuse bad events in one line or report exactly the bad records."""

from __future__ import annotations

import json
import uuid
from typing import Any

from bad_input_harness import Case, Workspace

G = "exports"
EXPORT_ID = "6b52c290-afa4-4b28-9132-92ecaa2b573e"
GOOD = {
    "export_id": EXPORT_ID,
    "job_id": "layoutlm-a",
    "model_s3_uri": "{objects}/runs/layoutlm-a/best",  # inside the case's stores
    "quantize": "float16",
    "output_s3_prefix": f"{{objects}}/bundles/layoutlm-a/{EXPORT_ID}",
}
WORKER = ["export-worker", "--drain", "--max-receives", "1", "--wait-seconds", "0.2"]


def in_stores(ws: Workspace, body: Any) -> Any:
    """``body`` with ``{objects}`` in its strings made the case's object store directory."""
    if not isinstance(body, dict):
        return body
    objects = ws.settings().runs_uri
    return {k: v.replace("{objects}", objects) if isinstance(v, str) else v
            for k, v in body.items()}


def queued(body: Any):
    return lambda ws: ws.settings().open_queue("coreml_export_jobs").send(in_stores(ws, body))


def stats(**counts: int) -> str:
    """The worker's closing JSON line with these counts."""
    return "".join(rf'(?=.*"{name}": {value}\b)' for name, value in counts.items()) + r"\{.*\}"


def dead_lettered(body: str):
    def check(ws: Workspace, before: Any) -> None:
        assert ws.items() == before, "a message without a usable export_id changed the store"
        jobs = ws.settings().open_queue("coreml_export_jobs")
        assert [m.body for m in jobs.dead_letter_queue().receive(wait_seconds=0.5)] == [body]

    return check


def failed_with(reason: str):
    def check(ws: Workspace, _before: Any) -> None:
        settings = ws.settings()
        export = settings.open_store().get_export_job(EXPORT_ID)
        assert export.status.value == "FAILED" and reason in export.error_message
        [result] = settings.open_queue("coreml_export_results").receive(wait_seconds=0.5)
        assert result.json()["status"] == "FAILED"
        assert settings.open_queue("coreml_export_jobs").purge() == 0  # deleted, not retried

    return check


def results_batch(ws: Workspace) -> str:
    from receipt_cloud.handlers import export_results

    event = {"Records": [
        {"messageId": "m-json", "body": "{oops"},
        {"messageId": "m-status", "body": json.dumps({**GOOD, "status": "DONE"})},
        {"messageId": "m-orphan", "body": json.dumps({**GOOD, "status": "SUCCEEDED"})},
    ]}  # fmt: skip
    failures = export_results.handler(event, None, settings=ws.settings())["batchItemFailures"]
    return "batchItemFailures: " + ",".join(f["itemIdentifier"] for f in failures)


def auto_export(name: str, status: str = "Completed"):
    def command(ws: Workspace) -> str:
        from receipt_cloud.handlers import auto_export as handler

        event = {"detail": {"TrainingJobName": name, "TrainingJobStatus": status}}
        return json.dumps(handler.handler(event, None, settings=ws.settings()))

    return command


def job_without_checkpoint(ws: Workspace) -> None:
    from receipt_dynamo import Job

    ws.settings().open_store().add_job(Job(job_id=str(uuid.uuid4()), name="layoutlm-nockpt"))


CASES = [
    Case(name="export_message_not_json", group=G, setup=queued("{export_id: oops"),
         command=WORKER, exit_code=0, message=stats(released=1, failed=0),
         check=dead_lettered("{export_id: oops")),
    Case(name="export_message_export_id_not_uuid", group=G,
         setup=queued(json.dumps({**GOOD, "export_id": "42"})), command=WORKER, exit_code=0,
         message=stats(released=1, failed=0),
         check=dead_lettered(json.dumps({**GOOD, "export_id": "42"}))),
    Case(name="export_message_missing_field", group=G,
         setup=queued({k: v for k, v in GOOD.items() if k != "model_s3_uri"}), command=WORKER,
         exit_code=0, message=stats(failed=1, released=0),
         check=failed_with("model_s3_uri is missing or empty")),
    Case(name="export_message_unknown_quantize", group=G,
         setup=queued({**GOOD, "quantize": "int2"}), command=WORKER, exit_code=0,
         message=stats(failed=1), check=failed_with("quantize 'int2' is not one of")),
    Case(name="export_message_checkpoint_missing", group=G, setup=queued(GOOD), command=WORKER,
         exit_code=0, message=stats(failed=1, succeeded=0),
         check=failed_with("does not exist")),
    Case(name="export_worker_max_receives_zero", group=G,
         command=["export-worker", "--once", "--max-receives", "0"], exit_code=2,
         message=r"error: max_receives must be >= 1 or None, got 0"),
    Case(name="export_results_batch_with_bad_records", group=G, command=results_batch,
         exit_code=0, message=r"batchItemFailures: m-json,m-status,m-orphan"),
    Case(name="auto_export_unknown_job", group=G, command=auto_export("layoutlm-ghost"),
         exit_code=2, message=r"error: no Job named 'layoutlm-ghost' in .*"),
    Case(name="auto_export_job_without_best_checkpoint", group=G, setup=job_without_checkpoint,
         command=auto_export("layoutlm-nockpt"), exit_code=2,
         message=r"error: Job 'layoutlm-nockpt' has no best_checkpoint_s3_path .*"),
    Case(name="auto_export_failed_training_is_skipped", group=G,
         command=auto_export("layoutlm-x", "Failed"), exit_code=0,
         message=r'\{"skipped": "training job layoutlm-x is Failed, not Completed"\}'),
    Case(name="settings_local_and_aws_mixed", group=G,
         command=["export-worker", "--once", "--env", "local", "--job-queue-url",
                  "https://sqs.us-east-1.amazonaws.com/1/jobs"], exit_code=2,
         message=r"error: conflicting settings: --env local \(local\) and "
                 r"--coreml-export-job-queue-url \(AWS\); one command talks to one environment.*"),
    Case(name="settings_local_queue_with_s3_store", group=G,
         command=["exports", "list", "--runs-uri", "s3://runs-bucket",
                  "--coreml-export-results-queue-url", "local:///tmp/q.sqlite3#r"], exit_code=2,
         message=r"error: conflicting settings: --coreml-export-results-queue-url \(local\) "
                 r"and --runs-uri \(AWS\).*"),
    Case(name="export_worker_unknown_rollout", group=G,
         command=["export-worker", "--once", "--rollout", "sometimes"], exit_code=2,
         message=r".*--rollout: invalid choice: 'sometimes'.*"),
    Case(name="promote_rollback_without_history", group=G,
         command=["promote", "--rollback"], exit_code=2,
         message=r"error: nothing to roll back to: the promote history of \S+ holds 0 "
                 r"bundle\(s\); promote one with `layoutlm-cli promote BUNDLE_URI`"),
    Case(name="promote_without_bundle_or_rollback", group=G, command=["promote"],
         exit_code=2, message=r"error: promote takes BUNDLE_URI, or --rollback, or --history"),
    Case(name="seed_export_worker_line_without_table", group=G,
         command=["export-worker", "--once", "--job-queue-url",
                  "https://sqs.us-east-1.amazonaws.com/1/jobs", "--results-queue-url",
                  "https://sqs.us-east-1.amazonaws.com/1/results"], exit_code=2,
         message=r"error: missing settings for env 'aws':"),
]
